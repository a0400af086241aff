"""OpenAI wire format: chat completions (JSON and SSE), embeddings, model lists and error bodies.

Request bodies become a neutral `Conversation`; an `Answer` becomes the JSON (or the list of SSE
events) the `openai` SDK expects. No HTTP here; `server` does the I/O.
"""

from __future__ import annotations

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
from llmhub_runtime.testing.embeddings import encode_base64
from llmhub_runtime.testing.replies import Fault, ToolCall

__all__ = [
    "ChatRequest",
    "EmbeddingsRequest",
    "InvalidRequest",
    "chat_completion",
    "chat_stream_events",
    "embeddings_response",
    "error_body",
    "invalid_request_body",
    "model_list",
    "parse_chat",
    "parse_embeddings",
]

SYSTEM_FINGERPRINT = "fp_standin"
DONE_EVENT = b"data: [DONE]\n\n"
MALFORMED_BODY = b'{"id": "chatcmpl-standin", "object": "chat.completion", "choices": [{"index": 0,'
MALFORMED_EVENT = b'data: {"id": "chatcmpl-standin", "choices": [\n\n'

_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# status -> (type, code, message); "{model}" is filled in.
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "permission_denied", "You are not allowed to sample from this model."),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
    408: ("timeout", None, "Request timed out."),
    409: ("invalid_request_error", "conflict", "Conflict."),
    413: ("invalid_request_error", "request_too_large", "Request too large."),
    422: ("invalid_request_error", None, "Unprocessable entity."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
    504: ("server_error", None, "Gateway timeout."),
    529: ("server_error", None, "The engine is currently overloaded, please try again later."),
}
_CONTEXT_LENGTH_MESSAGE = (
    "This model's maximum context length is 4096 tokens. However, your messages resulted in {tokens} tokens. "
    "Please reduce the length of the messages."
)


@dataclass(frozen=True)
class ChatRequest:
    """A parsed `POST /v1/chat/completions` body."""

    conversation: Conversation
    stream: bool
    include_usage: bool
    stop: tuple[str, ...]
    max_tokens: int | None
    n: int


@dataclass(frozen=True)
class EmbeddingsRequest:
    """A parsed `POST /v1/embeddings` body."""

    model: str
    inputs: tuple[str, ...]
    dimensions: int | None
    encoding_format: str


def content_text(content: Any) -> str:
    """Plain text of an OpenAI message `content` (a string or a list of parts; non-text parts dropped)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and part.get("type") in ("text", "input_text", None)
        ]
        return "\n".join(part for part in parts if part)
    return str(content)


class InvalidRequest(ValueError):
    """A request OpenAI would refuse with 400; ``param`` and ``code`` as in OpenAI's error body."""

    def __init__(self, message: str, *, param: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


_JSON_TYPES = {str: "a string", int: "an integer", float: "a decimal", bool: "a boolean", list: "an array"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    return next((name for kind, name in _JSON_TYPES.items() if type(value) is kind), type(value).__name__)


def _require(container: Mapping[str, Any], key: str, where: str, kind: type, expected: str) -> Any:
    """``container[key]``, or `InvalidRequest` in OpenAI's words when it is missing or of the wrong type."""
    if key not in container or container[key] is None:
        raise InvalidRequest(
            f"Missing required parameter: '{where}.{key}'.", param=f"{where}.{key}", code="missing_required_parameter"
        )
    value = container[key]
    if not isinstance(value, kind):
        raise InvalidRequest(
            f"Invalid type for '{where}.{key}': expected {expected}, but got {_json_type(value)} instead.",
            param=f"{where}.{key}",
            code="invalid_type",
        )
    return value


def _tool_calls(raw: Mapping[str, Any], where: str) -> tuple[ToolCall, ...]:
    """An assistant message's ``tool_calls``, checked the way OpenAI checks them (400 otherwise)."""
    if raw.get("tool_calls") is None:
        return ()
    items = _require(raw, "tool_calls", where, list, "an array of objects")
    calls = []
    for index, item in enumerate(items):
        at = f"{where}.tool_calls[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidRequest(
                f"Invalid type for '{at}': expected an object, but got {_json_type(item)} instead.",
                param=at,
                code="invalid_type",
            )
        call_id = _require(item, "id", at, str, "a string")
        kind = _require(item, "type", at, str, "a string")
        if kind != "function":
            raise InvalidRequest(
                f"Invalid value: '{kind}'. Supported values are: 'function'.", param=f"{at}.type", code="invalid_value"
            )
        function = _require(item, "function", at, Mapping, "an object")
        name = _require(function, "name", f"{at}.function", str, "a string")
        arguments = _require(function, "arguments", f"{at}.function", str, "a string")
        calls.append(ToolCall(name, arguments, call_id))
    return tuple(calls)


def _message(raw: Mapping[str, Any], where: str = "messages[0]") -> Message:
    role = str(raw.get("role", "user"))
    text = content_text(raw.get("content"))
    if role in ("system", "developer"):
        return Message("system", text)
    if role in ("tool", "function"):
        return Message("tool", text, tool_call_id=raw.get("tool_call_id"))
    if role == "assistant":
        return Message("assistant", text, tool_calls=_tool_calls(raw, where))
    return Message("user", text)


def _tools(body: Mapping[str, Any]) -> tuple[ToolSpec, ...]:
    specs: list[ToolSpec] = []
    for tool in body.get("tools") or ():
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and function.get("name"):
            specs.append(_tool_spec(function))
    for function in body.get("functions") or ():
        if isinstance(function, Mapping) and function.get("name"):
            specs.append(_tool_spec(function))
    return tuple(specs)


def _tool_spec(function: Mapping[str, Any]) -> ToolSpec:
    parameters = function.get("parameters")
    return ToolSpec(
        name=str(function["name"]),
        description=str(function.get("description") or ""),
        parameters=parameters if isinstance(parameters, Mapping) else {},
    )


def _tool_choice(body: Mapping[str, Any]) -> tuple[Any, str | None]:
    choice = body.get("tool_choice", body.get("function_call"))
    if choice is None or choice == "auto":
        return "auto", None
    if choice == "none":
        return "none", None
    if choice in ("required", "any"):
        return "required", None
    if isinstance(choice, Mapping):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else choice.get("name")
        if name:
            return "named", str(name)
        if choice.get("type") in ("required", "any"):
            return "required", None
    return "auto", None


def parse_chat(body: Mapping[str, Any]) -> ChatRequest:
    """Read a chat completions body (lenient: unknown fields are ignored).

    Raises `InvalidRequest` for what OpenAI refuses and the stand-in cannot read: malformed
    ``tool_calls`` in an assistant message.
    """
    tool_choice, forced = _tool_choice(body)
    response_format = body.get("response_format")
    schema: Mapping[str, Any] | None = None
    json_object = False
    if isinstance(response_format, Mapping):
        if response_format.get("type") == "json_schema":
            json_schema = response_format.get("json_schema")
            raw_schema = json_schema.get("schema") if isinstance(json_schema, Mapping) else None
            schema = raw_schema if isinstance(raw_schema, Mapping) else {"type": "object"}
        elif response_format.get("type") == "json_object":
            json_object = True
    stop = body.get("stop")
    stops = (stop,) if isinstance(stop, str) else tuple(str(s) for s in stop or ())
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    stream_options = body.get("stream_options")
    conversation = Conversation(
        model=str(body.get("model", "")),
        messages=tuple(
            _message(m, f"messages[{i}]") for i, m in enumerate(body.get("messages") or ()) if isinstance(m, Mapping)
        ),
        tools=_tools(body),
        tool_choice=tool_choice,
        forced_tool=forced,
        response_schema=schema,
        json_object=json_object,
    )
    return ChatRequest(
        conversation=conversation,
        stream=bool(body.get("stream")),
        include_usage=isinstance(stream_options, Mapping) and bool(stream_options.get("include_usage")),
        stop=stops,
        max_tokens=int(max_tokens) if isinstance(max_tokens, int | float) else None,
        n=max(1, int(body.get("n") or 1)),
    )


def finish_reason(answer: Answer) -> str:
    """The answer's finish reason in OpenAI's vocabulary."""
    return _FINISH_REASONS.get(answer.finish_reason, answer.finish_reason)


def _usage(answer: Answer) -> dict[str, Any]:
    return {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.total_tokens,
    }


def chat_completion(answer: Answer, *, completion_id: str, created: int, n: int = 1) -> dict[str, Any]:
    """The non-streaming `chat.completion` object."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": answer.text if (answer.text or not answer.tool_calls) else None,
        "refusal": None,
    }
    if answer.tool_calls:
        message["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments_json}}
            for call in answer.tool_calls
        ]
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": answer.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [
            {"index": index, "message": message, "logprobs": None, "finish_reason": finish_reason(answer)}
            for index in range(n)
        ],
        "usage": _usage(answer),
    }


def chat_stream_events(
    answer: Answer, *, completion_id: str, created: int, include_usage: bool, n: int = 1
) -> list[bytes]:
    """The SSE events of a streamed completion, `data: [DONE]` included."""
    base: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": answer.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    if include_usage:
        base["usage"] = None

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return sse_data({**base, "choices": [choice]})

    events: list[bytes] = []
    for index in range(n):
        events.append(chunk(index, {"role": "assistant", "content": "", "refusal": None}))
        events.extend(chunk(index, {"content": piece}) for piece in answer.stream_pieces())
        for position, call in enumerate(answer.tool_calls):
            opening = {
                "index": position,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            events.append(chunk(index, {"tool_calls": [opening]}))
            for fragment in split_stream_pieces(call.arguments_json):
                events.append(chunk(index, {"tool_calls": [{"index": position, "function": {"arguments": fragment}}]}))
        events.append(chunk(index, {}, finish_reason(answer)))
    if include_usage:
        events.append(sse_data({**base, "choices": [], "usage": _usage(answer)}))
    events.append(DONE_EVENT)
    return events


def sse_data(payload: Mapping[str, Any]) -> bytes:
    """One `data: <json>` SSE event."""
    return f"data: {dump_json(payload)}\n\n".encode()


def parse_embeddings(body: Mapping[str, Any]) -> EmbeddingsRequest:
    """Read an embeddings body; token-id inputs are embedded by their text form."""
    raw = body.get("input", "")
    if isinstance(raw, str):
        inputs: tuple[str, ...] = (raw,)
    elif isinstance(raw, list) and raw and all(isinstance(item, int) for item in raw):
        inputs = (" ".join(str(item) for item in raw),)
    elif isinstance(raw, list):
        inputs = tuple(item if isinstance(item, str) else " ".join(str(t) for t in item) for item in raw)
    else:
        inputs = (str(raw),)
    dimensions = body.get("dimensions")
    return EmbeddingsRequest(
        model=str(body.get("model", "")),
        inputs=inputs,
        dimensions=int(dimensions) if isinstance(dimensions, int) else None,
        encoding_format=str(body.get("encoding_format") or "float"),
    )


def embeddings_response(
    request: EmbeddingsRequest, vectors: Sequence[Sequence[float]], *, model: str
) -> dict[str, Any]:
    """The `list` of embeddings, encoded as the request asked (`float` or `base64`)."""
    tokens = sum(count_tokens(text) for text in request.inputs)
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": encode_base64(vector) if request.encoding_format == "base64" else list(vector),
        }
        for index, vector in enumerate(vectors)
    ]
    return {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def model_list(models: Sequence[str], *, created: int) -> dict[str, Any]:
    """`GET /v1/models` in OpenAI's shape."""
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": created, "owned_by": "llmhub-standin"} for name in models],
    }


def error_body(fault: Fault, *, model: str, prompt_tokens: int = 0) -> dict[str, Any]:
    """`{"error": {"message", "type", "param", "code"}}` for a fault with a status."""
    status = fault.status or 500
    code: str | None
    if fault.error_type == "context_length_exceeded":
        error_type, code = "invalid_request_error", "context_length_exceeded"
        message = fault.message or _CONTEXT_LENGTH_MESSAGE.format(tokens=max(prompt_tokens, 4097))
        param: str | None = "messages"
    else:
        default_type, code, default_message = _ERRORS.get(status, ("api_error", None, f"HTTP {status} error."))
        error_type = fault.error_type or default_type
        message = fault.message or default_message.replace("{model}", model)
        param = None
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def not_found_body(path: str) -> dict[str, Any]:
    """The body for an unknown path."""
    return {
        "error": {"message": f"Invalid URL (POST {path})", "type": "invalid_request_error", "param": None, "code": None}
    }


def bad_request_body(message: str) -> dict[str, Any]:
    """The body for a request the stand-in cannot read."""
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}


def invalid_request_body(error: InvalidRequest) -> dict[str, Any]:
    """OpenAI's 400 body for a request it refuses, naming the offending parameter."""
    kind = "invalid_request_error"
    return {"error": {"message": error.message, "type": kind, "param": error.param, "code": error.code}}
