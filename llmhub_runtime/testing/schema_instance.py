"""Build a deterministic JSON instance that is valid for a JSON schema.

Used by the brain for tool-call arguments and for `response_format` json_schema answers.
Values come from `Hints` (numbers and strings found in the last user message, used in order)
and fall back to 1 / "example". Honoured keywords: `type` (or a list of types), `properties`,
`required`, `items`, `prefixItems`, `minItems`, `maxItems`, `enum`, `const`, `default`,
`anyOf` / `oneOf` (first branch, preferring a non-null one), `allOf` (merged), `$ref` into
`$defs` / `definitions`, `minimum` / `maximum` (and their exclusive forms), `multipleOf`,
`minLength` / `maxLength`, and common string `format`s. Optional properties are included;
`additionalProperties` is never used to add keys.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Hints", "hints_from_text", "instance_for"]

_MAX_DEPTH = 8
_QUOTED = re.compile(r"\"([^\"\n]{1,200})\"|(?<!\w)'([^'\n]{1,200})'(?!\w)|`([^`\n]{1,200})`|“([^”\n]{1,200})”")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\w)")
_CAPITALISED = re.compile(r"(?<=[^.!?\s]\s)([A-Z][\w-]+(?:,?\s[A-Z][\w-]*)*)")

_FORMATS: dict[str, str] = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
}


@dataclass
class Hints:
    """Values to use, in order, for numeric and string fields. Consumed as the instance is built."""

    numbers: list[float] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)

    def next_number(self) -> float | None:
        return self.numbers.pop(0) if self.numbers else None

    def next_string(self) -> str | None:
        return self.strings.pop(0) if self.strings else None


def hints_from_text(text: str, *, exclude: tuple[str, ...] = ()) -> Hints:
    """Numbers in order; strings: quoted text, then runs of capitalised words not starting a sentence.

    Words in `exclude` (tool names, say) are skipped.
    """
    numbers = [float(match) for match in _NUMBER.findall(text)]
    quoted = [next(group for group in match if group) for match in _QUOTED.findall(text)]
    capitalised = [word for word in _CAPITALISED.findall(text) if word not in quoted]
    strings = [value for value in (*quoted, *capitalised) if value not in exclude]
    return Hints(numbers=numbers, strings=strings)


def instance_for(schema: Mapping[str, Any], hints: Hints | None = None) -> Any:
    """A JSON value valid for `schema` (best effort for keywords not listed in the module doc)."""
    return _Builder(schema, hints or Hints()).build(schema, 0)


class _Builder:
    def __init__(self, root: Mapping[str, Any], hints: Hints) -> None:
        self.root = root
        self.hints = hints

    def resolve(self, schema: Mapping[str, Any], depth: int) -> Mapping[str, Any]:
        """Follow `$ref` (local refs only) and merge `allOf`."""
        while "$ref" in schema and depth < _MAX_DEPTH:
            ref = str(schema["$ref"])
            target = self._lookup(ref)
            rest = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {**target, **rest}
            depth += 1
        if "allOf" in schema and isinstance(schema["allOf"], list):
            merged: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
            for part in schema["allOf"]:
                if isinstance(part, Mapping):
                    part = self.resolve(part, depth + 1)
                    for key, value in part.items():
                        if key in ("properties",) and isinstance(value, Mapping):
                            merged["properties"] = {**merged.get("properties", {}), **value}
                        elif key == "required" and isinstance(value, list):
                            merged["required"] = [*merged.get("required", []), *value]
                        else:
                            merged.setdefault(key, value)
            schema = merged
        return schema

    def _lookup(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#"):
            return {}
        node: Any = self.root
        for part in ref.lstrip("#").strip("/").split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                return {}
            node = node[part]
        return node if isinstance(node, Mapping) else {}

    def build(self, schema: Mapping[str, Any], depth: int) -> Any:
        schema = self.resolve(schema, depth)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        if "default" in schema:
            return schema["default"]
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                return self.build(self._pick_branch(branches, depth), depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            non_null = [item for item in kind if item != "null"]
            kind = non_null[0] if non_null else "null"
        if kind is None:
            if "properties" in schema:
                kind = "object"
            elif "items" in schema:
                kind = "array"
            else:
                kind = "string"
        if depth >= _MAX_DEPTH:
            return _shallow(kind)
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, depth)
        if kind == "integer":
            return int(self._number(schema, integer=True))
        if kind == "number":
            return self._number(schema, integer=False)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self._string(schema)

    def _pick_branch(self, branches: list[Any], depth: int) -> Mapping[str, Any]:
        usable = [branch for branch in branches if isinstance(branch, Mapping)]
        for branch in usable:
            if self.resolve(branch, depth + 1).get("type") != "null":
                return branch
        return usable[0] if usable else {}

    def _object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties")
        result: dict[str, Any] = {}
        if isinstance(properties, Mapping):
            for name, sub in properties.items():
                result[str(name)] = self.build(sub if isinstance(sub, Mapping) else {}, depth + 1)
        for name in schema.get("required", []) or []:
            if name not in result:
                result[str(name)] = "example"
        return result

    def _array(self, schema: Mapping[str, Any], depth: int) -> list[Any]:
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            return [self.build(item if isinstance(item, Mapping) else {}, depth + 1) for item in prefix]
        items = schema.get("items")
        item_schema = items if isinstance(items, Mapping) else {}
        count = max(1, int(schema.get("minItems", 1)))
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        return [self.build(item_schema, depth + 1) for _ in range(count)]

    def _number(self, schema: Mapping[str, Any], *, integer: bool) -> float:
        hint = self.hints.next_number()
        value = hint if hint is not None else 1.0
        if integer:
            value = float(math.floor(value)) if value == math.floor(value) else float(round(value))
        step = 1.0 if integer else 0.001
        low = schema.get("minimum")
        high = schema.get("maximum")
        exclusive_low = schema.get("exclusiveMinimum")
        exclusive_high = schema.get("exclusiveMaximum")
        if isinstance(low, int | float) and value < low:
            value = math.ceil(low) if integer else float(low)
        if isinstance(exclusive_low, int | float) and value <= exclusive_low:
            value = math.floor(exclusive_low) + 1 if integer else exclusive_low + step
        if isinstance(high, int | float) and value > high:
            value = math.floor(high) if integer else float(high)
        if isinstance(exclusive_high, int | float) and value >= exclusive_high:
            value = math.ceil(exclusive_high) - 1 if integer else exclusive_high - step
        multiple = schema.get("multipleOf")
        if isinstance(multiple, int | float) and multiple > 0:
            value = math.ceil(value / multiple) * multiple
        return float(value)

    def _string(self, schema: Mapping[str, Any]) -> str:
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            return _FORMATS[fmt]
        value = self.hints.next_string() or "example"
        max_length = schema.get("maxLength")
        min_length = schema.get("minLength")
        if isinstance(max_length, int) and len(value) > max_length:
            value = value[:max_length]
        if isinstance(min_length, int) and len(value) < min_length:
            value = value + "x" * (min_length - len(value))
        return value


def _shallow(kind: Any) -> Any:
    return {"object": {}, "array": [], "integer": 1, "number": 1.0, "boolean": True, "null": None}.get(kind, "example")
