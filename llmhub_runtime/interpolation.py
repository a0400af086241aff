"""``${VAR}`` references in config strings, with the shell's default forms.

- ``${NAME}``: the variable's value; unset is a problem naming it;
- ``${NAME:-default}``: ``default`` when unset or empty; ``${NAME-default}``: only when unset;
- the default may itself hold references (``${A:-${B:-x}}``), up to ``MAX_NESTING`` deep;
- ``$$`` is a literal ``$``; a ``$`` not followed by ``{`` or ``$`` is kept as written;
- anything else after ``${`` (``${UNSET``, ``${1X}``, ``${A:?x}``) is a malformed reference.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_NESTING", "interpolate"]

MAX_NESTING = 8
"""Deepest ``${A:-${B:-...}}`` nesting accepted."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_USAGE = "write ${NAME}, ${NAME:-default} or ${NAME-default}, and $$ for a literal $"

Report = Callable[[tuple[str | int, ...], str], None]


class _Malformed(ValueError):
    pass


@dataclass(frozen=True)
class _Ref:
    name: str
    operator: str | None  # None, ":-" or "-"
    default: tuple[str | _Ref, ...]


def interpolate(value: Any, loc: tuple[str | int, ...], report: Report) -> Any:
    """``value`` with every string's references replaced; problems go to ``report(loc, message)``."""
    if isinstance(value, str):
        return _string(value, loc, report) if "$" in value else value
    if isinstance(value, Mapping):
        return {key: interpolate(item, (*loc, key), report) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, (*loc, index), report) for index, item in enumerate(value)]
    return value


def _string(text: str, loc: tuple[str | int, ...], report: Report) -> str:
    try:
        parts, end = _parse(text, 0, 0, top=True)
    except _Malformed as exc:
        report(loc, f"{exc}; {_USAGE}")
        return text
    assert end == len(text)
    return "".join(_evaluate(parts, loc, report))


def _parse(text: str, start: int, depth: int, *, top: bool) -> tuple[tuple[str | _Ref, ...], int]:
    """Parts from ``start`` up to the end (``top``) or up to the ``}`` closing a default."""
    parts: list[str | _Ref] = []
    literal: list[str] = []
    index = start
    while index < len(text):
        char = text[index]
        if char == "}" and not top:
            break
        if char != "$" or index + 1 == len(text) or text[index + 1] not in "${":
            literal.append(char)
            index += 1
            continue
        if text[index + 1] == "$":
            literal.append("$")
            index += 2
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        ref, index = _reference(text, index, depth)
        parts.append(ref)
    if literal:
        parts.append("".join(literal))
    return tuple(parts), index


def _reference(text: str, start: int, depth: int) -> tuple[_Ref, int]:
    """The reference opening at ``text[start:]`` (``${``), and the index after its ``}``."""
    if depth >= MAX_NESTING:
        raise _Malformed(f"references nest more than {MAX_NESTING} deep")
    shown = _clip(text[start:])
    match = _NAME.match(text, start + 2)
    if match is None:
        raise _Malformed(f"{shown!r} does not start with a variable name")
    name, index = match.group(0), match.end()
    if text.startswith("}", index):
        return _Ref(name, None, ()), index + 1
    for operator in (":-", "-"):
        if text.startswith(operator, index):
            default, end = _parse(text, index + len(operator), depth + 1, top=False)
            if end >= len(text):
                raise _Malformed(f"{shown!r} has no closing '}}'")
            return _Ref(name, operator, default), end + 1
    if index >= len(text):
        raise _Malformed(f"{shown!r} has no closing '}}'")
    raise _Malformed(f"{shown!r} is not a reference llmhub reads")


def _evaluate(parts: tuple[str | _Ref, ...], loc: tuple[str | int, ...], report: Report) -> list[str]:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        found = os.environ.get(part.name)
        if found is not None and not (found == "" and part.operator == ":-"):
            out.append(found)
        elif part.operator is not None:
            out.extend(_evaluate(part.default, loc, report))
        else:
            report(loc, f"environment variable {part.name} is not set (use ${{{part.name}:-default}} for a default)")
    return out


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
