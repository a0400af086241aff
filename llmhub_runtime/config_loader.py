"""``llmhub.yaml`` → validated ``RuntimeConfig``, or an error that names file, line and key path.

Loading collects every problem before raising, so one run shows them all:

1. YAML syntax (line/column kept), duplicate keys, an empty file or a non-mapping root;
2. ``${VAR}`` / ``${VAR:-default}`` interpolation in strings (``$$`` is a literal ``$``);
3. the pydantic models (unknown keys with did-you-mean, wrong types, bad values);
4. cross references: providers, any-llm provider ids, fallbacks and their cycles and modes,
   tools (only on chat/tool roles, required on tool roles), and each role's mode against its
   providers' capabilities in any-llm (read from any-llm's source, see ``providers``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from .envs import bind_env
from .errors import ConfigNotFoundError, ConfigProblem, ConfigSyntaxError, ConfigValidationError
from .models import RuntimeConfig
from .providers import known_provider_ids
from .resolver import ConfigProblemError, Loc, build_call, close_matches, mode_problem, provider_entry

__all__ = [
    "CONFIG_ENV_VAR",
    "config_from_dict",
    "default_config_path",
    "load_config",
    "load_runtime_config",
    "parse_runtime_config",
]

CONFIG_ENV_VAR = "LLMHUB_CONFIG"
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


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
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigNotFoundError(f"Cannot read llmhub config {str(file)!r}: {exc}", path=str(file)) from None
    data, lines, problems = _parse_yaml(text, str(file))
    return _validate(data, path=str(file), lines=lines, problems=problems)


def config_from_dict(data: Mapping[str, Any], *, path: str | None = None) -> RuntimeConfig:
    """Validate a plain dict the same way a file is validated (no line numbers)."""
    return _validate(data, path=path, lines={}, problems=[])


# --- YAML with line numbers ----------------------------------------------------------------


def _parse_yaml(text: str, path: str) -> tuple[Any, dict[Loc, int], list[ConfigProblem]]:
    import yaml  # here, not at import: `from llmhub_runtime import LLMHub` need not pay for it

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        where = f"{path}:{line}:{column}" if line else path
        detail = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise ConfigSyntaxError(
            f"{where}: invalid YAML: {detail}", path=path, line=line, column=column
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigSyntaxError(f"{path}: invalid YAML: {exc}", path=path) from None
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    problems: list[ConfigProblem] = []
    if node is not None:
        _collect_lines(node, (), lines, problems, path)
    return data, lines, problems


def _collect_lines(
    node: Any, loc: Loc, lines: dict[Loc, int], problems: list[ConfigProblem], path: str
) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    ConfigProblem(_render((*loc, key)), f"duplicate key {key!r}", path=path, line=line)
                )
            seen.add(key)
            lines[(*loc, key)] = line
            _collect_lines(value_node, (*loc, key), lines, problems, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, (*loc, index), lines, problems, path)


def _render(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


# --- validation -------------------------------------------------------------------------------


def _validate(
    data: Any, *, path: str | None, lines: Mapping[Loc, int], problems: list[ConfigProblem]
) -> RuntimeConfig:
    def problem(loc: Loc, message: str, suggestion: str | None = None) -> None:
        problems.append(ConfigProblem(_render(loc), message, path=path, line=_line(lines, loc), suggestion=suggestion))

    if data is None:
        problem((), "the config is empty; it needs at least a 'roles:' mapping")
        raise ConfigValidationError(problems, path=path)
    if not isinstance(data, Mapping):
        problem((), f"the top level must be a mapping with 'providers:' and 'roles:', not a {type(data).__name__}")
        raise ConfigValidationError(problems, path=path)

    unset: list[Loc] = []

    def unset_variable(loc: Loc, message: str) -> None:
        unset.append(loc)
        problem(loc, message)

    data = _interpolate(data, (), unset_variable)
    try:
        config = RuntimeConfig.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc, message, suggestion = _describe(error)
            if loc not in unset:  # an unset variable is one problem, not two
                problem(loc, message, suggestion)
        raise ConfigValidationError(problems, path=path) from None

    for loc, message, suggestion in _all_semantic_problems(config):
        problem(loc, message, suggestion)
    if problems:
        raise ConfigValidationError(problems, path=path)
    return config


def _interpolate(value: Any, loc: Loc, problem: Any) -> Any:
    if isinstance(value, str) and "$" in value:

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            found = os.environ.get(name)
            if found is None or (found == "" and default is not None):
                if default is None:
                    problem(loc, f"environment variable {name} is not set (use ${{{name}:-default}} for a default)")
                    return ""
                return default
            return found

        return _VAR.sub(substitute, value)
    if isinstance(value, Mapping):
        return {k: _interpolate(v, (*loc, k), problem) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, (*loc, i), problem) for i, v in enumerate(value)]
    return value


def _describe(error: Any) -> tuple[Loc, str, str | None]:
    loc: Loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and "[" in part))
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        match = close_matches(key, allowed, n=1)
        return loc, f"unknown key {key!r} (allowed: {', '.join(allowed)})", match[0] if match else None
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        got = error.get("input")
        options = re.findall(r"'([^']*)'", expected)
        match = close_matches(str(got), options, n=1)
        return loc, f"{got!r} is not one of {expected}", match[0] if match else None
    message = error["msg"]
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind in {"dict_type", "model_type"}:
        message = f"expected a mapping, got {type(error.get('input')).__name__}"
    elif kind not in {"missing"} and "input" in error and not isinstance(error["input"], Mapping | list):
        message = f"{message} (got {error['input']!r})"
    return loc, message, None


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


def _all_semantic_problems(config: RuntimeConfig) -> list[tuple[Loc, str, str | None]]:
    """Problems of the base config, then those each env overlay adds (under ``envs.NAME``)."""
    found = list(_semantic_problems(config))
    seen = {(loc, message) for loc, message, _ in found}
    for env, overlay in config.envs.items():
        try:
            bound = bind_env(config, env)
        except ValidationError as exc:
            found.extend((("envs", env, *_describe(err)[0]), _describe(err)[1], None) for err in exc.errors())
            continue
        for loc, message, suggestion in _semantic_problems(bound):
            if (loc, message) in seen:
                continue
            section, name = (loc[0], loc[1]) if len(loc) > 1 else (loc[0] if loc else "", "")
            in_overlay = name in getattr(overlay, str(section), {}) if section in ("providers", "roles") else False
            where: Loc = ("envs", env, *loc) if in_overlay or section == "defaults" else loc
            found.append((where, message if in_overlay else f"{message} (with env {env!r})", suggestion))
    return found


def _semantic_problems(config: RuntimeConfig) -> Iterator[tuple[Loc, str, str | None]]:
    known = known_provider_ids()
    for name, entry in config.providers.items():
        kind = entry.kind or name
        if kind not in known:
            match = close_matches(kind, known, n=1)
            where: Loc = ("providers", name, "kind") if entry.kind else ("providers", name)
            hint = "" if entry.kind else f"; if {name!r} is an alias, add 'kind:' with the any-llm provider id"
            yield where, f"{kind!r} is not a provider any-llm knows{hint}", match[0] if match else None
    for name in config.roles:
        try:
            build_call(config, name)
        except ConfigProblemError as exc:
            yield exc.loc, exc.message, exc.suggestion
    if config.defaults.provider:
        try:
            entry = provider_entry(config, config.defaults.provider, ("defaults", "provider"))
        except ConfigProblemError as exc:
            yield exc.loc, exc.message, exc.suggestion
        else:
            kind, mode = entry.kind or config.defaults.provider, config.defaults.mode
            problem = mode_problem(config.defaults.provider, kind, mode) if mode else None
            if problem is not None:
                yield ("defaults", "mode"), problem, None


# --- llmhub-runtime 1.x's names (see docs/migration.md) ---------------------------------------------


def load_runtime_config(path: str | os.PathLike[str]) -> RuntimeConfig:
    """llmhub-runtime 1.x's name for ``load_config(path)``: llmhub's validation, llmhub's ``ConfigError`` subclasses."""
    return load_config(path)


def parse_runtime_config(data: Mapping[str, Any]) -> RuntimeConfig:
    """llmhub-runtime 1.x's name for ``config_from_dict(data)``: a ``ConfigError`` subclass when invalid."""
    return config_from_dict(data)
