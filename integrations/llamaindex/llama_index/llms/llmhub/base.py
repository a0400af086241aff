"""``RoleLLM``: a LlamaIndex ``FunctionCallingLLM`` that calls whatever model an llmhub role names.

The public methods carry LlamaIndex's callback decorators and delegate to ``_chat``,
``_achat``, ``_stream_chat`` and ``_astream_chat`` (the only I/O); the completion forms wrap
those with LlamaIndex's chat-to-completion adapters. Conversions live in ``utils``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.bridge.pydantic import Field
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUTS
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.types import Model, PydanticProgramMode
from llama_index_instrumentation import get_dispatcher

from llmhub_runtime.adapter_core import merge_params, refuse_call_kwargs

from ._role import RoleComponent
from .utils import (
    StreamAccumulator,
    chat_response_from_completion,
    resolve_tool_choice,
    response_format_for,
    to_openai_message_dicts,
    to_openai_tools,
    tool_selections,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator

    from llama_index.core.program.utils import FlexibleModel
    from llama_index.core.prompts import PromptTemplate
    from llama_index.core.tools.types import BaseTool

__all__ = ["RoleLLM"]

dispatcher = get_dispatcher(__name__)

_MAX_TOKENS_KEYS = ("max_tokens", "max_completion_tokens", "max_output_tokens")


class RoleLLM(RoleComponent, FunctionCallingLLM):
    """A LlamaIndex LLM for an llmhub role: the model, provider and params come from ``llmhub.yaml``.

    >>> from llama_index.core import Settings
    >>> Settings.llm = RoleLLM("llm.inference")                  # doctest: +SKIP
    >>> RoleLLM("llm.inference", temperature=0.0).complete("Hi")  # doctest: +SKIP

    Construction reads nothing: the config is loaded, the role resolved and credentials read on
    first use. Without ``hub=``, the process-wide ``LLMHub.shared(config_path)`` is used (found
    once per instance), so every model built for the same config shares one hub and its HTTP
    clients; ``config_path`` defaults to ``$LLMHUB_CONFIG``, read at construction.
    ``hooks=[...]`` adds llmhub hooks to that hub (they see every call made through it). Extra
    keyword arguments (``temperature=``, ``max_tokens=``, ...) are params that win over the role's
    own; a ``None`` removes a configured param. Keys, endpoints, client settings and models are
    refused: they belong in llmhub.yaml. Errors from the hub surface unchanged (``LLMHubError``
    subclasses). ``to_dict()`` carries ``llmhub_target`` (what the role resolves to), so caches
    keyed by it see a model changed in llmhub.yaml.
    """

    context_window: int | None = Field(
        default=None, gt=0, description="Tokens the model accepts; None: the role's context_window, else a default."
    )
    is_function_calling_model: bool = Field(
        default=True, description="Whether the role's model takes tools (set False for models that do not)."
    )

    @classmethod
    def class_name(cls) -> str:
        return "llmhub_role_llm"

    @property
    def metadata(self) -> LLMMetadata:
        """Model name, context window and output budget of the role (resolved on access)."""
        hub = self.hub
        call = hub.resolve(self.role)
        role_config = hub.config.roles.get(self.role)
        context_window = self.context_window or (role_config.context_window if role_config else None)
        return LLMMetadata(
            context_window=context_window or DEFAULT_CONTEXT_WINDOW,
            num_output=_num_output(merge_params(call.params, self.params_override)),
            is_chat_model=True,
            is_function_calling_model=self.is_function_calling_model,
            model_name=call.model,
            system_role=MessageRole.SYSTEM,
        )

    def to_payload(self) -> dict[str, Any]:
        """What callbacks and instrumentation see: the role and its metadata (never a key)."""
        return {"class_name": self.class_name(), "role": self.role, **self.metadata.model_dump()}

    # --- chat and completion ------------------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream_chat(messages, **kwargs)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return chat_to_completion_decorator(self._chat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        return stream_chat_to_completion_decorator(self._stream_chat)(prompt, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        return await self._astream_chat(messages, **kwargs)

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return await achat_to_completion_decorator(self._achat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseAsyncGen:
        return await astream_chat_to_completion_decorator(self._astream_chat)(prompt, **kwargs)

    # --- the only I/O -------------------------------------------------------------------------

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        completion = self.hub.completion(self.role, to_openai_message_dicts(messages), **self._call_kwargs(kwargs))
        return chat_response_from_completion(completion)

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        completion = await self.hub.acompletion(
            self.role, to_openai_message_dicts(messages), **self._call_kwargs(kwargs)
        )
        return chat_response_from_completion(completion)

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        chunks = cast(
            "Iterator[Any]",
            self.hub.completion(self.role, to_openai_message_dicts(messages), stream=True, **self._call_kwargs(kwargs)),
        )

        def gen() -> ChatResponseGen:
            accumulator = StreamAccumulator()
            try:
                for chunk in chunks:
                    yield accumulator.add(chunk)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()

        return gen()

    async def _astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        chunks = cast(
            "AsyncIterator[Any]",
            await self.hub.acompletion(
                self.role, to_openai_message_dicts(messages), stream=True, **self._call_kwargs(kwargs)
            ),
        )

        async def gen() -> ChatResponseAsyncGen:
            accumulator = StreamAccumulator()
            try:
                async for chunk in chunks:
                    yield accumulator.add(chunk)
            finally:
                aclose = getattr(chunks, "aclose", None)
                if aclose is not None:
                    await aclose()

        return gen()

    def _call_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        refuse_call_kwargs(kwargs, type(self).__name__, self.role)
        return {"params_override": self.params_override or None, **kwargs}

    # --- tools --------------------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The ``chat`` arguments offering ``tools``: OpenAI tool specs, ``tool_choice``, parallelism."""
        specs = to_openai_tools(tools)
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        prepared: dict[str, Any] = {"messages": messages}
        if specs:
            prepared["tools"] = specs
            prepared["tool_choice"] = resolve_tool_choice(tool_choice, tool_required)
            prepared["parallel_tool_calls"] = allow_parallel_tool_calls
        return {**prepared, **kwargs}

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """Keep only the first tool call unless parallel calls were allowed."""
        if not allow_parallel_tool_calls:
            calls = [block for block in response.message.blocks if isinstance(block, ToolCallBlock)]
            if len(calls) > 1:
                response.message.blocks = [
                    block for block in response.message.blocks if not isinstance(block, ToolCallBlock)
                ] + [calls[0]]
        return response

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        """The tool calls the model made in ``response``."""
        return tool_selections(response, error_on_no_tool_call=error_on_no_tool_call)

    # --- structured output --------------------------------------------------------------------
    # In the default program mode the schema goes out as ``response_format`` (json_schema), which
    # any-llm maps for each provider; other modes (FUNCTION: a forced tool call, LLM: text
    # parsing) use LlamaIndex's own programs.

    def _native_structured(self) -> bool:
        return self.pydantic_program_mode == PydanticProgramMode.DEFAULT

    def _structured_call(
        self, output_cls: type[Model], prompt: PromptTemplate, llm_kwargs: dict[str, Any] | None, prompt_args: Any
    ) -> tuple[list[ChatMessage], dict[str, Any]]:
        messages = self._extend_messages(prompt.format_messages(**prompt_args))
        kwargs = {key: value for key, value in (llm_kwargs or {}).items() if key != "tool_choice"}
        kwargs["response_format"] = response_format_for(output_cls)
        return messages, kwargs

    @dispatcher.span
    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """An instance of ``output_cls`` predicted from ``prompt``."""
        if not self._native_structured():
            predicted: Model = super().structured_predict(
                output_cls, prompt, llm_kwargs=_require_tool(llm_kwargs), **prompt_args
            )
            return predicted
        messages, kwargs = self._structured_call(output_cls, prompt, llm_kwargs, prompt_args)
        response = self.chat(messages, **kwargs)
        return _parse(output_cls, response)

    @dispatcher.span
    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Async twin of ``structured_predict``."""
        if not self._native_structured():
            predicted: Model = await super().astructured_predict(
                output_cls, prompt, llm_kwargs=_require_tool(llm_kwargs), **prompt_args
            )
            return predicted
        messages, kwargs = self._structured_call(output_cls, prompt, llm_kwargs, prompt_args)
        response = await self.achat(messages, **kwargs)
        return _parse(output_cls, response)

    def _structured_stream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None, None]:
        if not self._native_structured():
            return super()._structured_stream_call(output_cls, prompt, _require_tool(llm_kwargs), **prompt_args)
        from llama_index.core.program.streaming_utils import process_streaming_content_incremental

        messages, kwargs = self._structured_call(output_cls, prompt, llm_kwargs, prompt_args)
        responses = self.stream_chat(messages, **kwargs)

        def gen() -> Generator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None, None]:
            current: Any = None
            for response in responses:
                current = process_streaming_content_incremental(response, output_cls, current)
                yield current

        return gen()

    async def _structured_astream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None]:
        if not self._native_structured():
            return await super()._structured_astream_call(output_cls, prompt, _require_tool(llm_kwargs), **prompt_args)
        from llama_index.core.program.streaming_utils import process_streaming_content_incremental

        messages, kwargs = self._structured_call(output_cls, prompt, llm_kwargs, prompt_args)
        responses = await self.astream_chat(messages, **kwargs)

        async def gen() -> AsyncGenerator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None]:
            current: Any = None
            async for response in responses:
                current = process_streaming_content_incremental(response, output_cls, current)
                yield current

        return gen()


def _parse(output_cls: type[Model], response: ChatResponse) -> Model:
    """The JSON answer validated into ``output_cls`` (pydantic's ``ValidationError`` if it does not fit)."""
    parsed: Model = output_cls.model_validate_json(response.message.content or "")
    return parsed


def _require_tool(llm_kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """LlamaIndex's function-calling program, with the tool call forced unless told otherwise."""
    kwargs = dict(llm_kwargs or {})
    kwargs.setdefault("tool_choice", "required")
    return kwargs


def _num_output(merged: dict[str, Any]) -> int:
    """The output budget: the first ``max_tokens``-like param in effect (override over role)."""
    for key in _MAX_TOKENS_KEYS:
        value = merged.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return DEFAULT_NUM_OUTPUTS
