"""Checks on what a caller passes, before anything goes on the wire."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import InvalidInputError

__all__ = ["check_embedding_input", "check_messages"]

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
            if role not in _ROLES:
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
