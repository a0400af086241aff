"""Which counters a target's attempts use: its own ``limits:`` and its provider entry's.

Scopes, by where the ``limits:`` block is written:

- ``roles.R.limits``                -> ``role:R`` (the role's own target)
- ``roles.R.fallbacks[i].limits``   -> ``role:R:fallback:i`` (that inline target, as R uses it)
- ``providers.P.limits``            -> ``provider:P`` (all of the entry's traffic: one account),
  or with ``per: model`` one ``provider:P:model:M`` per model (what providers publish per model)
"""

from __future__ import annotations

from .config import Limits, LimitScope

__all__ = ["OwnLimits", "limit_problem", "target_scopes"]

Loc = tuple[str | int, ...]
OwnLimits = tuple[str, Limits, Loc]
"""A target's own ``limits:`` block: its scope, the limits, and the config key path that set them."""


def target_scopes(*, provider: str, model: str, own: OwnLimits | None, entry: Limits | None) -> tuple[LimitScope, ...]:
    """The ``LimitScope``s of one target: its own block first, then its provider entry's."""
    scopes: list[LimitScope] = []
    if own is not None:
        scope, limits, loc = own
        scopes.append(LimitScope(scope=scope, limits=limits, where=".".join(map(str, loc))))
    if entry is not None:
        scope = f"provider:{provider}:model:{model}" if entry.per == "model" else f"provider:{provider}"
        scopes.append(LimitScope(scope=scope, limits=entry, where=f"providers.{provider}.limits"))
    return tuple(scopes)


def limit_problem(
    scopes: tuple[LimitScope, ...], own: OwnLimits | None, provider: str, label: str, priced: bool
) -> tuple[Loc, str] | None:
    """(config key path, message) of the first block that cannot work for the target ``label``."""
    for item in scopes:
        loc: Loc = own[2] if own is not None and item.scope == own[0] else ("providers", provider, "limits")
        if item.limits.budget is not None and not priced:
            return (
                (*loc, "budget"),
                f"a budget needs prices: target {label} has no pricing (add pricing: {{input: ..., output: ...}} "
                "to the role, or to the provider entry's pricing for this model)",
            )
        if "per" in item.limits.model_fields_set and not item.scope.startswith("provider:"):
            return (*loc, "per"), "'per' is only for a provider entry's limits"
    return None
