"""YAML text → plain data and the line of every key path, within fixed bounds.

PyYAML composes the node graph (libyaml when available); the values are built here, not by
PyYAML's constructor, so that every odd input becomes a ``ConfigProblem`` naming its line:

- mapping keys stay the text written (a role named ``no`` or ``1.0`` is that string, not a
  YAML 1.1 bool or float); only plain-string keys are accepted;
- merge keys (``<<: *base``, ``<<: [*a, *b]``) work: keys written in the mapping win over
  merged ones, and are not duplicates;
- a duplicate key is reported at its own line, naming the line of the first one;
- scalars that do not fit their tag (``!!int gpt``, ``!!bool maybe``, a 5,000-digit integer)
  and unknown tags are problems, not exceptions;
- nesting deeper than ``MAX_DEPTH`` and aliases expanding to more than ``MAX_ALIAS_NODES``
  nodes (a "billion laughs" file, or an alias inside its own anchor) stop with a problem;
- syntax errors keep line and column, with a hint for tabs and control characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ConfigProblem, ConfigSyntaxError, ConfigValidationError

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "Loc", "parse_yaml", "render_loc"]

Loc = tuple[str | int, ...]

MAX_DEPTH = 100
"""Deepest nesting of mappings and lists accepted (a tool's JSON Schema needs far fewer)."""

MAX_ALIAS_NODES = 100_000
"""Most nodes that aliases may add by repeating their anchors' content."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_SCALAR_NAMES = {
    "tag:yaml.org,2002:int": "integer",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:bool": "boolean",
    "tag:yaml.org,2002:timestamp": "timestamp",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:binary": "base64 binary",
}


class _Stop(Exception):
    """Reading cannot go on (too deep, too many alias nodes); the problem is already recorded."""


def render_loc(loc: Loc) -> str:
    """``("roles", "a", "fallbacks", 0)`` → ``roles.a.fallbacks[0]``; a key with brackets is quoted."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "[" in part or "]" in part:
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else part
    return text


def parse_yaml(text: str, path: str) -> tuple[Any, dict[Loc, int], list[ConfigProblem], list[Loc]]:
    """The document's data, the 1-based line of each key path, the problems found while reading
    and their key paths.

    Raises ``ConfigSyntaxError`` when the text is not YAML.
    """
    import yaml  # here, not at import: `from llmhub_runtime import LLMHub` need not pay for it

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(path, text, exc.problem_mark or exc.context_mark, _detail(exc)) from None
    except yaml.reader.ReaderError as exc:
        position = exc.position
        if not isinstance(loader, yaml.SafeLoader):  # libyaml counts UTF-8 bytes
            position = len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
        detail = f"{exc.reason} (character #x{exc.character:04x})"
        raise _syntax_error(path, text, None, detail, position) from None
    except yaml.YAMLError as exc:
        raise ConfigSyntaxError(f"{path}: invalid YAML: {exc}", path=path) from None
    except RecursionError:
        raise ConfigSyntaxError(f"{path}: invalid YAML: nested too deeply", path=path) from None
    finally:
        loader.dispose()
    reader = _Reader(path)
    if node is None:
        return None, reader.lines, reader.problems, reader.locs
    try:
        data = reader.value(node, (), 0)
    except _Stop:
        raise ConfigValidationError(reader.problems, path=path) from None
    return data, reader.lines, reader.problems, reader.locs


def _detail(exc: Any) -> str:
    detail = " ".join(str(part) for part in (exc.context, exc.problem) if part)
    return detail or str(exc)


def _syntax_error(path: str, text: str, mark: Any, detail: str, position: int | None = None) -> ConfigSyntaxError:
    if mark is not None:
        line, column, index = mark.line + 1, mark.column + 1, mark.index
    elif position is not None:
        before = text[:position]
        line, column, index = before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1, position
    else:
        return ConfigSyntaxError(f"{path}: invalid YAML: {detail}", path=path)
    found = text[index : index + 1] if 0 <= index < len(text) else ""
    line_text = text.splitlines()[line - 1] if line - 1 < len(text.splitlines()) else ""
    if found == "\t" or "\t" in line_text[: max(column, 1)]:
        detail += " (a tab: YAML indentation must use spaces, not tabs)"
    elif position is not None:
        detail += ' (remove it, or write it as an escape inside double quotes, e.g. "\\x07")'
    return ConfigSyntaxError(f"{path}:{line}:{column}: invalid YAML: {detail}", path=path, line=line, column=column)


class _Reader:
    """Builds plain values from a composed node graph, recording lines and problems."""

    def __init__(self, path: str) -> None:
        import yaml

        self.yaml = yaml
        self.path = path
        self.lines: dict[Loc, int] = {}
        self.problems: list[ConfigProblem] = []
        self.locs: list[Loc] = []
        self.open: set[int] = set()
        self.constructor = yaml.constructor.SafeConstructor()
        self.seen: set[int] = set()
        self.alias_nodes = 0

    def problem(self, loc: Loc, line: int, message: str) -> None:
        self.problems.append(ConfigProblem(render_loc(loc), message, path=self.path, line=line))
        self.locs.append(loc)

    def value(self, node: Any, loc: Loc, depth: int) -> Any:
        line = node.start_mark.line + 1
        self.lines.setdefault(loc, line)
        self.count(node, loc)
        if depth > MAX_DEPTH:
            self.problem(
                loc, line, f"nested more than {MAX_DEPTH} levels deep (or an alias used inside its own anchor)"
            )
            raise _Stop
        if isinstance(node, self.yaml.ScalarNode):
            return self.scalar(node, loc, line)
        if not node.tag.startswith("tag:yaml.org,2002:"):
            self.problem(loc, line, f"unknown YAML tag {node.tag!r}; remove it (plain values need no tag)")
        if id(node) in self.open:
            self.problem(loc, line, "an alias is used inside its own anchor (the value would contain itself)")
            raise _Stop
        self.open.add(id(node))
        try:
            if isinstance(node, self.yaml.MappingNode):
                return self.mapping(node, loc, depth)
            return [self.value(item, (*loc, index), depth + 1) for index, item in enumerate(node.value)]
        finally:
            self.open.discard(id(node))

    def count(self, node: Any, loc: Loc) -> None:
        """Count a node; a node met again is an alias repeating its anchor's content."""
        if id(node) not in self.seen:
            self.seen.add(id(node))
            return
        self.alias_nodes += 1
        if self.alias_nodes > MAX_ALIAS_NODES:
            line = node.start_mark.line + 1
            message = f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes; write the values out instead"
            self.problem(loc, line, message)
            raise _Stop

    def scalar(self, node: Any, loc: Loc, line: int) -> Any:
        tag = node.tag
        build = self.constructor.yaml_constructors.get(tag)
        if build is None or tag in ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map", _MERGE_TAG):
            if tag.startswith("tag:yaml.org,2002:") or tag == "?":
                return str(node.value)
            self.problem(loc, line, f"unknown YAML tag {tag!r}; remove it (plain values need no tag)")
            return None
        try:
            return build(self.constructor, node)
        except Exception as exc:
            kind = _SCALAR_NAMES.get(tag, tag)
            shown = node.value if len(node.value) <= 40 else f"{node.value[:40]}... ({len(node.value):,} characters)"
            reason = " (too many digits)" if "digits" in str(exc) else ""
            self.problem(loc, line, f"{shown!r} is not a valid {kind}{reason}")
            return None

    def mapping(self, node: Any, loc: Loc, depth: int) -> dict[str, Any]:
        if depth > MAX_DEPTH:  # merges nest too: `&a {<<: *a}`
            self.problem(loc, node.start_mark.line + 1, "a merge key '<<' merges the mapping into itself")
            raise _Stop
        result: dict[str, Any] = {}
        written: list[tuple[Any, Any]] = []
        merged: list[Any] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self.merge_sources(value_node, loc, key_node.start_mark.line + 1))
            else:
                written.append((key_node, value_node))
        for source in reversed(merged):  # earlier sources win over later ones; written keys over all
            self.count(source, loc)
            result.update(self.mapping(source, loc, depth + 1))
        first_line: dict[str, int] = {}
        for key_node, value_node in written:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, self.yaml.ScalarNode) or key_node.tag not in (_STR_TAG, *_SCALAR_NAMES):
                self.problem(loc, key_line, "keys must be plain names (strings), not lists, mappings or tagged values")
                continue
            key = str(key_node.value)
            if key in first_line:
                self.problem(
                    (*loc, key), key_line, f"duplicate key {key!r} (first at line {first_line[key]}); keep one"
                )
            first_line[key] = key_line
            self.lines[(*loc, key)] = key_line
            result[key] = self.value(value_node, (*loc, key), depth + 1)
        return result

    def merge_sources(self, node: Any, loc: Loc, line: int) -> list[Any]:
        sources = node.value if isinstance(node, self.yaml.SequenceNode) else [node]
        if all(isinstance(source, self.yaml.MappingNode) for source in sources):
            return list(sources)
        self.problem((*loc, "<<"), line, "a merge key '<<' takes an alias of a mapping, or a list of them")
        return []


def lookup(data: Any, loc: Loc) -> Any:
    """The value at ``loc`` in plain data, or ``None``."""
    for part in loc:
        found = isinstance(data, Mapping) and part in data
        found = found or (isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data))
        if not found:
            return None
        data = data[part]
    return data
