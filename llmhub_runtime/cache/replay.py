"""Streams and whole answers are one cache entry: a finished stream is assembled into a
``ChatCompletion`` to be stored, and a stored answer is replayed as chunks when the caller streams.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["assemble", "replay"]


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def assemble(chunks: Iterable[Any]) -> Any:
    """One ``ChatCompletion`` from a whole stream's chunks (content, reasoning and tool calls joined)."""
    from any_llm.types.completion import ChatCompletion

    head: dict[str, Any] = {}
    choices: dict[int, dict[str, Any]] = {}
    usage: Any = None
    for chunk in chunks:
        for name in ("id", "created", "model", "system_fingerprint", "service_tier"):
            value = _get(chunk, name)
            if value is not None:
                head[name] = value
        if _get(chunk, "usage") is not None:
            usage = _get(chunk, "usage")
        for choice in _get(chunk, "choices") or ():
            index = _get(choice, "index") or 0
            slot = choices.setdefault(index, {"content": [], "reasoning": [], "tools": {}, "finish": None})
            delta = _get(choice, "delta")
            if _get(choice, "finish_reason") is not None:
                slot["finish"] = _get(choice, "finish_reason")
            if delta is None:
                continue
            if _get(delta, "content"):
                slot["content"].append(_get(delta, "content"))
            reasoning = _get(delta, "reasoning")
            if reasoning is not None and _get(reasoning, "content"):
                slot["reasoning"].append(_get(reasoning, "content"))
            for call in _get(delta, "tool_calls") or ():
                tool = slot["tools"].setdefault(_get(call, "index") or 0, {"id": None, "name": "", "arguments": []})
                tool["id"] = _get(call, "id") or tool["id"]
                function = _get(call, "function")
                if function is not None:
                    tool["name"] = _get(function, "name") or tool["name"]
                    if _get(function, "arguments"):
                        tool["arguments"].append(_get(function, "arguments"))
    built = []
    for index in sorted(choices):
        slot = choices[index]
        message: dict[str, Any] = {"role": "assistant", "content": "".join(slot["content"]) or None}
        if slot["reasoning"]:
            message["reasoning"] = {"content": "".join(slot["reasoning"])}
        if slot["tools"]:
            message["tool_calls"] = [
                {
                    "id": tool["id"] or f"call_{position}",
                    "type": "function",
                    "function": {"name": tool["name"], "arguments": "".join(tool["arguments"])},
                }
                for position, tool in sorted(slot["tools"].items())
            ]
        built.append({"index": index, "message": message, "finish_reason": slot["finish"] or "stop"})
    data: dict[str, Any] = {
        "id": head.get("id", "llmhub-cached"),
        "object": "chat.completion",
        "created": head.get("created", 0),
        "model": head.get("model", ""),
        "choices": built,
    }
    for name in ("system_fingerprint", "service_tier"):
        if name in head:
            data[name] = head[name]
    if usage is not None:
        data["usage"] = usage.model_dump() if hasattr(usage, "model_dump") else usage
    return ChatCompletion.model_validate(data)


def replay(completion: Any) -> list[Any]:
    """The chunks a stream of ``completion`` would have sent: its content, a finish chunk, then usage."""
    from any_llm.types.completion import ChatCompletionChunk

    head = {
        "id": completion.id,
        "object": "chat.completion.chunk",
        "created": completion.created,
        "model": completion.model,
    }
    chunks: list[Any] = []
    for choice in completion.choices:
        message = choice.message
        delta: dict[str, Any] = {"role": "assistant", "content": message.content}
        if getattr(message, "reasoning", None) is not None:
            delta["reasoning"] = message.reasoning.model_dump()
        if message.tool_calls:
            delta["tool_calls"] = [
                {
                    "index": position,
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
                for position, call in enumerate(message.tool_calls)
            ]
        chunks.append({**head, "choices": [{"index": choice.index, "delta": delta, "finish_reason": None}]})
        chunks.append(
            {**head, "choices": [{"index": choice.index, "delta": {}, "finish_reason": choice.finish_reason}]}
        )
    if completion.usage is not None:
        chunks.append({**head, "choices": [], "usage": completion.usage.model_dump()})
    return [ChatCompletionChunk.model_validate(chunk) for chunk in chunks]
