"""OpenAI Responses API wire format (`POST /v1/responses`): JSON and SSE.

The request becomes the same neutral `Conversation` the chat wires produce (`instructions` →
system message, `function_call` / `function_call_output` items → tool calls / tool results,
flat function tools, `text.format` json_schema), so one brain serves every API. The answer
renders as a `response` object whose `output` holds a `message` item (text) and/or
`function_call` items; streamed, as the `response.*` events the openai SDK parses (no `[DONE]`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmhub_runtime.testing.conversation import Answer, Conversation, Message, ToolSpec, dump_json, split_stream_pieces
from llmhub_runtime.testing.replies import ToolCall

__all__ = ["ResponsesRequest", "parse_responses", "response_object", "response_stream_events"]

_TEXT_PARTS = ("input_text", "output_text", "text", None)


@dataclass(frozen=True)
class ResponsesRequest:
    """A parsed `POST /v1/responses` body."""

    conversation: Conversation
    stream: bool
    max_output_tokens: int | None
    echo: Mapping[str, Any]
    """Request fields the response repeats (instructions, tools, tool_choice, temperature, ...)."""


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and part.get("type") in _TEXT_PARTS
        ]
        return "\n".join(part for part in parts if part)
    return str(content)


def _messages(body: Mapping[str, Any]) -> tuple[Message, ...]:
    messages: list[Message] = []
    if isinstance(body.get("instructions"), str) and body["instructions"]:
        messages.append(Message("system", body["instructions"]))
    raw = body.get("input")
    if isinstance(raw, str):
        return (*messages, Message("user", raw))
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if kind == "function_call":
            call = ToolCall(str(item.get("name", "")), str(item.get("arguments", "")), item.get("call_id"))
            messages.append(Message("assistant", "", tool_calls=(call,)))
        elif kind == "function_call_output":
            messages.append(Message("tool", _text(item.get("output")), tool_call_id=item.get("call_id")))
        elif kind in ("message", None):
            role = str(item.get("role", "user"))
            text = _text(item.get("content"))
            if role in ("system", "developer"):
                messages.append(Message("system", text))
            elif role == "assistant":
                messages.append(Message("assistant", text))
            else:
                messages.append(Message("user", text))
    return tuple(messages)


def _tools(body: Mapping[str, Any]) -> tuple[ToolSpec, ...]:
    specs = []
    for tool in body.get("tools") or ():
        if isinstance(tool, Mapping) and tool.get("type") == "function" and tool.get("name"):
            parameters = tool.get("parameters")
            specs.append(
                ToolSpec(
                    name=str(tool["name"]),
                    description=str(tool.get("description") or ""),
                    parameters=parameters if isinstance(parameters, Mapping) else {},
                )
            )
    return tuple(specs)


def _tool_choice(choice: Any) -> tuple[Any, str | None]:
    if choice in (None, "auto"):
        return "auto", None
    if choice == "none":
        return "none", None
    if choice == "required":
        return "required", None
    if isinstance(choice, Mapping) and choice.get("type") == "function" and choice.get("name"):
        return "named", str(choice["name"])
    return "auto", None


def parse_responses(body: Mapping[str, Any]) -> ResponsesRequest:
    """Read a Responses API body (lenient: unknown fields are ignored)."""
    choice, forced = _tool_choice(body.get("tool_choice"))
    text = body.get("text")
    text_format = text.get("format") if isinstance(text, Mapping) else None
    schema: Mapping[str, Any] | None = None
    json_object = False
    if isinstance(text_format, Mapping):
        if text_format.get("type") == "json_schema":
            raw_schema = text_format.get("schema")
            schema = raw_schema if isinstance(raw_schema, Mapping) else {"type": "object"}
        elif text_format.get("type") == "json_object":
            json_object = True
    conversation = Conversation(
        model=str(body.get("model", "")),
        messages=_messages(body),
        tools=_tools(body),
        tool_choice=choice,
        forced_tool=forced,
        response_schema=schema,
        json_object=json_object,
    )
    limit = body.get("max_output_tokens")
    echo_keys = ("instructions", "tools", "tool_choice", "temperature", "top_p", "text", "metadata")
    return ResponsesRequest(
        conversation=conversation,
        stream=bool(body.get("stream")),
        max_output_tokens=int(limit) if isinstance(limit, int | float) else None,
        echo={key: body[key] for key in echo_keys if key in body},
    )


def _items(answer: Answer, message_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if answer.text or not answer.tool_calls:
        items.append(
            {
                "type": "message",
                "id": message_id,
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": answer.text, "annotations": [], "logprobs": []}],
            }
        )
    for call in answer.tool_calls:
        items.append(
            {
                "type": "function_call",
                "id": f"fc_{call.id}",
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments_json,
                "status": "completed",
            }
        )
    return items


def response_object(
    request: ResponsesRequest, answer: Answer, *, response_id: str, message_id: str, created: int
) -> dict[str, Any]:
    """The completed `response` object."""
    incomplete = answer.finish_reason == "length"
    echo = request.echo
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": "incomplete" if incomplete else "completed",
        "completed_at": None if incomplete else created,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": echo.get("instructions"),
        "max_output_tokens": request.max_output_tokens,
        "metadata": echo.get("metadata") or {},
        "model": answer.model,
        "output": _items(answer, message_id),
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": echo.get("temperature", 1.0),
        "text": echo.get("text") or {"format": {"type": "text"}},
        "tool_choice": echo.get("tool_choice", "auto"),
        "tools": echo.get("tools") or [],
        "top_p": echo.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": {
            "input_tokens": answer.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": answer.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": answer.total_tokens,
        },
        "user": None,
    }


def response_stream_events(
    request: ResponsesRequest, answer: Answer, *, response_id: str, message_id: str, created: int
) -> list[bytes]:
    """`response.created` ... `response.completed` (or `response.incomplete`) as SSE events."""
    final = response_object(request, answer, response_id=response_id, message_id=message_id, created=created)
    pending = {**final, "status": "in_progress", "completed_at": None, "output": [], "usage": None}
    events: list[bytes] = []

    def emit(kind: str, **fields: Any) -> None:
        payload = {"type": kind, "sequence_number": len(events), **fields}
        events.append(f"event: {kind}\ndata: {dump_json(payload)}\n\n".encode())

    emit("response.created", response=pending)
    emit("response.in_progress", response=pending)
    for index, item in enumerate(final["output"]):
        if item["type"] == "message":
            opened = {**item, "status": "in_progress", "content": []}
            emit("response.output_item.added", output_index=index, item=opened)
            empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            emit("response.content_part.added", **where, part=empty)
            for piece in answer.stream_pieces():
                emit("response.output_text.delta", **where, delta=piece, logprobs=[])
            emit("response.output_text.done", **where, text=answer.text, logprobs=[])
            emit("response.content_part.done", **where, part=item["content"][0])
        else:
            opened = {**item, "status": "in_progress", "arguments": ""}
            emit("response.output_item.added", output_index=index, item=opened)
            where = {"item_id": item["id"], "output_index": index}
            for fragment in split_stream_pieces(item["arguments"]):
                emit("response.function_call_arguments.delta", **where, delta=fragment)
            emit("response.function_call_arguments.done", **where, name=item["name"], arguments=item["arguments"])
        emit("response.output_item.done", output_index=index, item=item)
    emit("response.incomplete" if final["status"] == "incomplete" else "response.completed", response=final)
    return events
