"""``RoleChatModel``: a LangChain chat model that calls an llmhub role.

One call, like langchain-anthropic's ``ChatAnthropic``:

1. ``_get_request_payload``: LangChain messages and call kwargs → OpenAI-format message dicts
   and hub kwargs (module-level converters, as in langchain-openai);
2. ``_create`` / ``_acreate``: the only I/O, ``hub.completion`` / ``hub.acompletion``;
3. ``_format_output``: any-llm's ``ChatCompletion`` → ``ChatResult`` (streams: ``_StreamState``).

Errors raised by the hub (``llmhub_runtime.errors.LLMHubError`` subclasses) pass through unchanged.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolMessage,
    is_data_content_block,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.block_translators.openai import convert_to_openai_data_block
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.output_parsers import JsonOutputKeyToolsParser, JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import PydanticToolsParser, make_invalid_tool_call, parse_tool_call
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_function, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from llmhub_runtime import ResolvedCall
from llmhub_runtime.adapter_core import fingerprint_key, merge_params, refuse_call_kwargs
from llmhub_runtime.errors import LLMHubError, ProviderServerError
from pydantic import Field

from ._hub import RoleAdapter

if TYPE_CHECKING:
    from any_llm.types.completion import ChatCompletion, ChatCompletionChunk, CompletionUsage

__all__ = ["RoleChatModel"]

# Assistant content blocks that never go back to the provider (tool calls travel in `tool_calls`).
_DROPPED_ASSISTANT_BLOCKS = frozenset({"tool_use", "tool_call", "thinking", "redacted_thinking", "reasoning"})


class RoleChatModel(RoleAdapter, BaseChatModel):
    """A chat model that calls the llmhub role ``role`` (provider, model and params come from llmhub.yaml).

    >>> from langchain_llmhub import RoleChatModel
    >>> llm = RoleChatModel("llm.inference")                 # nothing is read until the first call
    >>> llm.invoke("Say hello").content                       # doctest: +SKIP

    Which hub: ``hub=`` if given, else ``LLMHub.shared(config_path)``; ``config_path`` defaults to
    ``$LLMHUB_CONFIG`` (read at construction), else ``./llmhub.yaml`` (at the first call). Models
    for the same config file share one hub and its HTTP clients. ``hooks=[...]`` adds llmhub hooks
    to that hub (they see every call made through it).

    ``temperature``, ``max_tokens``, ``timeout``, ``stop`` and ``model_kwargs`` (any other keyword
    lands there too) override the role's params for every call. A param left unset keeps the
    role's value; set to ``None`` it is removed (nothing is sent), as in the hub's call layers.
    ``max_retries`` is accepted for LangChain compatibility but is not applied per call: retries
    and fallbacks are the role's ``retry:`` / ``fallbacks:`` policy in llmhub.yaml.

    LangChain caches (``set_llm_cache``, ``cache=``) key answers by what the role resolves to
    (each target's provider, model, api_base and merged params, and the env), so a model changed
    in llmhub.yaml, or another config with the same role name, never gets an old answer.
    """

    temperature: float | None = None
    max_tokens: int | None = Field(default=None, alias="max_completion_tokens")
    timeout: float | None = Field(default=None, description="Seconds per attempt (overrides the config's).")
    max_retries: int | None = Field(default=None, description="Not applied: retries are set in llmhub.yaml.")
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    streaming: bool = Field(default=False, description="Stream under invoke() too (callbacks see tokens).")

    _param_fields: ClassVar[Mapping[str, str]] = {
        "temperature": "temperature",
        "max_tokens": "max_tokens",
        "max_completion_tokens": "max_tokens",
        "timeout": "timeout",
        "stop": "stop",
        "stop_sequences": "stop",
    }

    # --- LangChain plumbing ---------------------------------------------------------------

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Serializable with ``dumpd``/``load`` (the hub itself is not serialized)."""
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """``["langchain_llmhub", "chat_models"]``."""
        return ["langchain_llmhub", "chat_models"]

    @property
    def _llm_type(self) -> str:
        return "llmhub-chat"

    @property
    def _default_params(self) -> dict[str, Any]:
        """The params this instance lays over the role's on every call (a ``None`` value removes one)."""
        fields = {"temperature": self.temperature, "max_tokens": self.max_tokens, "timeout": self.timeout}
        params: dict[str, Any] = {key: value for key, value in fields.items() if value is not None}
        if self.stop:  # stop=[] keeps the role's stop sequences
            params["stop"] = self.stop
        return {**params, **self.model_kwargs}

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"role": self.role, **self._default_params}

    def _resolved(self) -> ResolvedCall | None:
        """What the role calls, or None when the config cannot say (the call itself will raise)."""
        try:
            return self._client.resolve(self.role)
        except LLMHubError:
            return None

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        """LangSmith params: the resolved provider kind and model, and the effective sampling params."""
        call = self._resolved()
        params = merge_params(call.params if call else {}, self._default_params, kwargs)
        model = kwargs.get("model")
        ls_params = LangSmithParams(
            ls_provider=call.kind if call else "llmhub",
            ls_model_name=model if isinstance(model, str) else (call.model if call else self.role),
            ls_model_type="chat",
        )
        temperature = params.get("temperature")
        if isinstance(temperature, int | float) and not isinstance(temperature, bool):
            ls_params["ls_temperature"] = float(temperature)
        max_tokens = params.get("max_tokens", params.get("max_completion_tokens"))
        if isinstance(max_tokens, int) and not isinstance(max_tokens, bool):
            ls_params["ls_max_tokens"] = max_tokens
        stops = stop or params.get("stop")
        if isinstance(stops, str):
            stops = [stops]
        if stops:
            ls_params["ls_stop"] = list(stops)
        return ls_params

    def _get_llm_string(self, stop: list[str] | None = None, **kwargs: Any) -> str:
        """LangChain's cache key, plus what the role resolves to (``adapter_core.fingerprint_key``).

        Without it the key would be the role name and config path: a model changed in llmhub.yaml,
        or a second hub with the same role name, would be answered from the cache. A role that
        cannot be resolved raises here the error its call would raise.
        """
        resolved = fingerprint_key(self._client.resolve(self.role), self._default_params)
        return f"{super()._get_llm_string(stop=stop, **kwargs)}---llmhub:{resolved}"

    # --- one call: payload → hub → output ----------------------------------------------------

    def _get_request_payload(
        self, messages: Sequence[BaseMessage], *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The hub call's arguments: ``messages`` (OpenAI dicts) plus call kwargs (tools, stop, ...)."""
        refuse_call_kwargs(kwargs, type(self).__name__, self.role)
        if stop:
            kwargs["stop"] = stop
        return {"messages": [_convert_message_to_dict(message) for message in messages], **kwargs}

    def _create(self, payload: dict[str, Any], *, stream: bool) -> Any:
        """The only sync I/O: ``hub.completion``."""
        messages = payload.pop("messages")
        return self._client.completion(
            self.role, messages, params_override=self._default_params, stream=stream, **payload
        )

    async def _acreate(self, payload: dict[str, Any], *, stream: bool) -> Any:
        """The only async I/O: ``hub.acompletion``."""
        messages = payload.pop("messages")
        return await self._client.acompletion(
            self.role, messages, params_override=self._default_params, stream=stream, **payload
        )

    def _format_output(self, response: ChatCompletion) -> ChatResult:
        """any-llm ``ChatCompletion`` → ``ChatResult`` (one generation per choice)."""
        if not response.choices:
            raise ProviderServerError(
                f"{response.model or 'the provider'} answered with no choices", role=self.role, model=response.model
            )
        usage = _create_usage_metadata(response.usage) if response.usage else None
        generations = []
        for choice in response.choices:
            message = _convert_dict_to_message(choice.message.model_dump(exclude_none=True))
            message.id = response.id or None
            message.usage_metadata = usage
            metadata = _response_metadata(response, choice.finish_reason)
            message.response_metadata = metadata
            generations.append(ChatGeneration(message=message, generation_info={"finish_reason": choice.finish_reason}))
        llm_output: dict[str, Any] = {"model_name": response.model}
        if response.usage:
            llm_output["token_usage"] = response.usage.model_dump(exclude_none=True)
        return ChatResult(generations=generations, llm_output=llm_output)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        payload = self._get_request_payload(messages, stop=stop, **kwargs)
        return self._format_output(self._create(payload, stream=False))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        payload = self._get_request_payload(messages, stop=stop, **kwargs)
        return self._format_output(await self._acreate(payload, stream=False))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        payload = self._get_request_payload(messages, stop=stop, **kwargs)
        state = _StreamState()
        for chunk in self._create(payload, stream=True):
            generation = state.convert(chunk)
            if generation is not None:
                if run_manager:
                    run_manager.on_llm_new_token(generation.text, chunk=generation)
                yield generation
        if (last := state.finish()) is not None:
            yield last

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        payload = self._get_request_payload(messages, stop=stop, **kwargs)
        state = _StreamState()
        async for chunk in await self._acreate(payload, stream=True):
            generation = state.convert(chunk)
            if generation is not None:
                if run_manager:
                    await run_manager.on_llm_new_token(generation.text, chunk=generation)
                yield generation
        if (last := state.finish()) is not None:
            yield last

    # --- tools and structured output ------------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer ``tools`` to the model.

        ``tool_choice``: ``"auto"``, ``"none"``, ``"any"`` / ``"required"`` / ``True`` (call some
        tool), a tool name (call that tool) or an OpenAI ``tool_choice`` dict; ``None`` / ``False``
        leave it to the provider's default.
        """
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        if tool_choice is not None and tool_choice is not False:
            names = [tool["function"]["name"] for tool in formatted if "function" in tool]
            kwargs["tool_choice"] = _convert_tool_choice(tool_choice, names)
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """A runnable whose output follows ``schema`` (a pydantic class, TypedDict or JSON schema).

        ``method``: ``"json_schema"`` (the provider's structured outputs, the default),
        ``"function_calling"`` (a forced tool call) or ``"json_mode"`` (any JSON object; say in the
        prompt which keys you want). Pydantic schemas give instances, the others dicts. With
        ``include_raw=True`` the output is ``{"raw": AIMessage, "parsed": ..., "parsing_error": ...}``.
        """
        if kwargs:
            raise ValueError(f"Received unsupported arguments {sorted(kwargs)}")
        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
        if method != "json_mode" and schema is None:
            raise ValueError(f"with_structured_output(method={method!r}) needs a schema.")
        ls_format = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        llm: Runnable[LanguageModelInput, BaseMessage]
        parser: Runnable[Any, Any]
        if method == "function_calling":
            assert schema is not None
            tool_name = convert_to_openai_tool(schema)["function"]["name"]
            llm = self.bind_tools([schema], tool_choice=tool_name, strict=strict, ls_structured_output_format=ls_format)
            if is_pydantic:
                parser = PydanticToolsParser(tools=[cast(type, schema)], first_tool_only=True)
            else:
                parser = JsonOutputKeyToolsParser(key_name=tool_name, first_tool_only=True)
        elif method in ("json_schema", "json_mode"):
            if method == "json_schema":
                assert schema is not None
                response_format = _convert_to_response_format(schema, strict=strict)
            else:
                response_format = {"type": "json_object"}
                ls_format = {"kwargs": {"method": method}, "schema": schema}
            llm = self.bind(response_format=response_format, ls_structured_output_format=ls_format)
            parser = PydanticOutputParser(pydantic_object=cast(Any, schema)) if is_pydantic else JsonOutputParser()
        else:
            raise ValueError(f"Unknown method {method!r}; use 'json_schema', 'function_calling' or 'json_mode'.")
        if not include_raw:
            return llm | parser
        parser_assign = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
        parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
        parser_with_fallback = parser_assign.with_fallbacks([parser_none], exception_key="parsing_error")
        return RunnableMap(raw=llm) | parser_with_fallback


# --- streams ----------------------------------------------------------------------------------


class _StreamState:
    """Turns any-llm chunks into LangChain chunks.

    Empty chunks are dropped; the answering model's name goes on the first chunk sent; usage
    (OpenAI-style totals, the last report wins) goes on one final chunk, so it is counted once.
    """

    def __init__(self) -> None:
        self.named = False
        self.model: str | None = None
        self.usage: UsageMetadata | None = None

    def convert(self, chunk: ChatCompletionChunk) -> ChatGenerationChunk | None:
        self.model = chunk.model or self.model
        if chunk.usage:
            self.usage = _create_usage_metadata(chunk.usage)
        generation = _convert_chunk_to_generation_chunk(chunk)
        if generation is not None:
            self._name(generation)
        return generation

    def finish(self) -> ChatGenerationChunk | None:
        """The closing chunk with the usage, if the provider reported any."""
        if self.usage is None:
            return None
        generation = ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=self.usage))
        self._name(generation)
        return generation

    def _name(self, generation: ChatGenerationChunk) -> None:
        if not self.named and self.model:
            generation.generation_info = {**(generation.generation_info or {}), "model_name": self.model}
            self.named = True


def _convert_chunk_to_generation_chunk(chunk: ChatCompletionChunk) -> ChatGenerationChunk | None:
    """One any-llm chunk → a LangChain chunk, or None when it carries no content, tool call or finish."""
    if not chunk.choices:
        return None
    choice = chunk.choices[0]
    delta = choice.delta
    content = delta.content or "" if delta is not None else ""
    additional_kwargs: dict[str, Any] = {}
    reasoning = getattr(getattr(delta, "reasoning", None), "content", None)
    if reasoning:
        additional_kwargs["reasoning_content"] = reasoning
    tool_call_chunks = [
        tool_call_chunk(
            name=call.function.name if call.function else None,
            args=call.function.arguments if call.function else None,
            id=call.id,
            index=call.index,
        )
        for call in (delta.tool_calls or () if delta is not None else ())
    ]
    if not (content or tool_call_chunks or additional_kwargs or choice.finish_reason):
        return None
    message = AIMessageChunk(content=content, additional_kwargs=additional_kwargs, tool_call_chunks=tool_call_chunks)
    info = {"finish_reason": choice.finish_reason} if choice.finish_reason else None
    return ChatGenerationChunk(message=message, generation_info=info)


# --- conversions --------------------------------------------------------------------------------


def _convert_message_to_dict(message: BaseMessage) -> dict[str, Any]:
    """A LangChain message → an OpenAI chat message dict (what the hub and any-llm take)."""
    result: dict[str, Any]
    if isinstance(message, ChatMessage):
        result = {"role": message.role, "content": _format_content(message.content)}
    elif isinstance(message, HumanMessage):
        result = {"role": "user", "content": _format_content(message.content)}
    elif isinstance(message, SystemMessage):
        role = message.additional_kwargs.get("__openai_role__", "system")
        result = {"role": role, "content": _format_content(message.content)}
    elif isinstance(message, AIMessage):
        result = {"role": "assistant", "content": _assistant_text(message.content)}
        calls = [_lc_tool_call_to_openai(call) for call in message.tool_calls]
        calls += [_lc_invalid_tool_call_to_openai(call) for call in message.invalid_tool_calls]
        if calls:
            result["tool_calls"] = calls
            result["content"] = result["content"] or None
    elif isinstance(message, ToolMessage):
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": _format_content(message.content)}
    elif isinstance(message, FunctionMessage):
        return {"role": "function", "name": message.name, "content": _format_content(message.content)}
    else:
        raise TypeError(f"RoleChatModel cannot send a {type(message).__name__}; use Human/AI/System/Tool messages.")
    if message.name is not None:
        result["name"] = message.name
    return result


def _format_content(content: str | list[str | dict[str, Any]]) -> str | list[dict[str, Any]]:
    """Message content as OpenAI content parts: LangChain data blocks and Anthropic images converted."""
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            parts.append({"type": "text", "text": block})
        elif block.get("type") == "text":
            text_part = {"type": "text", "text": block.get("text", "")}
            if "cache_control" in block:
                text_part["cache_control"] = block["cache_control"]
            parts.append(text_part)
        elif is_data_content_block(block):
            parts.append(convert_to_openai_data_block(block))
        elif block.get("type") == "image" and isinstance(source := block.get("source"), Mapping):
            parts.append(_anthropic_image_to_openai(source))
        elif block.get("type") in _DROPPED_ASSISTANT_BLOCKS:
            continue
        else:
            parts.append(block)
    return parts


def _anthropic_image_to_openai(source: Mapping[str, Any]) -> dict[str, Any]:
    if source.get("type") == "base64":
        url = f"data:{source.get('media_type')};base64,{source.get('data')}"
    else:
        url = str(source.get("url", ""))
    return {"type": "image_url", "image_url": {"url": url}}


def _assistant_text(content: str | list[str | dict[str, Any]]) -> str:
    """The text of an assistant message (tool_use / thinking / reasoning blocks are not resent)."""
    if isinstance(content, str):
        return content
    texts = [
        block if isinstance(block, str) else str(block.get("text", ""))
        for block in content
        if isinstance(block, str) or block.get("type") == "text"
    ]
    return "".join(texts)


def _lc_tool_call_to_openai(call: ToolCall) -> dict[str, Any]:
    return {
        "type": "function",
        "id": call["id"],
        "function": {"name": call["name"], "arguments": json.dumps(call["args"], ensure_ascii=False)},
    }


def _lc_invalid_tool_call_to_openai(call: InvalidToolCall) -> dict[str, Any]:
    return {
        "type": "function",
        "id": call.get("id"),
        "function": {"name": call.get("name"), "arguments": call.get("args")},
    }


def _convert_dict_to_message(message: Mapping[str, Any]) -> AIMessage:
    """An any-llm (OpenAI-format) assistant message dict → ``AIMessage``."""
    additional_kwargs: dict[str, Any] = {}
    tool_calls: list[ToolCall] = []
    invalid_tool_calls: list[InvalidToolCall] = []
    for raw in message.get("tool_calls") or ():
        try:
            parsed = parse_tool_call(dict(raw), return_id=True)
        except Exception as exc:  # a model sent arguments that are not JSON
            invalid_tool_calls.append(make_invalid_tool_call(dict(raw), str(exc)))
        else:
            if parsed is not None:
                tool_calls.append(cast(ToolCall, parsed))
    if refusal := message.get("refusal"):
        additional_kwargs["refusal"] = refusal
    reasoning = message.get("reasoning")
    if isinstance(reasoning, Mapping) and reasoning.get("content"):
        additional_kwargs["reasoning_content"] = reasoning["content"]
    return AIMessage(
        content=message.get("content") or "",
        additional_kwargs=additional_kwargs,
        tool_calls=tool_calls,
        invalid_tool_calls=invalid_tool_calls,
    )


def _create_usage_metadata(usage: CompletionUsage) -> UsageMetadata:
    """OpenAI-style usage → LangChain ``UsageMetadata`` (cache and reasoning details when reported)."""
    input_tokens = usage.prompt_tokens or 0
    output_tokens = usage.completion_tokens or 0
    prompt_details = usage.prompt_tokens_details
    completion_details = usage.completion_tokens_details
    input_details = {
        "cache_read": getattr(prompt_details, "cached_tokens", None),
        "cache_creation": getattr(prompt_details, "cache_write_tokens", None),
        "audio": getattr(prompt_details, "audio_tokens", None),
    }
    output_details = {
        "reasoning": getattr(completion_details, "reasoning_tokens", None),
        "audio": getattr(completion_details, "audio_tokens", None),
    }
    metadata = UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=usage.total_tokens or input_tokens + output_tokens,
    )
    if any(value is not None for value in input_details.values()):
        metadata["input_token_details"] = InputTokenDetails(
            **{key: value for key, value in input_details.items() if value is not None}  # type: ignore[typeddict-item]
        )
    if any(value is not None for value in output_details.values()):
        metadata["output_token_details"] = OutputTokenDetails(
            **{key: value for key, value in output_details.items() if value is not None}  # type: ignore[typeddict-item]
        )
    return metadata


def _response_metadata(response: ChatCompletion, finish_reason: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"model_name": response.model, "finish_reason": finish_reason}
    if response.system_fingerprint:
        metadata["system_fingerprint"] = response.system_fingerprint
    return metadata


def _convert_tool_choice(tool_choice: dict[str, Any] | str | bool, names: Sequence[str]) -> dict[str, Any] | str:
    """LangChain's ``tool_choice`` spellings → OpenAI's (any-llm translates for other providers)."""
    if tool_choice is True or tool_choice in ("any", "required"):
        return "required"
    if isinstance(tool_choice, dict):
        return tool_choice
    if tool_choice in ("auto", "none"):
        return cast(str, tool_choice)
    if isinstance(tool_choice, str) and tool_choice in names:
        return {"type": "function", "function": {"name": tool_choice}}
    raise ValueError(
        f"tool_choice={tool_choice!r} is neither 'auto', 'none', 'any', 'required' nor a bound tool "
        f"({', '.join(names) or 'no tools bound'})."
    )


def _convert_to_response_format(schema: dict[str, Any] | type, *, strict: bool | None) -> dict[str, Any]:
    """A schema → OpenAI ``response_format`` ``{"type": "json_schema", "json_schema": {...}}``."""
    if isinstance(schema, dict) and schema.get("type") == "json_schema" and "json_schema" in schema:
        return schema
    if isinstance(schema, dict) and "name" in schema and "schema" in schema:
        return {"type": "json_schema", "json_schema": schema}
    function = convert_to_openai_function(schema, strict=strict)
    json_schema: dict[str, Any] = {"name": function["name"], "schema": function.get("parameters", {})}
    if function.get("description"):
        json_schema["description"] = function["description"]
    if strict is not None:
        json_schema["strict"] = strict
    return {"type": "json_schema", "json_schema": json_schema}
