"""Conversions between LlamaIndex chat types and the OpenAI-format dicts/objects the hub speaks.

Pure functions (and one small accumulator for streams); ``base.RoleLLM`` does the I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from json import JSONDecodeError
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    CachePoint,
    ChatMessage,
    ChatResponse,
    ContentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json
from pydantic import BaseModel

from llmhub_runtime.errors import InvalidInputError

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

__all__ = [
    "StreamAccumulator",
    "chat_response_from_completion",
    "from_completion_message",
    "resolve_tool_choice",
    "response_format_for",
    "to_openai_message_dict",
    "to_openai_message_dicts",
    "to_openai_tools",
    "token_counts",
    "tool_selections",
]


# --- LlamaIndex → OpenAI format -----------------------------------------------------------

_ROLE_NAMES = {"chatbot": "assistant", "model": "assistant"}  # LlamaIndex's aliases of "assistant"


def to_openai_message_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """LlamaIndex chat messages as OpenAI-format message dicts."""
    return [to_openai_message_dict(message) for message in messages]


def to_openai_message_dict(message: ChatMessage) -> dict[str, Any]:
    """One LlamaIndex ``ChatMessage`` as an OpenAI-format dict (text, images, tool calls, tool results)."""
    role = _ROLE_NAMES.get(message.role.value, message.role.value)
    texts: list[str] = []
    parts: list[dict[str, Any]] = []
    tool_calls: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            texts.append(block.text)
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append({"type": "image_url", "image_url": _image_url(block)})
        elif isinstance(block, ToolCallBlock):
            tool_calls.append(_tool_call_dict(block))
        elif isinstance(block, ThinkingBlock | CachePoint):
            continue  # not part of the Chat Completions input
        else:
            raise InvalidInputError(
                f"A {role} message holds a {type(block).__name__}, which llmhub's LlamaIndex adapter cannot send; "
                "use TextBlock, ImageBlock or ToolCallBlock."
            )
    if not tool_calls:
        tool_calls = [_legacy_tool_call(call) for call in message.additional_kwargs.get("tool_calls") or ()]

    text = "".join(texts)
    content: Any
    if role == "user" and any(part["type"] != "text" for part in parts):
        content = parts
    elif role == "assistant" and tool_calls and not text:
        content = None
    else:
        content = text
    result: dict[str, Any] = {"role": role, "content": content}
    if tool_calls:
        result["tool_calls"] = tool_calls
    tool_call_id = message.additional_kwargs.get("tool_call_id")
    if role == "tool" and tool_call_id is not None:
        result["tool_call_id"] = tool_call_id
    return result


def _image_url(block: ImageBlock) -> dict[str, Any]:
    if block.url:
        url = str(block.url)
    else:
        data = block.resolve_image(as_base64=True).read().decode("ascii")
        url = f"data:{block.image_mimetype or 'image/png'};base64,{data}"
    image_url: dict[str, Any] = {"url": url}
    if block.detail:
        image_url["detail"] = block.detail
    return image_url


def _tool_call_dict(block: ToolCallBlock) -> dict[str, Any]:
    arguments = block.tool_kwargs
    return {
        "id": block.tool_call_id or "",
        "type": "function",
        "function": {
            "name": block.tool_name,
            "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False),
        },
    }


def _legacy_tool_call(call: Any) -> dict[str, Any]:
    """A tool call kept in ``additional_kwargs["tool_calls"]`` (an OpenAI object or a dict)."""
    if isinstance(call, BaseModel):
        dumped: dict[str, Any] = call.model_dump(exclude_none=True)
        return dumped
    return dict(call)


def to_openai_tools(tools: Sequence[BaseTool]) -> list[dict[str, Any]]:
    """LlamaIndex tools as OpenAI ``tools=`` entries."""
    return [tool.metadata.to_openai_tool(skip_length_check=True) for tool in tools]


def resolve_tool_choice(tool_choice: str | Mapping[str, Any] | None, tool_required: bool) -> str | dict[str, Any]:
    """``tool_choice`` for the request: "required" when a tool is required, a tool name becomes a named choice."""
    if tool_choice is None:
        return "required" if tool_required else "auto"
    if isinstance(tool_choice, Mapping):
        return dict(tool_choice)
    if tool_choice in ("none", "auto", "required"):
        return tool_choice
    return {"type": "function", "function": {"name": tool_choice}}


def response_format_for(output_cls: type[BaseModel]) -> dict[str, Any]:
    """An OpenAI ``response_format`` asking for JSON that validates against ``output_cls``."""
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", output_cls.__name__)[:64]
    return {"type": "json_schema", "json_schema": {"name": name, "schema": output_cls.model_json_schema()}}


# --- OpenAI format → LlamaIndex -----------------------------------------------------------


def from_completion_message(message: Any) -> ChatMessage:
    """An any-llm / OpenAI ``ChatCompletionMessage`` as a LlamaIndex ``ChatMessage``."""
    blocks: list[ContentBlock] = []
    reasoning = _reasoning_text(message)
    if reasoning:
        blocks.append(ThinkingBlock(content=reasoning))
    text = message.content or ""
    calls = [call for call in message.tool_calls or () if getattr(call, "function", None) is not None]
    if text or not calls:
        blocks.append(TextBlock(text=text))
    for call in calls:
        blocks.append(
            ToolCallBlock(
                tool_call_id=call.id, tool_name=call.function.name or "", tool_kwargs=call.function.arguments or {}
            )
        )
    return ChatMessage(role=MessageRole(message.role or "assistant"), blocks=blocks)


def chat_response_from_completion(completion: Any) -> ChatResponse:
    """A ``ChatResponse`` for a whole ``ChatCompletion`` (the first choice)."""
    if not completion.choices:
        message = ChatMessage(role=MessageRole.ASSISTANT, content="")
    else:
        message = from_completion_message(completion.choices[0].message)
    return ChatResponse(message=message, raw=completion, additional_kwargs=token_counts(completion))


def token_counts(raw: Any) -> dict[str, int]:
    """``prompt_tokens`` / ``completion_tokens`` / ``total_tokens`` reported with ``raw``, if any."""
    usage = getattr(raw, "usage", None)
    if usage is None:
        return {}
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _reasoning_text(message: Any) -> str | None:
    reasoning = getattr(message, "reasoning", None)
    if reasoning is None:
        reasoning = getattr(message, "reasoning_content", None)
    if reasoning is None:
        return None
    text = reasoning if isinstance(reasoning, str) else getattr(reasoning, "content", None)
    return text if isinstance(text, str) else None


class StreamAccumulator:
    """Turns a stream of ``ChatCompletionChunk`` into cumulative ``ChatResponse`` objects.

    Each response carries the whole message so far (text, reasoning, tool calls with their
    arguments joined across chunks) and the chunk's own text as ``delta``.
    """

    def __init__(self) -> None:
        self.text = ""
        self.reasoning = ""
        self.role = MessageRole.ASSISTANT
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, chunk: Any) -> ChatResponse:
        """Fold ``chunk`` in; the response for the stream so far."""
        delta_text = ""
        reasoning_delta = ""
        for choice in chunk.choices[:1]:
            delta = choice.delta
            if delta is None:
                continue
            if delta.role:
                self.role = MessageRole(delta.role)
            delta_text = delta.content or ""
            reasoning_delta = _reasoning_text(delta) or ""
            for call in delta.tool_calls or ():
                self._add_call(call)
        self.text += delta_text
        self.reasoning += reasoning_delta
        extra: dict[str, Any] = token_counts(chunk)
        if reasoning_delta:
            extra["thinking_delta"] = reasoning_delta
        return ChatResponse(message=self.message(), delta=delta_text, raw=chunk, additional_kwargs=extra)

    def message(self) -> ChatMessage:
        """The message received so far."""
        blocks: list[ContentBlock] = []
        if self.reasoning:
            blocks.append(ThinkingBlock(content=self.reasoning))
        blocks.append(TextBlock(text=self.text))
        for _, call in sorted(self._calls.items()):
            blocks.append(
                ToolCallBlock(tool_call_id=call["id"] or None, tool_name=call["name"], tool_kwargs=call["arguments"])
            )
        return ChatMessage(role=self.role, blocks=blocks)

    def _add_call(self, call: Any) -> None:
        index = call.index if call.index is not None else len(self._calls)
        slot = self._calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
        if call.id:
            slot["id"] = call.id
        function = call.function
        if function is not None:
            if function.name:
                slot["name"] += function.name
            if function.arguments:
                slot["arguments"] += function.arguments


def tool_selections(response: ChatResponse, *, error_on_no_tool_call: bool) -> list[ToolSelection]:
    """The tool calls in ``response`` (arguments parsed; partial JSON from a stream is tolerated)."""
    blocks = [block for block in response.message.blocks if isinstance(block, ToolCallBlock)]
    if not blocks and error_on_no_tool_call:
        raise ValueError("Expected at least one tool call, but the model answered without calling a tool.")
    selections: list[ToolSelection] = []
    for block in blocks:
        arguments = block.tool_kwargs
        if isinstance(arguments, str):
            try:
                arguments = parse_partial_json(arguments) if arguments.strip() else {}
            except (ValueError, TypeError, JSONDecodeError):
                arguments = {}
        selections.append(
            ToolSelection(
                tool_id=block.tool_call_id or "",
                tool_name=block.tool_name,
                tool_kwargs=arguments if isinstance(arguments, dict) else {},
            )
        )
    return selections
