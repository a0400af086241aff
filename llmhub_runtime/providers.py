"""The provider ids any-llm knows and what each can do, read without importing any-llm.

Importing ``any_llm`` pulls in the openai and anthropic SDKs (about two seconds), so config
validation reads any-llm's installed source with ``ast`` instead:

- the ids: the provider folders, the ``LLMProvider`` enum and the config-only registry rows
  (``tests/test_providers.py`` pins them to ``AnyLLM.get_supported_providers()``);
- the capability flags (``SUPPORTS_EMBEDDING``, ...): for a folder provider, its
  ``<Kind>Provider`` class and its bases (C3 order, each base found through the module it is
  imported from, ``AnyLLM``'s defaults last); for a registry row, the row's arguments over the
  ``OpenAICompatibleProviderConfig`` defaults, mapped the way ``registry.py`` builds the class,
  over its base class's flags (``tests/test_capabilities.py`` pins every flag of every provider to
  the real classes).

Only the files a kind needs are parsed, once per process. A flag that cannot be read is ``None``:
unknown never blocks a config.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "CAPABILITY_FLAGS",
    "KEYLESS_KINDS",
    "MODE_FLAGS",
    "default_env_key",
    "known_provider_ids",
    "provider_capabilities",
    "supports_mode",
]

KEYLESS_KINDS = frozenset({"llamacpp", "llamafile", "lmstudio", "ollama", "vllm"})
"""Local servers that need no API key unless ``env_key`` names one."""

MODE_FLAGS: Mapping[str, str] = MappingProxyType(
    {
        "chat": "SUPPORTS_COMPLETION",
        "tool": "SUPPORTS_COMPLETION",
        "embedding": "SUPPORTS_EMBEDDING",
        "image": "SUPPORTS_IMAGE_GENERATION",
        "speech": "SUPPORTS_AUDIO_SPEECH",
        "transcription": "SUPPORTS_AUDIO_TRANSCRIPTION",
        "rerank": "SUPPORTS_RERANK",
        "moderation": "SUPPORTS_MODERATION",
        "responses": "SUPPORTS_RESPONSES",
        "audio": "SUPPORTS_COMPLETION",  # legacy 1.x modes, served by completion()
        "other": "SUPPORTS_COMPLETION",
    }
)
"""The any-llm class flag that says whether a provider serves each role mode."""

CAPABILITY_FLAGS: tuple[str, ...] = tuple(dict.fromkeys(MODE_FLAGS.values()))
"""Every flag ``provider_capabilities`` reads."""

_REGISTRY_MODULE = "any_llm.providers.registry"


@functools.cache
def known_provider_ids() -> frozenset[str]:
    """Every provider id any-llm accepts in ``AnyLLM.create``."""
    root = _root()
    if root is None:
        return frozenset()
    ids = {p.name for p in (root / "providers").iterdir() if (p / "__init__.py").is_file()}
    ids |= _enum_values(_module("any_llm.constants"), "LLMProvider")
    ids |= _registry_keys(_module(_REGISTRY_MODULE))
    if not ids:  # an any-llm layout this reader does not know: ask any-llm itself
        from any_llm import AnyLLM

        ids = set(AnyLLM.get_supported_providers())
    return frozenset(ids)


def default_env_key(kind: str) -> str | None:
    """The environment variable a provider's key is read from when ``env_key`` is omitted."""
    if kind in KEYLESS_KINDS:
        return None
    return f"{kind.upper()}_API_KEY"


@functools.cache
def provider_capabilities(kind: str) -> Mapping[str, bool | None]:
    """``CAPABILITY_FLAGS`` of any-llm's provider class for ``kind``; ``None`` where undetermined."""
    key = kind.strip().lower()
    rows = _registry()
    if rows is not None and key in rows.rows:
        flags = {flag: rows.flag(key, flag) for flag in CAPABILITY_FLAGS}
    else:
        target = _resolve_name(f"any_llm.providers.{key}", f"{key.capitalize()}Provider")
        flags = {flag: _class_flag(target, flag) for flag in CAPABILITY_FLAGS}
    return MappingProxyType(flags)


def supports_mode(kind: str, mode: str) -> bool | None:
    """Whether any-llm's ``kind`` provider serves role ``mode`` (``None``: cannot tell)."""
    flag = MODE_FLAGS.get(mode)
    return provider_capabilities(kind).get(flag) if flag is not None else None


# --- reading any-llm's source -----------------------------------------------------------------


@functools.cache
def _root() -> Path | None:
    spec = importlib.util.find_spec("any_llm")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None


def _enum_values(module: _Module | None, class_name: str) -> set[str]:
    values: set[str] = set()
    for node in ast.walk(module.tree) if module else ():
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if (
                    isinstance(item, ast.Assign)
                    and isinstance(item.value, ast.Constant)
                    and isinstance(item.value.value, str)
                    and all(isinstance(t, ast.Name) and t.id.isupper() for t in item.targets)
                ):
                    values.add(item.value.value)
    return values


def _registry_keys(module: _Module | None) -> set[str]:
    """String keys of module-level dicts whose values construct a provider config row."""
    keys: set[str] = set()
    for node in module.tree.body if module else ():
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(item, ast.Call):
                    keys.add(key.value)
    return keys


@dataclass(frozen=True)
class _Module:
    name: str
    package: str
    tree: ast.Module
    bindings: Mapping[str, tuple[Any, ...]]
    """Top-level name → ``("class", ClassDef)`` | ``("from", module, name)`` | ``("module", module)``
    | ``("value", expr)``."""


@functools.cache
def _module(name: str) -> _Module | None:
    root = _root()
    if root is None or name.split(".")[0] != "any_llm":
        return None
    base = root.joinpath(*name.split(".")[1:])
    if (base / "__init__.py").is_file():
        path, package = base / "__init__.py", name
    elif base.with_name(base.name + ".py").is_file():
        path, package = base.with_name(base.name + ".py"), name.rpartition(".")[0]
    else:
        return None
    tree = _parse(path)
    if tree is None:
        return None
    bindings: dict[str, tuple[Any, ...]] = {}
    for node in _top_level(tree.body):
        if isinstance(node, ast.ClassDef):
            bindings[node.name] = ("class", node)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(package, node.module, node.level)
            for alias in node.names:
                bindings[alias.asname or alias.name] = ("from", source, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bindings[alias.asname] = ("module", alias.name)
                else:
                    head = alias.name.split(".")[0]
                    bindings[head] = ("module", head)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    bindings[target.id] = ("value", node.value)
    return _Module(name, package, tree, bindings)


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, looking into ``if``/``try``/``with`` blocks (not ``except`` ones)."""
    for node in body:
        if isinstance(node, ast.If):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
            yield from _top_level(node.finalbody)
        elif isinstance(node, ast.With):
            yield from _top_level(node.body)
        else:
            yield node


def _absolute(package: str, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*base, *([module] if module else [])])


# A resolved name: ("class", module, name) | ("registry", row) | ("module", module)
# | ("external", qualified name) | ("unknown",)
_Target = tuple[str, ...]
_UNKNOWN: _Target = ("unknown",)


@functools.cache
def _resolve_name(module: str, name: str, depth: int = 0) -> _Target:
    """What ``name`` is in ``module``, following imports (any-llm's own modules only)."""
    if depth > 25:
        return _UNKNOWN
    parsed = _module(module)
    if parsed is None:
        return _UNKNOWN if module.split(".")[0] == "any_llm" else ("external", f"{module}.{name}")
    binding = parsed.bindings.get(name)
    if binding is None:
        if _module(f"{module}.{name}") is not None:
            return ("module", f"{module}.{name}")
        return ("external", f"builtins.{name}") if name == "object" else _UNKNOWN
    kind = binding[0]
    if kind == "class":
        return ("class", module, name)
    if kind == "from":
        source, original = binding[1], binding[2]
        if source.split(".")[0] != "any_llm":
            return ("external", f"{source}.{original}")
        return _resolve_name(source, original, depth + 1)
    if kind == "module":
        target: str = binding[1]
        return ("module", target) if target.split(".")[0] == "any_llm" else ("external", target)
    return _resolve_value(module, binding[1], depth + 1)


def _resolve_value(module: str, expr: ast.expr, depth: int) -> _Target:
    """A module-level ``X = ...``: another name, or a registry shim ``get_registry_provider_class("row")``."""
    if isinstance(expr, ast.Name):
        return _resolve_name(module, expr.id, depth)
    if (
        isinstance(expr, ast.Call)
        and len(expr.args) == 1
        and isinstance(expr.args[0], ast.Constant)
        and isinstance(expr.args[0].value, str)
        and _is_registry_function(module, expr.func, depth)
    ):
        return ("registry", expr.args[0].value.strip().lower())
    return _UNKNOWN


def _is_registry_function(module: str, func: ast.expr, depth: int) -> bool:
    """Whether ``func`` names ``registry.get_registry_provider_class`` (imported or dotted)."""
    if isinstance(func, ast.Name):
        parsed = _module(module)
        binding = parsed.bindings.get(func.id) if parsed else None
        return (
            binding is not None
            and binding[0] == "from"
            and binding[1] == _REGISTRY_MODULE
            and binding[2] == "get_registry_provider_class"
        )
    if isinstance(func, ast.Attribute) and func.attr == "get_registry_provider_class":
        return _resolve_expr(module, func.value, depth) == ("module", _REGISTRY_MODULE)
    return False


def _resolve_expr(module: str, expr: ast.expr, depth: int = 0) -> _Target:
    if isinstance(expr, ast.Name):
        return _resolve_name(module, expr.id, depth)
    if isinstance(expr, ast.Attribute):
        owner = _resolve_expr(module, expr.value, depth + 1)
        if owner[0] == "module":
            return _resolve_name(owner[1], expr.attr, depth + 1)
        if owner[0] == "external":
            return ("external", f"{owner[1]}.{expr.attr}")
        return _UNKNOWN
    if isinstance(expr, ast.Subscript):  # Generic[T], Protocol[T]
        return _resolve_expr(module, expr.value, depth)
    return _UNKNOWN


def _class_node(target: _Target) -> ast.ClassDef | None:
    parsed = _module(target[1])
    binding = parsed.bindings.get(target[2]) if parsed else None
    return binding[1] if binding is not None and binding[0] == "class" else None


@functools.cache
def _mro(target: _Target, depth: int = 0) -> tuple[_Target, ...] | None:
    """C3 linearization of a class found by ``_resolve_name`` (externals and unknowns are leaves)."""
    if target[0] != "class":
        return (target,)
    node = _class_node(target)
    if node is None or depth > 25:
        return None
    bases = [_resolve_expr(target[1], base) for base in node.bases]
    sequences: list[list[_Target]] = []
    for base in bases:
        linear = _mro(base, depth + 1)
        if linear is None:
            return None
        sequences.append(list(linear))
    sequences.append(list(bases))
    result: list[_Target] = [target]
    while any(sequences):
        sequences = [seq for seq in sequences if seq]
        head = next((seq[0] for seq in sequences if not any(seq[0] in other[1:] for other in sequences)), None)
        if head is None:
            return None  # no consistent order: Python would refuse the class too
        result.append(head)
        sequences = [seq[1:] if seq[0] == head else seq for seq in sequences]
    return tuple(result)


def _class_flag(target: _Target, flag: str) -> bool | None:
    """The value ``getattr(cls, flag)`` has for a resolved class; ``None`` when unknown or unset."""
    if target[0] == "registry":
        rows = _registry()
        return rows.flag(target[1], flag) if rows is not None and target[1] in rows.rows else None
    mro = _mro(target)
    if mro is None:
        return None
    for item in mro:
        if item[0] == "external":
            continue  # abc.ABC, typing.Generic, ...: no any-llm flags
        if item[0] != "class":
            return None
        found, value = _own_flag(item, flag)
        if found:
            return value
    return None


def _own_flag(target: _Target, flag: str) -> tuple[bool, bool | None]:
    """Whether the class body itself sets ``flag``, and to what (``None``: not a readable bool)."""
    node = _class_node(target)
    if node is None:
        return True, None
    found, value = False, None
    for item in node.body:
        if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == flag for t in item.targets):
            found, value = True, _bool(target[1], node, item.value)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.target.id == flag:
            if item.value is not None:
                found, value = True, _bool(target[1], node, item.value)
        elif not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Expr) and any(
            isinstance(sub, ast.Name) and sub.id == flag and isinstance(sub.ctx, ast.Store) for sub in ast.walk(item)
        ):
            return True, None  # set inside an if/try in the class body: cannot tell statically
    return found, value


def _bool(module: str, node: ast.ClassDef, expr: ast.expr, depth: int = 0) -> bool | None:
    if depth > 10:
        return None
    if isinstance(expr, ast.Constant):
        return expr.value if isinstance(expr.value, bool) else None
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        inner = _bool(module, node, expr.operand, depth + 1)
        return None if inner is None else not inner
    if isinstance(expr, ast.Name):
        for item in reversed(node.body):  # an earlier class attribute
            if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == expr.id for t in item.targets):
                return _bool(module, node, item.value, depth + 1)
        parsed = _module(module)
        binding = parsed.bindings.get(expr.id) if parsed else None
        if binding is not None and binding[0] == "value":
            return _bool(module, node, binding[1], depth + 1)
    return None


# --- the config-only registry -------------------------------------------------------------------

_MISSING = object()


@dataclass(frozen=True)
class _Registry:
    """``PROVIDER_REGISTRY`` rows and how ``registry.py`` turns a row into a provider class."""

    rows: Mapping[str, Mapping[str, Any]]
    """Row name → its config values (dataclass defaults overlaid with the row's arguments)."""
    param: str
    attrs: Mapping[str, ast.expr]
    """Class attribute → expression over the config parameter."""
    base: ast.expr | None

    def flag(self, row: str, flag: str) -> bool | None:
        config = self.rows[row]
        if flag in self.attrs:
            value = _config_value(self.attrs[flag], self.param, config)
            return value if isinstance(value, bool) else None
        if self.base is None:
            return None
        values = {_class_flag(base, flag) for base in self._bases(self.base, config)}
        return values.pop() if len(values) == 1 else None

    def _bases(self, expr: ast.expr, config: Mapping[str, Any]) -> list[_Target]:
        if isinstance(expr, ast.IfExp):
            test = _config_value(expr.test, self.param, config)
            if isinstance(test, bool):
                return self._bases(expr.body if test else expr.orelse, config)
            return [*self._bases(expr.body, config), *self._bases(expr.orelse, config)]
        return [_resolve_expr(_REGISTRY_MODULE, expr)]


@functools.cache
def _registry() -> _Registry | None:
    parsed = _module(_REGISTRY_MODULE)
    if parsed is None:
        return None
    classes = {node.name: node for node in parsed.tree.body if isinstance(node, ast.ClassDef)}
    rows: dict[str, Mapping[str, Any]] = {}
    for node in parsed.tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if not isinstance(value, ast.Dict):
            continue
        for key, item in zip(value.keys, value.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(item, ast.Call)):
                continue
            config_class = classes.get(item.func.id) if isinstance(item.func, ast.Name) else None
            config = _dataclass_defaults(config_class) if config_class is not None else {}
            for keyword in item.keywords:
                if keyword.arg is not None:
                    config[keyword.arg] = _constant(keyword.value)
            rows[key.value] = MappingProxyType(config)
    builder = _class_builder(parsed.tree)
    if builder is None:
        return _Registry(rows=rows, param="", attrs={}, base=None)
    param, attrs, base = builder
    return _Registry(rows=rows, param=param, attrs=attrs, base=base)


def _dataclass_defaults(node: ast.ClassDef) -> dict[str, Any]:
    return {
        item.target.id: _constant(item.value)
        for item in node.body
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.value is not None
    }


def _constant(expr: ast.expr) -> Any:
    return expr.value if isinstance(expr, ast.Constant) else _MISSING


def _class_builder(tree: ast.Module) -> tuple[str, dict[str, ast.expr], ast.expr | None] | None:
    """The function that calls ``type(name, (base,), attrs)``: its parameter, attrs and base."""
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef) or not function.args.args:
            continue
        for call in ast.walk(function):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == "type"
                and len(call.args) == 3
            ):
                continue
            assigned = {
                target.id: item.value
                for item in function.body
                if isinstance(item, ast.Assign | ast.AnnAssign) and item.value is not None
                for target in (item.targets if isinstance(item, ast.Assign) else [item.target])
                if isinstance(target, ast.Name)
            }
            attrs_expr = call.args[2]
            attrs_expr = assigned.get(attrs_expr.id, attrs_expr) if isinstance(attrs_expr, ast.Name) else attrs_expr
            if not isinstance(attrs_expr, ast.Dict):
                return None
            attrs = {
                key.value: value
                for key, value in zip(attrs_expr.keys, attrs_expr.values, strict=True)
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
            }
            bases = call.args[1]
            base: ast.expr | None = None
            if isinstance(bases, ast.Tuple) and len(bases.elts) == 1:
                base = bases.elts[0]
                if isinstance(base, ast.Name) and base.id in assigned:
                    base = assigned[base.id]
            return function.args.args[0].arg, attrs, base
    return None


def _config_value(expr: ast.expr, param: str, config: Mapping[str, Any]) -> Any:
    """Evaluate ``config.x``, constants, ``is (not) None``, ``not`` and ``and``/``or`` for one row."""
    if isinstance(expr, ast.Constant):
        return expr.value
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == param:
        return config.get(expr.attr, _MISSING)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        inner = _config_value(expr.operand, param, config)
        return _MISSING if inner is _MISSING else not inner
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1 and isinstance(expr.ops[0], ast.Is | ast.IsNot):
        left = _config_value(expr.left, param, config)
        right = _config_value(expr.comparators[0], param, config)
        if left is _MISSING or right is _MISSING:
            return _MISSING
        return (left is right) if isinstance(expr.ops[0], ast.Is) else (left is not right)
    if isinstance(expr, ast.BoolOp):
        values = [_config_value(value, param, config) for value in expr.values]
        if any(value is _MISSING for value in values):
            return _MISSING
        return all(values) if isinstance(expr.op, ast.And) else any(values)
    return _MISSING
