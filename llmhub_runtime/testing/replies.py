"""What a test scripts (`Reply`, `Fault`, `ToolCall`) and what the server records (`RecordedRequest`).

These are plain frozen dataclasses with no knowledge of HTTP or of either wire format;
`openai_wire` and `anthropic_wire` render them, `server` queues and records them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["TRICKLE_PIECES", "Api", "Fault", "RecordedRequest", "Reply", "ToolCall"]

TRICKLE_PIECES = 8
"""How many pieces a trickled (non-streaming) body is sent in."""

Api = Literal[
    "openai-chat",
    "openai-embeddings",
    "anthropic-messages",
    "openai-images",
    "openai-speech",
    "openai-transcriptions",
    "openai-moderations",
    "openai-responses",
    "rerank",
]


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model makes.

    `arguments` is a dict (sent as compact JSON) or a string sent verbatim, which lets a test
    send arguments that are not valid JSON. `id` defaults to a server-assigned
    `call_standin_<n>` (OpenAI) / `toolu_standin_<n>` (Anthropic).
    """

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON text that goes on the wire."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False)


@dataclass(frozen=True)
class Reply:
    """A scripted answer. Every field left as None falls back to the default brain.

    - `text`: the assistant text. With `text`, `tool_calls` and `chunks` all None, the default
      brain's answer is used (handy for overriding only `usage`, `model` or `finish_reason`).
    - `tool_calls`: tool calls to make (finish reason `tool_calls` / `tool_use`).
    - `usage`: `(prompt_tokens, completion_tokens)`; computed as whitespace-separated words if None.
    - `finish_reason`: reported verbatim (either provider's vocabulary; it is translated).
    - `chunks`: the exact text pieces to stream (joined, they are the non-stream text). Chunks are
      never truncated by `stop` / `max_tokens`.
    - `model`: the model name reported back (default: the requested one).
    - `embedding`: the vector returned for every input of an embeddings request.

    The other endpoints read what fits them (and `usage` / `model` where their answer has them):
    `text` is an image's `revised_prompt`, a transcription's text, or a Responses answer (with
    `tool_calls` and `chunks` as for chat); `image` is the PNG (or any bytes) returned for every
    generated image; `audio` the bytes of a speech answer; `scores` one rerank relevance per
    document; `categories` the moderation categories flagged for every input (`[]`: none).
    """

    text: str | None = None
    tool_calls: list[ToolCall] | None = None
    usage: tuple[int, int] | None = None
    finish_reason: str | None = None
    chunks: list[str] | None = None
    model: str | None = None
    embedding: list[float] | None = None
    image: bytes | None = None
    audio: bytes | None = None
    scores: list[float] | None = None
    categories: list[str] | None = None

    @property
    def has_content(self) -> bool:
        """Whether this reply says what the model answers (otherwise the brain answers)."""
        return self.text is not None or self.tool_calls is not None or self.chunks is not None


@dataclass(frozen=True)
class Fault:
    """A failure to inject.

    - `status`: answer with this HTTP status and a provider-shaped error body
      (`message` / `error_type` default to the provider's usual wording for that status;
      `error_type="context_length_exceeded"` gives the context-length wording of each provider).
    - `headers`: extra response headers (on the error, or on the normal answer for other faults).
    - `delay`: seconds to wait before answering (interrupted by `stop()`).
    - `malformed`: answer 200 with a body that is not valid JSON (a broken SSE event when streaming).
    - `disconnect_after_chunks`: streaming: send this many SSE events then drop the connection;
      non-streaming: drop the connection before sending any response.
    - `end_after_chunks`: streaming: send this many SSE events then end the body cleanly, without
      the rest (no finish reason, no `[DONE]` / `message_stop`); `0` is a 200 with no events at all.
    - `unstreamed`: streaming: answer 200 with the plain JSON body, as if `stream` had not been asked.
    - `trickle`: seconds to wait before each SSE event; non-streaming: the body is sent in
      `TRICKLE_PIECES` pieces with this wait before each (a slowloris answer). Interrupted by `stop()`.
    - `pings`: streaming: SSE comment lines (`: ping`) sent before the first event (each after
      `trickle`), as providers send keep-alives while a request is queued.

    A fault without `status` or `malformed` answers with the default brain after its delay.
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    message: str = ""
    error_type: str | None = None
    delay: float = 0
    malformed: bool = False
    disconnect_after_chunks: int | None = None
    end_after_chunks: int | None = None
    unstreamed: bool = False
    trickle: float = 0
    pings: int = 0

    def __post_init__(self) -> None:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"Fault.status must be an HTTP error status (400-599), got {self.status}")
        if self.delay < 0:
            raise ValueError(f"Fault.delay must be >= 0, got {self.delay}")
        if self.disconnect_after_chunks is not None and self.disconnect_after_chunks < 0:
            raise ValueError(f"Fault.disconnect_after_chunks must be >= 0, got {self.disconnect_after_chunks}")
        if self.end_after_chunks is not None and self.end_after_chunks < 0:
            raise ValueError(f"Fault.end_after_chunks must be >= 0, got {self.end_after_chunks}")
        if self.trickle < 0 or self.pings < 0:
            raise ValueError(f"Fault.trickle and Fault.pings must be >= 0, got {self.trickle} and {self.pings}")

    @classmethod
    def context_length(cls) -> Fault:
        """A 400 whose wording every provider (and any-llm) reads as "context length exceeded"."""
        return cls(status=400, error_type="context_length_exceeded")


@dataclass(frozen=True, repr=False)
class RecordedRequest:
    """One request the server received.

    `headers` are lower-cased; `body` is the parsed JSON body (None if it was not JSON), or the
    fields of a multipart upload (file parts as `media.UploadedFile`).
    The repr leaves headers and body out, so API keys never reach logs.
    """

    api: Api
    path: str
    headers: dict[str, str]
    body: Any
    model: str
    stream: bool
    method: str = "POST"

    def __repr__(self) -> str:
        return f"RecordedRequest(api={self.api!r}, model={self.model!r}, stream={self.stream}, path={self.path!r})"
