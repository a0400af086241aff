"""Anthropic wire format: messages (JSON and SSE), token counting, model lists and error bodies.

Request bodies become the same neutral `Conversation` the OpenAI wire produces (system prompt →
system message, `tool_result` blocks → tool messages, `tool_use` blocks → tool calls), so one
brain serves both. No HTTP here; `server` does the I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmhub_runtime.testing.conversation import (
    Answer,
    Conversation,
    Message,
    ToolSpec,
    count_tokens,
    dump_json,
    split_stream_pieces,
)
from llmhub_runtime.testing.replies import Fault, ToolCall

__all__ = [
    "MessagesRequest",
    "error_body",
    "message",
    "message_stream_events",
    "model_list",
    "parse_messages",
    "stop_reason",
]

MALFORMED_BODY = b'{"id": "msg_standin", "type": "message", "content": [{"type": "text",'
MALFORMED_EVENT = b'event: message_start\ndata: {"type": "message_start", "message": {\n\n'

_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}

# status -> (error type, message); "{model}" is filled in.
_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "model: {model}"),
    408: ("timeout_error", "Request timed out."),
    409: ("invalid_request_error", "Conflict."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    422: ("invalid_request_error", "Unprocessable entity."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit. Please try again later."),
    500: ("api_error", "Internal server error"),
    502: ("api_error", "Bad gateway"),
    503: ("api_error", "Service unavailable"),
    504: ("api_error", "Gateway timeout"),
    529: ("overloaded_error", "Overloaded"),
}
_CONTEXT_LENGTH_MESSAGE = (
    "input length and `max_tokens` exceed context limit: {tokens} + 4096 > 200000, "
    "decrease input length or `max_tokens` and try again"
)


@dataclass(frozen=True)
class MessagesRequest:
    """A parsed `POST /v1/messages` body."""

    conversation: Conversation
    stream: bool
    stop: tuple[str, ...]
    max_tokens: int | None


def blocks_text(content: Any) -> str:
    """Plain text of a string or a list of content blocks (text blocks only)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [str(b.get("text", "")) for b in content if isinstance(b, Mapping) and b.get("type") == "text"]
        return "\n".join(part for part in parts if part)
    return str(content)


def _messages(raw_messages: Sequence[Any], system: Any) -> list[Message]:
    messages: list[Message] = []
    system_text = blocks_text(system)
    if system_text:
        messages.append(Message("system", system_text))
    for raw in raw_messages:
        if not isinstance(raw, Mapping):
            continue
        role = raw.get("role")
        content = raw.get("content")
        blocks: list[Any] = content if isinstance(content, list) else [{"type": "text", "text": blocks_text(content)}]
        if role == "assistant":
            calls = tuple(
                ToolCall(str(b.get("name", "")), _as_dict(b.get("input")), b.get("id"))
                for b in blocks
                if isinstance(b, Mapping) and b.get("type") == "tool_use"
            )
            messages.append(Message("assistant", blocks_text(blocks), tool_calls=calls))
            continue
        for block in blocks:
            if isinstance(block, Mapping) and block.get("type") == "tool_result":
                messages.append(
                    Message("tool", blocks_text(block.get("content")), tool_call_id=block.get("tool_use_id"))
                )
        text = blocks_text(blocks)
        if text or not any(isinstance(b, Mapping) and b.get("type") == "tool_result" for b in blocks):
            messages.append(Message("user", text))
    return messages


def _as_dict(value: Any) -> dict[str, Any]:
    return {str(key): item for key, item in value.items()} if isinstance(value, Mapping) else {}


def _tools(raw_tools: Any) -> tuple[ToolSpec, ...]:
    specs: list[ToolSpec] = []
    for tool in raw_tools or ():
        if isinstance(tool, Mapping) and tool.get("name"):
            schema = tool.get("input_schema")
            specs.append(
                ToolSpec(
                    name=str(tool["name"]),
                    description=str(tool.get("description") or ""),
                    parameters=schema if isinstance(schema, Mapping) else {},
                )
            )
    return tuple(specs)


def _tool_choice(raw: Any) -> tuple[Any, str | None]:
    if not isinstance(raw, Mapping):
        return "auto", None
    kind = raw.get("type")
    if kind == "any":
        return "required", None
    if kind == "tool" and raw.get("name"):
        return "named", str(raw["name"])
    if kind == "none":
        return "none", None
    return "auto", None


def _output_schema(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    output_config = body.get("output_config")
    fmt = output_config.get("format") if isinstance(output_config, Mapping) else body.get("output_format")
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        schema = fmt.get("schema")
        return schema if isinstance(schema, Mapping) else {"type": "object"}
    return None


def parse_messages(body: Mapping[str, Any]) -> MessagesRequest:
    """Read a messages body (lenient: unknown fields and block types are ignored)."""
    tool_choice, forced = _tool_choice(body.get("tool_choice"))
    conversation = Conversation(
        model=str(body.get("model", "")),
        messages=tuple(_messages(body.get("messages") or (), body.get("system"))),
        tools=_tools(body.get("tools")),
        tool_choice=tool_choice,
        forced_tool=forced,
        response_schema=_output_schema(body),
    )
    max_tokens = body.get("max_tokens")
    return MessagesRequest(
        conversation=conversation,
        stream=bool(body.get("stream")),
        stop=tuple(str(s) for s in body.get("stop_sequences") or ()),
        max_tokens=int(max_tokens) if isinstance(max_tokens, int | float) else None,
    )


def stop_reason(answer: Answer) -> str:
    """The answer's stop reason in Anthropic's vocabulary."""
    if answer.finish_reason == "stop" and answer.stop_sequence is not None:
        return "stop_sequence"
    return _STOP_REASONS.get(answer.finish_reason, answer.finish_reason)


def _tool_input(call: ToolCall) -> dict[str, Any]:
    if isinstance(call.arguments, dict):
        return call.arguments
    try:
        parsed = json.loads(call.arguments)
    except ValueError:
        return {"_raw": call.arguments}
    return parsed if isinstance(parsed, dict) else {"_value": parsed}


def _has_text_block(answer: Answer) -> bool:
    return bool(answer.text) or answer.chunks is not None or not answer.tool_calls


def _usage(answer: Answer) -> dict[str, Any]:
    return {
        "input_tokens": answer.prompt_tokens,
        "output_tokens": answer.completion_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def message(answer: Answer, *, message_id: str) -> dict[str, Any]:
    """The non-streaming `message` object."""
    content: list[dict[str, Any]] = []
    if _has_text_block(answer):
        content.append({"type": "text", "text": answer.text})
    content.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": _tool_input(call)} for call in answer.tool_calls
    )
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": content,
        "stop_reason": stop_reason(answer),
        "stop_sequence": answer.stop_sequence,
        "usage": _usage(answer),
    }


def sse_event(payload: Mapping[str, Any]) -> bytes:
    """One `event: <type>` / `data: <json>` SSE event."""
    return f"event: {payload['type']}\ndata: {dump_json(payload)}\n\n".encode()


def message_stream_events(answer: Answer, *, message_id: str) -> list[bytes]:
    """The SSE events of a streamed message, from `message_start` to `message_stop`."""
    start = {**message(answer, message_id=message_id), "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = {**_usage(answer), "output_tokens": min(1, answer.completion_tokens)}
    events = [sse_event({"type": "message_start", "message": start}), sse_event({"type": "ping"})]
    index = 0
    if _has_text_block(answer):
        events.append(
            sse_event({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
        )
        for piece in answer.stream_pieces():
            delta = {"type": "text_delta", "text": piece}
            events.append(sse_event({"type": "content_block_delta", "index": index, "delta": delta}))
        events.append(sse_event({"type": "content_block_stop", "index": index}))
        index += 1
    for call in answer.tool_calls:
        block: dict[str, Any] = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        events.append(sse_event({"type": "content_block_start", "index": index, "content_block": block}))
        for fragment in split_stream_pieces(call.arguments_json):
            delta = {"type": "input_json_delta", "partial_json": fragment}
            events.append(sse_event({"type": "content_block_delta", "index": index, "delta": delta}))
        events.append(sse_event({"type": "content_block_stop", "index": index}))
        index += 1
    final = {"stop_reason": stop_reason(answer), "stop_sequence": answer.stop_sequence}
    events.append(sse_event({"type": "message_delta", "delta": final, "usage": _usage(answer)}))
    events.append(sse_event({"type": "message_stop"}))
    return events


def count_tokens_response(body: Mapping[str, Any]) -> dict[str, Any]:
    """`POST /v1/messages/count_tokens`: words of all message text."""
    request = parse_messages(body)
    return {"input_tokens": max(1, sum(count_tokens(m.text) for m in request.conversation.messages))}


def model_list(models: Sequence[str]) -> dict[str, Any]:
    """`GET /v1/models` in Anthropic's shape."""
    data = [model_info(name) for name in models]
    return {
        "data": data,
        "has_more": False,
        "first_id": models[0] if models else None,
        "last_id": models[-1] if models else None,
    }


def model_info(name: str) -> dict[str, Any]:
    """One model entry in Anthropic's shape."""
    return {"type": "model", "id": name, "display_name": name, "created_at": "2024-01-01T00:00:00Z"}


def error_body(fault: Fault, *, model: str, prompt_tokens: int = 0) -> dict[str, Any]:
    """`{"type": "error", "error": {"type", "message"}}` for a fault with a status."""
    status = fault.status or 500
    if fault.error_type == "context_length_exceeded":
        error_type = "invalid_request_error"
        message_text = fault.message or _CONTEXT_LENGTH_MESSAGE.format(tokens=max(prompt_tokens, 196000))
    else:
        default_type, default_message = _ERRORS.get(status, ("api_error", f"HTTP {status} error."))
        error_type = fault.error_type or default_type
        message_text = fault.message or default_message.replace("{model}", model)
    return {"type": "error", "error": {"type": error_type, "message": message_text}}


def bad_request_body(message_text: str) -> dict[str, Any]:
    """The body for a request the stand-in cannot read."""
    return {"type": "error", "error": {"type": "invalid_request_error", "message": message_text}}
