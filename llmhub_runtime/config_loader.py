"""``llmhub.yaml`` → validated ``RuntimeConfig``, or an error that names file, line and key path.

Loading collects every problem before raising, so one run shows them all:

1. YAML (``yaml_source``): syntax (line and column kept), duplicate keys, bad scalars, tags,
   nesting and alias bounds, an empty file or a non-mapping root;
2. ``${VAR}`` references in strings (``interpolation``);
3. the pydantic models (unknown keys with did-you-mean, wrong types, bad values, no inf/nan);
4. cross references, on every part that is structurally valid (a finding that rests on a part
   reported in step 3 is dropped as a consequence): providers, any-llm provider ids, fallbacks
   and their cycles, modes and lengths, tools (only on chat/tool roles, required on tool
   roles), param names against what any-llm accepts for the role's mode (``params``), and each
   role's mode against its providers' capabilities in any-llm (``providers``).
"""

from __future__ import annotations

import math
import os
import re
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from .envs import bind_env
from .errors import ConfigNotFoundError, ConfigProblem, ConfigValidationError
from .interpolation import interpolate
from .models import RuntimeConfig
from .params import accepted_params
from .providers import known_provider_ids
from .resolver import (
    ConfigProblemError,
    build_call,
    chain_cache,
    close_matches,
    mode_problem,
    provider_entry,
    shorten,
)
from .yaml_source import MAX_DEPTH, Loc, lookup, parse_yaml, render_loc

__all__ = [
    "CONFIG_ENV_VAR",
    "config_from_dict",
    "default_config_path",
    "load_config",
    "load_runtime_config",
    "parse_runtime_config",
    "validate_config",
]

CONFIG_ENV_VAR = "LLMHUB_CONFIG"

Finding = tuple[Loc, str, str | None, tuple[Loc, ...]]
"""A cross-reference problem: key path, message, suggestion, and the key paths it rests on."""


def default_config_path() -> Path:
    """``$LLMHUB_CONFIG`` if set, else ``./llmhub.yaml``."""
    return Path(os.environ.get(CONFIG_ENV_VAR) or "llmhub.yaml")


def load_config(path: str | os.PathLike[str] | None = None) -> RuntimeConfig:
    """Read and validate a config file (default: ``default_config_path()``)."""
    file = Path(path) if path is not None else default_config_path().absolute()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = "" if path is not None else f" (set ${CONFIG_ENV_VAR} or pass config_path=)"
        raise ConfigNotFoundError(
            f"No llmhub config at {str(file)!r}{hint}. Create one with 'llmhub init'.", path=str(file)
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigNotFoundError(f"Cannot read llmhub config {str(file)!r}: {exc}", path=str(file)) from None
    data, lines, problems, broken = parse_yaml(text, str(file))
    return _validate(data, path=str(file), lines=lines, problems=problems, broken=broken)


def config_from_dict(data: Mapping[str, Any], *, path: str | None = None) -> RuntimeConfig:
    """Validate a plain dict the same way a file is validated (no line numbers)."""
    problems: list[ConfigProblem] = []
    broken: list[Loc] = []
    plain = _plain(data, (), problems, broken, path, set())
    return _validate(plain, path=path, lines={}, problems=problems, broken=broken)


def validate_config(config: RuntimeConfig) -> None:
    """Raise ``ConfigValidationError`` listing the cross-reference problems of a config built in code."""
    source = config._source
    problems = [
        ConfigProblem(render_loc(loc), message, path=source, suggestion=suggestion)
        for loc, message, suggestion, _ in _all_semantic_problems(config)
    ]
    if problems:
        raise ConfigValidationError(problems, path=source)


def _plain(
    value: Any, loc: Loc, problems: list[ConfigProblem], broken: list[Loc], path: str | None, open_ids: set[int]
) -> Any:
    """A copy of ``value`` as dicts and lists, refusing cycles, depth and non-string keys."""
    if not isinstance(value, Mapping | list | tuple):
        return value
    if id(value) in open_ids or len(loc) > MAX_DEPTH:
        why = "contains itself" if id(value) in open_ids else f"is nested more than {MAX_DEPTH} levels deep"
        problems.append(ConfigProblem(render_loc(loc), f"the value {why}", path=path))
        broken.append(loc)
        return None
    open_ids.add(id(value))
    try:
        if isinstance(value, Mapping):
            result: dict[str, Any] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    problems.append(ConfigProblem(render_loc(loc), f"key {key!r} is not a string", path=path))
                    broken.append(loc)
                    continue
                result[key] = _plain(item, (*loc, key), problems, broken, path, open_ids)
            return result
        return [_plain(item, (*loc, index), problems, broken, path, open_ids) for index, item in enumerate(value)]
    finally:
        open_ids.discard(id(value))


# --- validation -------------------------------------------------------------------------------


def _validate(
    data: Any, *, path: str | None, lines: Mapping[Loc, int], problems: list[ConfigProblem], broken: list[Loc]
) -> RuntimeConfig:
    def problem(loc: Loc, message: str, suggestion: str | None = None) -> None:
        problems.append(
            ConfigProblem(render_loc(loc), message, path=path, line=_line(lines, loc), suggestion=suggestion)
        )

    if data is None and not problems:
        problem((), "the config is empty; it needs at least a 'roles:' mapping")
    elif data is not None and not isinstance(data, Mapping):
        problem((), f"the top level must be a mapping with 'providers:' and 'roles:', not a {type(data).__name__}")
    if data is None or not isinstance(data, Mapping):
        raise ConfigValidationError(problems, path=path)

    # `broken`: key paths already reported; what rests on them is not reported again.
    data = {key: value for key, value in data.items() if not (isinstance(key, str) and key.startswith("x-"))}

    def unset_variable(loc: Loc, message: str) -> None:
        broken.append(loc)
        problem(loc, message)

    data = interpolate(data, (), unset_variable)
    config, structural = _structure(data)
    for loc, message, suggestion in structural:
        if not any(loc[: len(b)] == b for b in broken):  # an unset variable is one problem, not two
            problem(loc, message, suggestion)
    broken.extend(loc for loc, _, _ in structural)
    broken.extend(
        (*loc[:-1], suggestion) for loc, message, suggestion in structural if suggestion and "unknown key" in message
    )
    if config is not None:
        for loc, message, suggestion, depends in _all_semantic_problems(config):
            if not any(part[: len(b)] == b for part in (loc, *depends) for b in broken):
                problem(loc, message, suggestion)
    if problems or config is None:
        raise ConfigValidationError(problems, path=path)
    config._source = path
    return config


def _structure(data: Mapping[str, Any]) -> tuple[RuntimeConfig | None, list[tuple[Loc, str, str | None]]]:
    """The config with every malformed part left out, and the structural problems found.

    Each malformed part (a field of an entry, a ``defaults`` field, a whole env overlay, a
    top-level key) is removed and the rest validated again, so cross-reference checks can run on
    everything that is well formed.
    """
    found: list[tuple[Loc, str, str | None]] = []
    current: Any = data
    for _ in range(4):
        try:
            return RuntimeConfig.model_validate(current), found
        except ValidationError as exc:
            described = _describe_errors(exc.errors(), current)
        except (RecursionError, OverflowError, ValueError) as exc:  # pydantic's own limits
            return None, [*found, ((), f"the config cannot be validated: {shorten(str(exc), 200)}", None)]
        if not found:
            found = described
        parts = {_part(loc) for loc, _, _ in described}
        current = _without(current, parts)
    return None, found


def _part(loc: Loc) -> Loc:
    """The part of the config left out when ``loc`` is malformed."""
    if loc[:1] in (("providers",), ("roles",)):
        return loc[:3]
    if loc[:1] in (("defaults",), ("envs",)):
        return loc[:2]
    return loc[:1]


def _without(data: Any, parts: set[Loc]) -> Any:
    result = dict(data)
    for part in sorted(parts, key=len):
        parent: Any = result
        for index, key in enumerate(part):
            if not isinstance(parent, dict) or key not in parent:
                break
            if index == len(part) - 1:
                del parent[key]
                break
            if not isinstance(parent[key], dict):
                del parent[key]
                break
            parent[key] = dict(parent[key])
            parent = parent[key]
    return result


def _line(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


# --- pydantic errors → problems ---------------------------------------------------------------


def _describe_errors(errors: list[Any], data: Any) -> list[tuple[Loc, str, str | None]]:
    """Each pydantic error as (key path, message, suggestion), keeping one branch of each union.

    pydantic reports every member of a union (``tool_choice``: the literal and the mapping) with
    the member's tag in the path; the tag is dropped, and only the member that fits the input's
    shape (a mapping or not) is kept.
    """
    walked = [(error, *_walk(error["loc"])) for error in errors]
    branches: dict[Loc, set[bool]] = {}
    for _, _, unions in walked:
        for union_loc, is_model in unions:
            branches.setdefault(union_loc, set()).add(is_model)
    described = []
    for error, loc, unions in walked:
        keep = True
        for union_loc, is_model in unions:
            wants_model = isinstance(lookup(data, union_loc), Mapping)
            if is_model != wants_model and wants_model in branches[union_loc]:
                keep = False
        if keep:
            described.append(_describe(error, loc))
    return list(dict.fromkeys(described))


def _walk(raw: tuple[Any, ...]) -> tuple[Loc, list[tuple[Loc, bool]]]:
    """``raw`` without union member tags, and each union passed: (its key path, model member?)."""
    annotation: Any = RuntimeConfig
    loc: list[str | int] = []
    unions: list[tuple[Loc, bool]] = []
    for part in raw:
        members = _members(annotation)
        if len(members) > 1:
            chosen = _member_for_tag(members, part)
            if chosen is not None:
                unions.append((tuple(loc), _unwrap_model(chosen) is not None))
                annotation = chosen
                continue
        loc.append(part)
        annotation = _step(annotation, part) if annotation is not None else None
    return tuple(loc), unions


def _members(annotation: Any) -> list[Any]:
    if annotation is None:
        return []
    args = get_args(annotation) if get_origin(annotation) in (types.UnionType, typing.Union) else (annotation,)
    return [arg for arg in args if arg is not type(None)]


def _member_for_tag(members: list[Any], tag: Any) -> Any:
    if not isinstance(tag, str):
        return None
    for member in members:
        model = _unwrap_model(member)
        if model is not None and model.__name__ == tag:
            return member
    for member in members:
        origin = get_origin(member)
        name = getattr(origin or member, "__name__", "") or str(origin or member)
        if _unwrap_model(member) is None and tag.lower().startswith(name.lower().split("[")[0]):
            return member
    return None


def _describe(error: Any, loc: Loc) -> tuple[Loc, str, str | None]:
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        match = close_matches(key, allowed, n=1)
        return loc, f"unknown key {shorten(key)!r} (allowed: {', '.join(allowed)})", match[0] if match else None
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        got = error.get("input")
        options = re.findall(r"'([^']*)'", expected)
        match = close_matches(got, options, n=1) if isinstance(got, str) else []
        return loc, f"{_shown(got)} is not one of {expected}", match[0] if match else None
    message = error["msg"]
    got = error.get("input")
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind in {"dict_type", "model_type"}:
        message = f"expected a mapping, got {type(got).__name__}"
    elif kind == "finite_number":
        message = "expected a finite number, not inf or nan"
    elif kind not in {"missing"} and "input" in error and not isinstance(got, Mapping | list):
        message = f"{message} (got {_shown(got)})"
    return loc, message, None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text):,} characters)"


def _allowed_keys(loc: Loc) -> list[str]:
    """Field names of the model found by walking ``loc`` through ``RuntimeConfig``'s annotations."""
    current: Any = RuntimeConfig
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    current = _unwrap_model(current)
    return list(current.model_fields) if current is not None else []


def _step(annotation: Any, part: str | int) -> Any:
    model = _unwrap_model(annotation)
    if model is not None and isinstance(part, str) and part in model.model_fields:
        return model.model_fields[part].annotation
    for candidate in _candidates(annotation):
        origin = get_origin(candidate)
        if origin is dict and isinstance(part, str):
            return get_args(candidate)[1]
        if origin is list and isinstance(part, int):
            return get_args(candidate)[0]
    return None


def _candidates(annotation: Any) -> Iterator[Any]:
    yield annotation
    yield from get_args(annotation)


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in _candidates(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _all_semantic_problems(config: RuntimeConfig) -> list[Finding]:
    """Problems of the base config, then those each env overlay adds (under ``envs.NAME``)."""
    found = list(dict.fromkeys(_semantic_problems(config)))
    seen = {(loc, message) for loc, message, _, _ in found}
    for env, overlay in config.envs.items():
        try:
            bound = bind_env(config, env)
        except ValidationError as exc:
            for error in exc.errors():
                loc, message, _ = _describe(error, _walk(error["loc"])[0])
                found.append((("envs", env, *loc), message, None, ()))
            continue
        for loc, message, suggestion, depends in dict.fromkeys(_semantic_problems(bound)):
            if (loc, message) in seen:
                continue
            seen.add((loc, message))
            section, name = (loc[0], loc[1]) if len(loc) > 1 else (loc[0] if loc else "", "")
            in_overlay = name in getattr(overlay, str(section), {}) if section in ("providers", "roles") else False
            where: Loc = ("envs", env, *loc) if in_overlay or section == "defaults" else loc
            text = message if in_overlay else f"{message} (with env {env!r})"
            found.append((where, text, suggestion, (*depends, ("envs", env))))
    return found


def _semantic_problems(config: RuntimeConfig) -> Iterator[Finding]:
    known = known_provider_ids()
    for name, entry in config.providers.items():
        kind = entry.kind or name
        if kind not in known:
            match = close_matches(kind, sorted(known), n=1)
            where: Loc = ("providers", name, "kind") if entry.kind else ("providers", name)
            hint = "" if entry.kind else f"; if {shorten(name)!r} is an alias, add 'kind:' with the any-llm provider id"
            message = f"{shorten(kind)!r} is not a provider any-llm knows{hint}"
            yield where, message, match[0] if match else None, (("providers", name, "kind"),)
    chains = chain_cache(config)
    fallback_roles = {f.role for role in config.roles.values() for f in role.fallbacks if f.role}
    for name in config.roles:
        try:
            build_call(config, name, chains=chains)
        except ConfigProblemError as exc:
            if not (exc.from_chain_head and name in fallback_roles):  # told once, by the chain's first role
                yield exc.loc, exc.message, exc.suggestion, exc.depends
        yield from _param_problems(config, name)
    yield from _defaults_problems(config)


def _defaults_problems(config: RuntimeConfig) -> Iterator[Finding]:
    defaults = config.defaults
    if defaults.provider:
        try:
            entry = provider_entry(config, defaults.provider, ("defaults", "provider"))
        except ConfigProblemError as exc:
            yield exc.loc, exc.message, exc.suggestion, exc.depends
        else:
            kind, mode = entry.kind or defaults.provider, defaults.mode
            problem = mode_problem(defaults.provider, kind, mode) if mode else None
            if problem is not None:
                yield ("defaults", "mode"), problem, None, (("providers", defaults.provider, "kind"),)
    extras = {name for entry in config.providers.values() for name in entry.extra_params}
    depends: tuple[Loc, ...] = (("defaults", "mode"), ("providers",))
    for loc, message, suggestion in _check_params(defaults.params, defaults.mode or "chat", extras, ("defaults",)):
        yield loc, message, suggestion, depends


def _param_problems(config: RuntimeConfig, name: str) -> Iterator[Finding]:
    """Param names a role's targets would reject, and values no JSON request can carry."""
    role = config.roles[name]
    mode = role.mode or config.defaults.mode or "chat"
    provider = role.provider or config.defaults.provider or ""
    entry = config.providers.get(provider)
    depends: tuple[Loc, ...] = (("roles", name, "mode"), ("defaults", "mode"), ("providers", provider, "extra_params"))
    extras = set(entry.extra_params) if entry else set()
    for loc, message, suggestion in _check_params(role.params, mode, extras, ("roles", name)):
        yield loc, message, suggestion, depends
    for index, fallback in enumerate(role.fallbacks):
        if fallback.role is None and fallback.params:
            entry = config.providers.get(fallback.provider or "")
            extras = set(entry.extra_params) if entry else set()
            where: Loc = ("roles", name, "fallbacks", index)
            for loc, message, suggestion in _check_params(fallback.params, mode, extras, where):
                yield loc, message, suggestion, (*depends[:2], ("providers", fallback.provider or "", "extra_params"))


_RESERVED = {
    "stream": "'stream' belongs to the call (stream=True), not to params",
    "timeout": "set the role's 'timeout:' instead of a 'timeout' param",
    "model": "set the role's 'model:' instead of a 'model' param",
}


def _check_params(
    params: Mapping[str, Any], mode: str, extras: set[str], loc: Loc
) -> Iterator[tuple[Loc, str, str | None]]:
    accepted = accepted_params(mode)
    for key, value in params.items():
        where: Loc = (*loc, "params", key)
        if key in _RESERVED:
            yield where, _RESERVED[key], None
            continue
        if accepted is not None and key not in accepted and key not in extras:
            known = sorted(accepted | extras)
            match = close_matches(key, known, n=1)
            yield (
                where,
                f"{shorten(key)!r} is not a param any-llm accepts for mode {mode!r} (known: {', '.join(known)}); "
                "for a provider-specific one, list it in the provider's 'extra_params:'",
                match[0] if match else None,
            )
        elif not _finite(value):
            yield where, "expected a finite number, not inf or nan", None


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        return all(_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    return True


# --- llmhub-runtime 1.x's names (see docs/migration.md) ---------------------------------------------


def load_runtime_config(path: str | os.PathLike[str]) -> RuntimeConfig:
    """llmhub-runtime 1.x's name for ``load_config(path)``: llmhub's validation, llmhub's ``ConfigError`` subclasses."""
    return load_config(path)


def parse_runtime_config(data: Mapping[str, Any]) -> RuntimeConfig:
    """llmhub-runtime 1.x's name for ``config_from_dict(data)``: a ``ConfigError`` subclass when invalid."""
    return config_from_dict(data)
