"""The provider-neutral view of a chat request that the brain reads, and of the answer the wires render.

`openai_wire` and `anthropic_wire` convert their request bodies into a `Conversation`; the
brain (or a scripted `Reply`) answers it; `shape_answer` applies `stop` / `max_tokens` and
counts tokens, giving an `Answer` that each wire renders in its own format.

Tokens are whitespace-separated words (`len(text.split())`), for prompts and completions alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from llmhub_runtime.testing.replies import Reply, ToolCall

__all__ = [
    "Answer",
    "Conversation",
    "Message",
    "ToolSpec",
    "count_tokens",
    "shape_answer",
    "split_stream_pieces",
]

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class Message:
    """One message: its plain text, plus tool calls (assistant) or the call it answers (tool)."""

    role: Role
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call: name, description and JSON schema of its arguments."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conversation:
    """A chat request in neutral form.

    `tool_choice` is "auto", "none", "required" (any tool) or "named" (then `forced_tool`).
    `response_schema` is set for JSON-schema output, `json_object` for plain JSON mode.
    """

    model: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: Literal["auto", "none", "required", "named"] = "auto"
    forced_tool: str | None = None
    response_schema: Mapping[str, Any] | None = None
    json_object: bool = False

    @property
    def last_user_text(self) -> str:
        """Text of the last user message ("" if there is none)."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text
        return ""


@dataclass(frozen=True)
class Answer:
    """What a wire renders: final text/tool calls, a neutral finish reason and token counts.

    `finish_reason` uses OpenAI's words ("stop", "length", "tool_calls", "content_filter") unless a
    script gave another; `stop_sequence` is the stop string that cut the text, if any.
    """

    model: str
    text: str
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    stop_sequence: str | None = None
    chunks: tuple[str, ...] | None = None

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def stream_pieces(self) -> list[str]:
        """The text pieces to stream: the scripted chunks, else one piece per word."""
        if self.chunks is not None:
            return list(self.chunks)
        return split_stream_pieces(self.text)


_WORD_PIECE = re.compile(r"\s*\S+\s*$|\s*\S+")


def count_tokens(text: str) -> int:
    """Stand-in tokens: whitespace-separated words."""
    return len(text.split())


def split_stream_pieces(text: str) -> list[str]:
    """Split text into stream pieces of one word each (with its leading whitespace); "" gives []."""
    return _WORD_PIECE.findall(text)


def _prompt_tokens(conversation: Conversation) -> int:
    total = 0
    for message in conversation.messages:
        total += count_tokens(message.text)
        total += sum(count_tokens(call.arguments_json) for call in message.tool_calls)
    return max(total, 1)


def _cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, str | None]:
    """Cut text before the earliest stop sequence; return (text, matched sequence or None)."""
    best: tuple[int, str] | None = None
    for sequence in stop:
        if not sequence:
            continue
        position = text.find(sequence)
        if position >= 0 and (best is None or position < best[0]):
            best = (position, sequence)
    if best is None:
        return text, None
    return text[: best[0]], best[1]


def _keep_words(text: str, limit: int) -> tuple[str, bool]:
    """Keep the first `limit` words (original spacing kept); return (text, was_cut)."""
    matches = list(re.finditer(r"\S+", text))
    if len(matches) <= limit:
        return text, False
    if limit <= 0:
        return "", True
    return text[: matches[limit - 1].end()], True


def shape_answer(
    conversation: Conversation,
    reply: Reply,
    *,
    stop: Sequence[str] = (),
    max_tokens: int | None = None,
    new_call_id: Callable[[], str],
) -> Answer:
    """Turn a `Reply` with content into an `Answer`: apply stop/max_tokens, ids and token counts."""
    stop_sequence: str | None = None
    cut_by_length = False
    chunks = tuple(reply.chunks) if reply.chunks is not None else None
    if chunks is not None and reply.text is None:
        text = "".join(chunks)
    else:
        text = reply.text or ""
        if chunks is None:
            text, stop_sequence = _cut_at_stop(text, stop)
            if max_tokens is not None:
                text, cut_by_length = _keep_words(text, max_tokens)
    calls = tuple(
        call if call.id is not None else ToolCall(call.name, call.arguments, new_call_id())
        for call in reply.tool_calls or ()
    )
    if reply.finish_reason is not None:
        finish = reply.finish_reason
    elif cut_by_length:
        finish = "length"
    elif calls:
        finish = "tool_calls"
    else:
        finish = "stop"
    if reply.usage is not None:
        prompt_tokens, completion_tokens = reply.usage
    else:
        prompt_tokens = _prompt_tokens(conversation)
        completion_tokens = count_tokens(text) + sum(max(count_tokens(c.arguments_json), 1) for c in calls)
    return Answer(
        model=reply.model or conversation.model,
        text=text,
        tool_calls=calls,
        finish_reason=finish,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        stop_sequence=stop_sequence,
        chunks=chunks,
    )


def dump_json(value: Any) -> str:
    """Compact JSON for the wire (non-ASCII kept as is)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
