"""Role name → ``ResolvedCall``: merge defaults, role and provider into a chain of targets.

Precedence, lowest first, as one ordered list (see ``PARAM_LAYERS``)::

    defaults.params < role.params < params_override (call) < keyword arguments (call)

The first two are merged here; the hub applies the call's own layers on top. ``timeout`` and
``retry`` come from the role, else its provider entry, else ``defaults``.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from .envs import bind_env, select_env
from .errors import UnknownRoleError
from .models import (
    TOOL_MODES,
    EnvOverlay,
    FallbackConfig,
    Pricing,
    ProviderConfig,
    ResolvedCall,
    RetryPolicy,
    RoleConfig,
    RuntimeConfig,
    Target,
    ToolChoice,
)
from .providers import MODE_FLAGS, default_env_key, known_provider_ids, supports_mode
from .traffic.config import Cooldown
from .traffic.scopes import OwnLimits, limit_problem, target_scopes

__all__ = [
    "PARAM_LAYERS",
    "ConfigProblemError",
    "Resolver",
    "build_call",
    "close_matches",
    "merge_params",
    "mode_problem",
    "provider_entry",
]

logger = logging.getLogger("llmhub_runtime")

PARAM_LAYERS = ("defaults", "role", "params_override", "kwargs")
"""Where a call's params come from, lowest precedence first."""

Loc = tuple[str | int, ...]


class ConfigProblemError(Exception):
    """Internal: one config problem at a key path, turned into a ``ConfigProblem`` by the loader."""

    def __init__(self, loc: Loc, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.suggestion = suggestion


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Candidates that look like ``word``, best first (difflib, like pydantic-ai).

    A candidate with exactly the same letters (a transposition: ``modle`` → ``model``) ranks first.
    """
    pool = list(candidates)
    swapped = [c for c in pool if c != word and sorted(c) == sorted(word)]
    similar = difflib.get_close_matches(word, pool, n=n, cutoff=0.6)
    return list(dict.fromkeys([*swapped, *similar]))[:n]


def merge_params(*layers: tuple[str, Mapping[str, Any] | None]) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge ``(source, params)`` layers, later wins; returns the params and each one's source."""
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, params in layers:
        for key, value in (params or {}).items():
            merged[key] = value
            sources[key] = source
    return merged, sources


def provider_entry(config: RuntimeConfig, name: str, loc: Loc) -> ProviderConfig:
    entry = config.providers.get(name)
    if entry is not None:
        return entry
    if name in known_provider_ids():
        return ProviderConfig()  # a bare any-llm id is declared implicitly, with default settings
    match = close_matches(name, [*config.providers, *known_provider_ids()], n=1)
    declared = ", ".join(sorted(config.providers)) or "none"
    raise ConfigProblemError(
        loc,
        f"provider {name!r} is not declared under 'providers:' (declared: {declared}) "
        "and is not a provider id any-llm knows",
        match[0] if match else None,
    )


def _target(
    config: RuntimeConfig,
    *,
    provider: str,
    model: str,
    params: tuple[tuple[str, Mapping[str, Any] | None], ...],
    timeout: float | None,
    retry: RetryPolicy | None,
    loc: Loc,
    via_role: str | None,
    pricing: Pricing | None = None,
    traffic: tuple[OwnLimits | None, Cooldown | None, float | None] = (None, None, None),
) -> Target:
    entry = provider_entry(config, provider, loc)
    kind = entry.kind or provider
    env_key = entry.env_key if "env_key" in entry.model_fields_set else default_env_key(kind)
    merged, sources = merge_params(*params)
    own_limits, cooldown, weight = traffic
    scopes = target_scopes(provider=provider, model=model, own=own_limits, entry=entry.limits)
    pricing = pricing or entry.pricing.get(model)
    problem = limit_problem(scopes, own_limits, provider, f"{provider}/{model}", pricing is not None)
    if problem is not None:
        raise ConfigProblemError(*problem)
    return Target(
        provider=provider,
        kind=kind,
        model=model,
        params=merged,
        param_sources=sources,
        api_base=entry.api_base,
        env_key=env_key,
        client_args=entry.client_args,
        transport=entry.transport,
        timeout=timeout or entry.timeout or config.defaults.timeout,
        retry=retry or entry.retry or config.defaults.retry or RetryPolicy(),
        pricing=pricing,
        via_role=via_role,
        limits=scopes,
        cooldown=cooldown or entry.cooldown,
        weight=weight,
    )


def _defaults_params(config: RuntimeConfig, mode: str) -> Mapping[str, Any]:
    """``defaults.params`` for a role of ``mode``: only roles of the defaults' mode (chat if unset) get them.

    So ``max_tokens`` meant for chat never reaches an embedding call.
    """
    defaults = config.defaults
    return defaults.params if mode == (defaults.mode or "chat") else {}


def _primary(config: RuntimeConfig, name: str, role: RoleConfig, loc: Loc) -> tuple[str, Target]:
    defaults = config.defaults
    provider = role.provider or defaults.provider
    model = role.model or defaults.model
    mode = role.mode or defaults.mode or "chat"
    for field, value in (("provider", provider), ("model", model)):
        if not value:
            raise ConfigProblemError(
                (*loc, field), f"role {name!r} has no {field}; set it on the role or under 'defaults:'"
            )
    assert provider and model
    target = _target(
        config,
        provider=provider,
        model=model,
        params=(("defaults", _defaults_params(config, mode)), ("role", role.params), ("role", _tool_params(role))),
        timeout=role.timeout,
        retry=role.retry,
        loc=(*loc, "provider") if role.provider else ("defaults", "provider"),
        via_role=name,
        pricing=role.pricing,
        traffic=((f"role:{name}", role.limits, (*loc, "limits")) if role.limits else None, role.cooldown,
                 role.weight),
    )  # fmt: skip
    return mode, target


def _chain(config: RuntimeConfig, name: str, seen: tuple[str, ...]) -> tuple[str, list[Target]]:
    loc: Loc = ("roles", name)
    role = config.roles[name]
    mode, primary = _primary(config, name, role, loc)
    targets = [primary]
    for index, fallback in enumerate(role.fallbacks):
        targets.extend(_fallback_targets(config, name, role, mode, fallback, (*loc, "fallbacks", index), seen))
    return mode, targets


def _fallback_targets(
    config: RuntimeConfig,
    name: str,
    role: RoleConfig,
    mode: str,
    fallback: FallbackConfig,
    loc: Loc,
    seen: tuple[str, ...],
) -> list[Target]:
    if fallback.role is None:
        assert fallback.provider and fallback.model
        return [
            _target(
                config,
                provider=fallback.provider,
                model=fallback.model,
                params=(
                    ("defaults", _defaults_params(config, mode)),
                    ("role", _tool_params(role)),
                    ("fallback", fallback.params),
                ),
                timeout=role.timeout,
                retry=role.retry,
                loc=(*loc, "provider"),
                via_role=name,
                traffic=(
                    (f"role:{name}:fallback:{loc[-1]}", fallback.limits, (*loc, "limits")) if fallback.limits else None,
                    fallback.cooldown,
                    fallback.weight,
                ),
            )
        ]
    other = fallback.role
    if other not in config.roles:
        match = close_matches(other, config.roles, n=1)
        raise ConfigProblemError((*loc, "role"), f"fallback role {other!r} is not defined", match[0] if match else None)
    if other in seen:
        cycle = " -> ".join([*seen, other])
        raise ConfigProblemError((*loc, "role"), f"fallback cycle: {cycle}")
    other_mode, targets = _chain(config, other, (*seen, other))
    if other_mode != mode:
        raise ConfigProblemError(
            (*loc, "role"), f"fallback role {other!r} has mode {other_mode!r} but role {name!r} has mode {mode!r}"
        )
    return targets


def build_call(config: RuntimeConfig, name: str, overlay: EnvOverlay | None = None) -> ResolvedCall:
    """Resolve one configured role; raises ``ConfigProblemError`` where the config is incomplete.

    With the env ``overlay`` that ``config`` was bound with, params it set are labelled ``env:NAME``.
    """
    mode, targets = _chain(config, name, (name,))
    _check_role(config, name, mode, targets)
    if overlay is not None:
        targets = [_relabel(target, overlay, f"env:{config.env}") for target in targets]
    return ResolvedCall(role=name, mode=mode, targets=tuple(targets), env=config.env)


def _tool_params(role: RoleConfig) -> dict[str, Any]:
    """The role's ``tools:`` / ``tool_choice:`` as call params (any-llm's plain-dict format)."""
    params: dict[str, Any] = {}
    if role.tools:
        params["tools"] = [tool.to_wire() for tool in role.tools]
    if isinstance(role.tool_choice, ToolChoice):
        params["tool_choice"] = role.tool_choice.model_dump()
    elif role.tool_choice is not None:
        params["tool_choice"] = role.tool_choice
    return params


def _check_role(config: RuntimeConfig, name: str, mode: str, targets: list[Target]) -> None:
    """What only this role's own entry can get wrong: its tools, and modes its targets lack."""
    loc: Loc = ("roles", name)
    role = config.roles[name]
    _check_tools(name, role, mode, loc)
    inline = [index for index, fallback in enumerate(role.fallbacks) if fallback.role is None]
    own = [target for target in targets if target.via_role == name]
    for position, target in enumerate(own):
        where: Loc = (*loc, "mode") if position == 0 else (*loc, "fallbacks", inline[position - 1], "provider")
        problem = mode_problem(target.provider, target.kind, mode)
        if problem is not None:
            raise ConfigProblemError(where, problem)


def mode_problem(provider: str, kind: str, mode: str) -> str | None:
    """Why ``kind`` cannot serve ``mode``, when any-llm's flags say so (unknown flags pass)."""
    if supports_mode(kind, mode) is not False:
        return None
    return (
        f"provider {provider!r} (any-llm {kind!r}) does not support mode {mode!r} "
        f"(any-llm's {MODE_FLAGS[mode]} is False for it)"
    )


def _check_tools(name: str, role: RoleConfig, mode: str, loc: Loc) -> None:
    if mode not in TOOL_MODES:
        for field in ("tools", "tool_choice"):
            if getattr(role, field) is not None:
                raise ConfigProblemError(
                    (*loc, field), f"{field!r} is only for chat and tool roles; role {name!r} has mode {mode!r}"
                )
        return
    for field in ("tools", "tool_choice"):
        if getattr(role, field) is not None and field in role.params:
            raise ConfigProblemError(
                (*loc, "params", field), f"{field!r} is set both here and as the role's {field!r}; keep one"
            )
    if mode == "tool" and not role.tools:
        raise ConfigProblemError(
            (*loc, "tools"), f"role {name!r} has mode 'tool' but no tools; list its tool definitions under 'tools:'"
        )
    names = [tool.function.name for tool in role.tools or ()]
    for index, tool_name in enumerate(names):
        if tool_name in names[:index]:
            raise ConfigProblemError((*loc, "tools", index, "function", "name"), f"tool {tool_name!r} is listed twice")
    if role.tool_choice is not None and not names:
        raise ConfigProblemError((*loc, "tool_choice"), "tool_choice needs tools; list them under 'tools:'")
    if isinstance(role.tool_choice, ToolChoice) and role.tool_choice.function.name not in names:
        chosen = role.tool_choice.function.name
        match = close_matches(chosen, names, n=1)
        raise ConfigProblemError(
            (*loc, "tool_choice", "function", "name"),
            f"tool_choice names {chosen!r}, which is not one of the role's tools ({', '.join(names)})",
            match[0] if match else None,
        )


def _relabel(target: Target, overlay: EnvOverlay, label: str) -> Target:
    role = overlay.roles.get(target.via_role or "")
    from_env = {
        "role": set(role.params) if role else set(),
        "defaults": set(overlay.defaults.params) if overlay.defaults else set(),
    }
    sources = {
        key: label if key in from_env.get(source, ()) else source for key, source in target.param_sources.items()
    }
    return target.model_copy(update={"param_sources": sources})


def _defaults_call(config: RuntimeConfig, name: str) -> ResolvedCall | None:
    """The call an unknown role gets from ``defaults``, when defaults name a complete target."""
    defaults = config.defaults
    if not (defaults.provider and defaults.model and defaults.mode) or defaults.mode == "tool":
        return None  # a tool role needs its own tools, which only a configured role carries
    target = _target(
        config,
        provider=defaults.provider,
        model=defaults.model,
        params=(("defaults", defaults.params),),
        timeout=None,
        retry=None,
        loc=("defaults", "provider"),
        via_role=None,
    )
    return ResolvedCall(role=name, mode=defaults.mode, targets=(target,), source="defaults", env=config.env)


class Resolver:
    """Resolves role names against one validated config; every configured role is resolved up front."""

    def __init__(self, config: RuntimeConfig, *, strict: bool = False, env: str | None = None) -> None:
        self.env = select_env(config, env)
        self.config = bind_env(config, self.env)
        self.strict = strict
        overlay = config.envs.get(self.env) if self.env is not None else None
        self._calls = {name: build_call(self.config, name, overlay) for name in self.config.roles}
        self._warned: set[str] = set()

    @property
    def roles(self) -> tuple[str, ...]:
        """Configured role names, in file order."""
        return tuple(self._calls)

    def resolve(self, role: str) -> ResolvedCall:
        """The resolved call for ``role``; ``UnknownRoleError`` if there is none."""
        call = self._calls.get(role)
        if call is not None:
            return call
        if not isinstance(role, str):
            raise UnknownRoleError(repr(role), self.roles)
        fallback = None if self.strict else _defaults_call(self.config, role)
        if fallback is None:
            raise UnknownRoleError(role, self.roles, close_matches(role, self.roles))
        if role not in self._warned:
            self._warned.add(role)
            logger.warning(
                "role %r is not configured; using the target from 'defaults' (%s). "
                "Add the role to llmhub.yaml, or pass strict=True to make this an error.",
                role,
                fallback.primary.label,
            )
        return fallback
