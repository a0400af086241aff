"""Role name → ``ResolvedCall``: merge defaults, role and provider into a chain of targets.

Precedence, lowest first, as one ordered list (see ``PARAM_LAYERS``)::

    defaults.params < role.params < params_override (call) < keyword arguments (call)

The first two are merged here; the hub applies the call's own layers on top. ``timeout`` and
``retry`` come from the role, else its provider entry, else ``defaults``.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from .envs import bind_env, config_name, select_env
from .errors import ConfigProblem, ConfigValidationError, UnknownRoleError
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
from .yaml_source import render_loc

__all__ = [
    "MAX_CHAIN",
    "PARAM_LAYERS",
    "ConfigProblemError",
    "Resolver",
    "build_call",
    "chain_cache",
    "close_matches",
    "merge_params",
    "mode_problem",
    "provider_entry",
    "resolve_role",
    "shorten",
]

logger = logging.getLogger("llmhub_runtime")

PARAM_LAYERS = ("defaults", "role", "params_override", "kwargs")
"""Where a call's params come from, lowest precedence first."""

MAX_CHAIN = 64
"""Most targets in one role's chain (its own, inline fallbacks and fallback roles' chains)."""

_SUGGEST_LENGTH = 100
_SUGGEST_CANDIDATES = 200

Loc = tuple[str | int, ...]


class ConfigProblemError(Exception):
    """Internal: one config problem at a key path, turned into a ``ConfigProblem`` by the loader.

    ``depends`` lists the key paths the finding rests on besides ``loc``: where one of them is
    itself malformed, the loader drops the finding (it would be a consequence, not a cause).
    """

    def __init__(self, loc: Loc, message: str, suggestion: str | None = None, depends: tuple[Loc, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.suggestion = suggestion
        self.depends = depends
        self.from_chain_head = False
        """A chain too deep: worth telling for the role that starts it, not for each role on it."""


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Candidates that look like ``word``, best first (difflib, like pydantic-ai).

    A candidate with exactly the same letters (a transposition: ``modle`` → ``model``) ranks first.
    The work is bounded: no suggestion for a word over 100 characters, and only the first 200
    candidates of a similar length are compared.
    """
    if not isinstance(word, str) or len(word) > _SUGGEST_LENGTH:
        return []
    slack = max(2, len(word) // 2)
    pool: list[str] = []
    for candidate in candidates:
        if isinstance(candidate, str) and abs(len(candidate) - len(word)) <= slack:
            pool.append(candidate)
            if len(pool) == _SUGGEST_CANDIDATES:
                break
    letters = sorted(word)
    swapped = [c for c in pool if c != word and sorted(c) == letters]
    similar = difflib.get_close_matches(word, pool, n=n, cutoff=0.6)
    return list(dict.fromkeys([*swapped, *similar]))[:n]


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for a message (with its full length said)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def merge_params(*layers: tuple[str, Mapping[str, Any] | None]) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge ``(source, params)`` layers, later wins; returns the params and each one's source."""
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, params in layers:
        for key, value in (params or {}).items():
            merged[key] = value
            sources[key] = source
    return merged, sources


class Suggester:
    """``close_matches`` on a budget: past ``limit`` suggestions, none (a huge config stays linear)."""

    def __init__(self, limit: int = 20) -> None:
        self.left = limit

    def __call__(self, word: str, candidates: Iterable[str]) -> str | None:
        if self.left <= 0:
            return None
        self.left -= 1
        match = close_matches(word, candidates, n=1)
        return match[0] if match else None


def provider_entry(config: RuntimeConfig, name: str, loc: Loc, suggest: Suggester | None = None) -> ProviderConfig:
    entry = config.providers.get(name)
    if entry is not None:
        return entry
    if name in known_provider_ids():
        return ProviderConfig()  # a bare any-llm id is declared implicitly, with default settings
    match = (suggest or Suggester())(name, [*config.providers, *sorted(known_provider_ids())])
    declared = _listing(sorted(config.providers))
    raise ConfigProblemError(
        loc,
        f"provider {shorten(name)!r} is not declared under 'providers:' (declared: {declared}) "
        "and is not a provider id any-llm knows",
        match,
        depends=(("providers", name), ("providers",)),
    )


def _listing(names: list[str], limit: int = 20) -> str:
    if not names:
        return "none"
    shown = ", ".join(shorten(n, 40) for n in names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


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
    suggest: Suggester | None = None,
    chunk_timeout: float | None = None,
) -> Target:
    entry = provider_entry(config, provider, loc, suggest)
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
        chunk_timeout=chunk_timeout or entry.chunk_timeout or config.defaults.chunk_timeout,
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


def _primary(
    config: RuntimeConfig, name: str, role: RoleConfig, loc: Loc, suggest: Suggester | None = None
) -> tuple[str, Target]:
    defaults = config.defaults
    provider = role.provider or defaults.provider
    model = role.model or defaults.model
    mode = role.mode or defaults.mode or "chat"
    for field, value in (("provider", provider), ("model", model)):
        if not value:
            raise ConfigProblemError(
                (*loc, field),
                f"role {name!r} has no {field}; set it on the role or under 'defaults:'",
                depends=(("defaults", field), ("defaults",)),
            )
    assert provider and model
    target = _target(
        config,
        provider=provider,
        model=model,
        params=(("defaults", _defaults_params(config, mode)), ("role", role.params), ("role", _tool_params(role))),
        timeout=role.timeout,
        chunk_timeout=role.chunk_timeout,
        retry=role.retry,
        loc=(*loc, "provider") if role.provider else ("defaults", "provider"),
        via_role=name,
        pricing=role.pricing,
        traffic=((f"role:{name}", role.limits, (*loc, "limits")) if role.limits else None, role.cooldown,
                 role.weight),
        suggest=suggest,
    )  # fmt: skip
    return mode, target


class _Chains:
    """Each role's (mode, targets), computed once per config: validation stays linear in its size.

    A role reached twice through fallbacks (a diamond) is tried once, at its first place. A chain
    longer than ``MAX_CHAIN`` targets or roles deep is a problem, as is a cycle.
    """

    def __init__(self, config: RuntimeConfig) -> None:
        self.config = config
        self.done: dict[str, tuple[str, list[Target]] | ConfigProblemError] = {}
        self.primaries: dict[str, tuple[str, Target]] = {}
        self.depths = _depths(config)
        self.suggest = Suggester()

    def get(self, name: str, path: tuple[str, ...] = ()) -> tuple[str, list[Target]]:
        found = self.done.get(name)
        if isinstance(found, ConfigProblemError):
            raise found
        if found is not None:
            return found
        try:
            result = self._build(name, (*path, name))
        except _PathProblem as exc:  # depends on the way here: not kept, told by the first role only
            if path:
                raise
            raise exc.problem from None
        except ConfigProblemError as exc:
            self.done[name] = exc
            raise
        self.done[name] = result
        return result

    def _build(self, name: str, path: tuple[str, ...]) -> tuple[str, list[Target]]:
        config = self.config
        loc: Loc = ("roles", name)
        role = config.roles[name]
        if self.depths.get(name, 0) > MAX_CHAIN:
            too_deep = ConfigProblemError(
                (*loc, "fallbacks"),
                f"the fallback chain from role {shorten(name)!r} goes more than {MAX_CHAIN} roles deep "
                f"({self.depths[name]:,}); shorten it",
            )
            too_deep.from_chain_head = True
            raise too_deep
        if name not in self.primaries:
            self.primaries[name] = _primary(config, name, role, loc, self.suggest)
        mode, primary = self.primaries[name]
        targets = [primary]
        included = {name}
        for index, fallback in enumerate(role.fallbacks):
            where: Loc = (*loc, "fallbacks", index)
            if fallback.role is None:
                targets.append(_inline_target(config, name, role, mode, fallback, where, self.suggest))
            else:
                for target in self._fallback_role(name, mode, fallback.role, (*where, "role"), path):
                    if target.via_role not in included:
                        targets.append(target)
                included.update(t.via_role for t in targets if t.via_role)
            if len(targets) > MAX_CHAIN:
                raise ConfigProblemError(
                    (*loc, "fallbacks"),
                    f"role {shorten(name)!r} has more than {MAX_CHAIN} targets; shorten its fallbacks",
                )
        return mode, targets

    def _fallback_role(self, name: str, mode: str, other: str, loc: Loc, path: tuple[str, ...]) -> list[Target]:
        config = self.config
        if other not in config.roles:
            match = self.suggest(other, config.roles)
            raise ConfigProblemError(
                loc, f"fallback role {shorten(other)!r} is not defined", match, (("roles", other),)
            )
        if other in path:
            cycle = " -> ".join(shorten(p, 40) for p in [*path[path.index(other) :], other])
            raise _PathProblem(ConfigProblemError(loc, f"fallback cycle: {cycle}"))
        other_mode, targets = self.get(other, path)
        if other_mode != mode:
            raise ConfigProblemError(
                loc,
                f"fallback role {shorten(other)!r} has mode {other_mode!r} "
                f"but role {shorten(name)!r} has mode {mode!r}",
                depends=(("roles", other, "mode"), ("roles", name, "mode"), ("defaults", "mode"), ("roles", other)),
            )
        return targets


def _depths(config: RuntimeConfig) -> dict[str, int]:
    """Roles on the longest fallback-role path from each role, itself included (cycles cut)."""
    depths: dict[str, int] = {}
    on_path: set[str] = set()
    for start in config.roles:
        if start in depths:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, _fallback_roles(config, start))]
        on_path.add(start)
        while stack:
            name, pending = stack[-1]
            step = next(pending, None)
            if step is None:
                stack.pop()
                on_path.discard(name)
                deeper = [depths.get(f, 0) for f in _fallback_roles(config, name) if f not in on_path]
                depths[name] = 1 + max(deeper, default=0)
            elif step not in depths and step not in on_path:
                on_path.add(step)
                stack.append((step, _fallback_roles(config, step)))
    return depths


def _fallback_roles(config: RuntimeConfig, name: str) -> Iterator[str]:
    return (f.role for f in config.roles[name].fallbacks if f.role is not None and f.role in config.roles)


class _PathProblem(Exception):
    """A problem found through one particular way into a role (a cycle, a depth): not memoised."""

    def __init__(self, problem: ConfigProblemError) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _inline_target(
    config: RuntimeConfig,
    name: str,
    role: RoleConfig,
    mode: str,
    fallback: FallbackConfig,
    loc: Loc,
    suggest: Suggester | None = None,
) -> Target:
    assert fallback.provider and fallback.model
    return _target(
        config,
        provider=fallback.provider,
        model=fallback.model,
        params=(
            ("defaults", _defaults_params(config, mode)),
            ("role", _tool_params(role)),
            ("fallback", fallback.params),
        ),
        timeout=role.timeout,
        chunk_timeout=role.chunk_timeout,
        retry=role.retry,
        loc=(*loc, "provider"),
        via_role=name,
        suggest=suggest,
        traffic=(
            (f"role:{name}:fallback:{loc[-1]}", fallback.limits, (*loc, "limits")) if fallback.limits else None,
            fallback.cooldown,
            fallback.weight,
        ),
    )


def build_call(
    config: RuntimeConfig, name: str, overlay: EnvOverlay | None = None, chains: _Chains | None = None
) -> ResolvedCall:
    """Resolve one configured role; raises ``ConfigProblemError`` where the config is incomplete.

    With the env ``overlay`` that ``config`` was bound with, params it set are labelled ``env:NAME``.
    Pass the same ``chains`` (``chain_cache(config)``) for every role of one config.
    """
    mode, targets = (chains or _Chains(config)).get(name)
    _check_role(config, name, mode, targets)
    if overlay is not None:
        targets = [_relabel(target, overlay, f"env:{config.env}") for target in targets]
    return ResolvedCall(role=name, mode=mode, targets=tuple(targets), env=config.env)


def chain_cache(config: RuntimeConfig) -> _Chains:
    """A cache of the roles' fallback chains of ``config``, for ``build_call``."""
    return _Chains(config)


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
    if role.batch_size is not None and mode != "embedding":
        raise ConfigProblemError(
            (*loc, "batch_size"), f"'batch_size' is only for embedding roles; role {name!r} has mode {mode!r}"
        )
    inline = [index for index, fallback in enumerate(role.fallbacks) if fallback.role is None]
    own = [target for target in targets if target.via_role == name]
    for position, target in enumerate(own):
        where: Loc = (*loc, "mode") if position == 0 else (*loc, "fallbacks", inline[position - 1], "provider")
        problem = mode_problem(target.provider, target.kind, mode)
        if problem is not None:
            depends: tuple[Loc, ...] = ((*loc, "mode"), ("defaults", "mode"), ("providers", target.provider, "kind"))
            raise ConfigProblemError(where, problem, depends=depends)


def mode_problem(provider: str, kind: str, mode: str) -> str | None:
    """Why ``kind`` cannot serve ``mode``, when any-llm's flags say so (unknown flags pass)."""
    if kind not in known_provider_ids() or supports_mode(kind, mode) is not False:
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
    # A tool role without ``tools:`` gets its tools in each call (as llmhub-runtime 1.x and
    # ``llmhub generate`` have it); the hub refuses a call of it without tools= (InvalidInputError).
    if mode == "tool" and role.tools is not None and not role.tools:
        raise ConfigProblemError(
            (*loc, "tools"),
            f"role {name!r} has mode 'tool' and an empty 'tools:' list; list its tool definitions, "
            "or leave 'tools:' out to pass tools= in each call",
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
        self.strict = strict
        try:
            self.config = bind_env(config, self.env)
            overlay = config.envs.get(self.env) if self.env is not None else None
            chains = chain_cache(self.config)
            self._calls = {name: build_call(self.config, name, overlay, chains) for name in self.config.roles}
        except (ConfigProblemError, ValidationError) as exc:
            # A RuntimeConfig built in code skips the loader: report its problems the loader's way.
            from .config_loader import validate_config

            validate_config(config)
            if not isinstance(exc, ConfigProblemError):
                raise
            source = config._source
            problem = ConfigProblem(render_loc(exc.loc), exc.message, path=source, suggestion=exc.suggestion)
            raise ConfigValidationError([problem], path=source) from None
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
        name = config_name(self.config)
        if not isinstance(role, str):
            raise UnknownRoleError(repr(role), self.roles, config=name)
        fallback = None if self.strict else _defaults_call(self.config, role)
        if fallback is None:
            raise UnknownRoleError(role, self.roles, close_matches(role, self.roles), config=name)
        if role not in self._warned:
            self._warned.add(role)
            logger.warning(
                "role %r is not configured; using the target from 'defaults' (%s). "
                "Add the role to %s, or pass strict=True to make this an error.",
                role,
                fallback.primary.label,
                name,
            )
        return fallback


# --- llmhub-runtime 1.x's function (see docs/migration.md) ------------------------------------------


def resolve_role(config: RuntimeConfig, role: str, params_override: Mapping[str, Any] | None = None) -> ResolvedCall:
    """llmhub-runtime 1.x's ``resolve_role``: the ``ResolvedCall`` for ``role``, ``params_override`` merged in.

    The result has 1.x's attributes (``.role .provider .model .mode .params``) and llmhub's (``.targets``,
    ``.primary`` ...). ``params_override`` is laid over every target's params (a ``None`` removes the key), as a
    call would send them. An unknown role uses ``defaults`` when they name a whole target (without the
    warning ``LLMHub`` logs), else raises ``UnknownRoleError``; a role whose provider is neither declared nor an
    any-llm id raises ``UnknownProviderError``; any other gap in the role raises ``ConfigValidationError``.
    """
    from .errors import ConfigProblem, ConfigValidationError, UnknownProviderError

    bound = bind_env(config, select_env(config, None))
    entry = bound.roles.get(role)
    provider = (entry.provider if entry is not None else None) or bound.defaults.provider
    loc: Loc = ("roles", role, "provider") if entry is not None and entry.provider else ("defaults", "provider")
    try:
        if provider is not None and provider not in bound.providers:
            provider_entry(bound, provider, loc)  # raises when it is not an any-llm id either
        call = build_call(bound, role) if entry is not None else _defaults_call(bound, role)
    except ConfigProblemError as exc:
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in exc.loc).lstrip(".")
        problem = ConfigProblem(where, exc.message, suggestion=exc.suggestion)
        unknown = exc.loc == loc and provider is not None and provider not in bound.providers
        raise (UnknownProviderError if unknown else ConfigValidationError)([problem]) from None
    if call is None:
        raise UnknownRoleError(role, tuple(bound.roles), close_matches(role, bound.roles))
    if not params_override:
        return call
    targets = tuple(_overridden(target, params_override) for target in call.targets)
    return call.model_copy(update={"targets": targets})


def _overridden(target: Target, override: Mapping[str, Any]) -> Target:
    params, sources = dict(target.params), dict(target.param_sources)
    for key, value in override.items():
        if value is None:
            params.pop(key, None)
            sources.pop(key, None)
        else:
            params[key], sources[key] = value, "params_override"
    return target.model_copy(update={"params": params, "param_sources": sources})
