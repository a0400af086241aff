"""Checks on what a caller passes, before anything goes on the wire."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import InvalidInputError

__all__ = [
    "check_audio",
    "check_call_params",
    "check_documents",
    "check_embedding_input",
    "check_messages",
    "check_moderation_input",
    "check_override",
    "check_responses_input",
    "check_role_name",
    "check_text",
]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def check_messages(messages: Any) -> list[Any]:
    """OpenAI-format messages as a list; a bare string becomes one user message."""
    if isinstance(messages, str):
        if not messages:
            raise InvalidInputError("messages is an empty string; pass the prompt text or a list of messages.")
        return [{"role": "user", "content": messages}]
    if not isinstance(messages, Sequence) or isinstance(messages, bytes | bytearray):
        raise InvalidInputError(
            f"messages must be a list of {{'role': ..., 'content': ...}} dicts, not {type(messages).__name__}."
        )
    if not messages:
        raise InvalidInputError("messages is empty; pass at least one message.")
    checked: list[Any] = []
    for index, message in enumerate(messages):
        if isinstance(message, Mapping):
            role = message.get("role")
            if not isinstance(role, str) or role not in _ROLES:
                raise InvalidInputError(
                    f"messages[{index}] has role {role!r}; expected one of {', '.join(sorted(_ROLES))}."
                )
            if "content" not in message and not message.get("tool_calls"):
                raise InvalidInputError(f"messages[{index}] ({role}) has no 'content'.")
            checked.append(dict(message))
        elif hasattr(message, "role") and hasattr(message, "model_dump"):
            checked.append(message)  # an any-llm / OpenAI message object
        else:
            raise InvalidInputError(
                f"messages[{index}] is a {type(message).__name__}; each message must be a dict with "
                "'role' and 'content'."
            )
    return checked


def check_embedding_input(value: Any) -> str | list[str]:
    """A non-empty string or a non-empty list of non-empty strings."""
    if isinstance(value, str):
        if not value:
            raise InvalidInputError("embedding input is an empty string; pass the text to embed.")
        return value
    if not isinstance(value, Sequence) or isinstance(value, bytes | bytearray):
        raise InvalidInputError(f"embedding input must be a string or a list of strings, not {type(value).__name__}.")
    if not value:
        raise InvalidInputError("embedding input is an empty list; pass at least one string.")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidInputError(
                f"embedding input[{index}] is a {type(item).__name__}; every item must be a string."
            )
        if not item:
            raise InvalidInputError(f"embedding input[{index}] is an empty string; providers reject empty inputs.")
    return list(value)


def check_text(value: Any, what: str) -> str:
    """A non-empty string (``what`` names it in the error, e.g. "image prompt")."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, not {type(value).__name__}.")
    if not value.strip():
        raise InvalidInputError(f"{what} is empty; pass the text.")
    return value


def check_documents(value: Any) -> list[str]:
    """Rerank documents: a non-empty list of non-empty strings."""
    if isinstance(value, str) or not isinstance(value, Sequence) or isinstance(value, bytes | bytearray):
        raise InvalidInputError(f"rerank documents must be a list of strings, not {type(value).__name__}.")
    if not value:
        raise InvalidInputError("rerank documents is an empty list; pass at least one document.")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidInputError(
                f"rerank documents[{index}] is a {type(item).__name__}; every document must be a string."
            )
        if not item.strip():
            raise InvalidInputError(f"rerank documents[{index}] is an empty string; providers reject empty documents.")
    return list(value)


def check_moderation_input(value: Any) -> str | list[Any]:
    """A non-empty string, or a non-empty list of strings or of OpenAI content-part dicts."""
    if isinstance(value, str):
        return check_text(value, "moderation input")
    if not isinstance(value, Sequence) or isinstance(value, bytes | bytearray):
        raise InvalidInputError(
            f"moderation input must be a string or a list of strings / content parts, not {type(value).__name__}."
        )
    if not value:
        raise InvalidInputError("moderation input is an empty list; pass at least one item.")
    for index, item in enumerate(value):
        if isinstance(item, str):
            if not item.strip():
                raise InvalidInputError(f"moderation input[{index}] is an empty string.")
        elif not (isinstance(item, Mapping) and isinstance(item.get("type"), str)):
            raise InvalidInputError(
                f"moderation input[{index}] is a {type(item).__name__}; each item must be a string or a content "
                "part such as {'type': 'text', 'text': ...}."
            )
    return [dict(item) if isinstance(item, Mapping) else item for item in value]


def check_responses_input(value: Any) -> str | list[Any]:
    """Responses API input: a non-empty string, or a non-empty list of input items (dicts)."""
    if isinstance(value, str):
        return check_text(value, "responses input")
    if not isinstance(value, Sequence) or isinstance(value, bytes | bytearray):
        raise InvalidInputError(
            f"responses input must be a string or a list of input items, not {type(value).__name__}."
        )
    if not value:
        raise InvalidInputError("responses input is an empty list; pass at least one input item.")
    for index, item in enumerate(value):
        if not (isinstance(item, Mapping) or hasattr(item, "model_dump")):
            raise InvalidInputError(
                f"responses input[{index}] is a {type(item).__name__}; each item must be a dict such as "
                "{'role': 'user', 'content': ...}."
            )
    return [dict(item) if isinstance(item, Mapping) else item for item in value]


def check_audio(value: Any) -> tuple[bytes, str | None]:
    """Audio to transcribe as ``(content, file name)``, read now so that a retry can send it again.

    Takes bytes, a path (``str`` / ``os.PathLike``) or a binary file object.
    """
    name: str | None = None
    if isinstance(value, bytes | bytearray | memoryview):
        content = bytes(value)
    elif isinstance(value, str | os.PathLike):
        path = Path(value)
        if not path.is_file():
            raise InvalidInputError(f"audio file {str(path)!r} does not exist or is not a file.")
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"cannot read audio file {str(path)!r}: {exc.strerror or exc}.") from None
        name = path.name
    elif callable(getattr(value, "read", None)):
        content = value.read()
        if not isinstance(content, bytes):
            raise InvalidInputError(
                f"the audio file object must be opened in binary mode ('rb'), it gave {type(content).__name__}."
            )
        raw_name = getattr(value, "name", None)
        name = Path(raw_name).name if isinstance(raw_name, str) and raw_name else None
    else:
        raise InvalidInputError(f"audio must be bytes, a path or a binary file object, not {type(value).__name__}.")
    if not content:
        raise InvalidInputError("the audio is empty (0 bytes); pass the recording to transcribe.")
    return content, name


def check_role_name(role: Any) -> str:
    """A role name must be a string (``UnknownRoleError`` covers unknown strings)."""
    if not isinstance(role, str):
        raise InvalidInputError(
            f"the role must be a role name such as 'llm.inference', not a {type(role).__name__} ({_short(role)}); "
            "pass the name of a role under 'roles:' in the config."
        )
    return role


def check_override(override: Any) -> Mapping[str, Any] | None:
    """``params_override`` is ``None`` or a mapping with string keys."""
    if override is None:
        return None
    if not isinstance(override, Mapping):
        raise InvalidInputError(
            f"params_override must be a dict of parameters such as {{'temperature': 0.2}}, not a "
            f"{type(override).__name__} ({_short(override)})."
        )
    for key in override:
        if not isinstance(key, str):
            raise InvalidInputError(f"params_override has a non-string key {_short(key)}; use parameter names.")
    return override


_HINTS: dict[str, str] = {
    "temperature": "a number such as 0.2",
    "top_p": "a number between 0 and 1",
    "presence_penalty": "a number",
    "frequency_penalty": "a number",
    "max_tokens": "an integer such as 256",
    "max_completion_tokens": "an integer such as 256",
    "n": "an integer",
    "seed": "an integer",
    "top_logprobs": "an integer",
    "stop": "a string or a list of strings",
    "response_format": "{'type': 'json_object'} or a pydantic model class",
    "tools": "a list of tool dicts ({'type': 'function', 'function': {...}}) or Python functions",
    "tool_choice": "'auto', 'none', 'required' or {'type': 'function', 'function': {'name': ...}}",
    "logit_bias": "a dict of token id to number",
    "stream_options": "a dict such as {'include_usage': True}",
}


def check_call_params(args: Mapping[str, Any], source: Callable[[str], str], *, chat: bool) -> None:
    """Types of the merged call parameters, as any-llm will check them, before anything is sent.

    ``stream`` is refused (it belongs to the call: ``completion(..., stream=True)``); ``timeout`` must be a
    positive number; for chat, every parameter any-llm's ``CompletionParams`` knows is validated by it.
    ``source(name)`` says where a parameter came from, for the message.
    """
    if "stream" in args:
        raise InvalidInputError(
            f"'stream' is not a parameter ({source('stream')}): streaming belongs to the call. Remove it and use "
            "completion(..., stream=True) (or acompletion) to stream; the other modes do not stream."
        )
    timeout = args.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0):
        raise InvalidInputError(
            f"timeout={_short(timeout)} ({source('timeout')}) is not valid: pass the seconds per attempt as a "
            "positive number, e.g. timeout=30."
        )
    if not chat or not args:
        return
    validators = _completion_validators()
    problems: dict[str, str] = {}
    for name, value in args.items():
        validator = validators.get(name)
        if validator is None:
            continue
        try:
            validator.validate_python(value)
        except ValueError as exc:  # pydantic's ValidationError
            errors = getattr(exc, "errors", None)
            details = errors(include_url=False, include_input=False) if callable(errors) else []
            problems[name] = " or ".join(dict.fromkeys(str(d["msg"]) for d in details)) or str(exc)
    if problems:
        lines = [
            f"{name}={_short(args.get(name))} ({source(name)}): {msg}; pass {_HINTS.get(name, 'a valid value')} "
            "or None to drop it"
            for name, msg in problems.items()
        ]
        raise InvalidInputError("Invalid call parameter(s), nothing was sent: " + "; ".join(lines) + ".") from None


_VALIDATORS: dict[str, Any] = {}


def _completion_validators() -> dict[str, Any]:
    """A pydantic validator per field of any-llm's ``CompletionParams`` (model and messages left out), built once.

    Field by field, as ``CompletionParams`` itself validates them (it has no cross-field checks).
    """
    if not _VALIDATORS:
        from any_llm.types.completion import CompletionParams
        from pydantic import TypeAdapter

        fields = CompletionParams.model_fields
        _VALIDATORS.update(
            {
                name: TypeAdapter(f.annotation)
                for name, f in fields.items()
                if name not in ("model_id", "messages") and f.annotation is not None
            }
        )
    return _VALIDATORS


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
