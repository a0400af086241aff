"""What one attempt asks of the state store (``Demand``) and what it gets back (``Grant`` / ``Blocked``).

A target's ``Check``s are derived once from its ``limits:``; a ``Demand`` adds this call's
weights: 1 for request counters, the token estimate for ``tpm``, the cost estimate for budgets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..models import Target
from .config import Cooldown

__all__ = [
    "POLL",
    "Blocked",
    "Check",
    "Demand",
    "Grant",
    "Lease",
    "Outcome",
    "StateStore",
    "checks_of",
    "estimate_input_tokens",
    "max_output_tokens",
]

CheckKind = Literal["requests", "tokens", "concurrent", "budget"]
Outcome = Literal["ok", "fail", "other"]
"""How an attempt ended: success, a transient failure of the target, or anything else."""

POLL = 0.025
"""Seconds between retries of a concurrency limit (a slot frees when some call ends, not at a known time)."""

_WINDOWS = (("rps", 1.0), ("rpm", 60.0), ("rpd", 86400.0))
_OUTPUT_KEYS = ("max_tokens", "max_completion_tokens", "max_output_tokens")


@dataclass(frozen=True)
class Check:
    """One limit of one scope: ``limit`` per ``window`` seconds (requests, tokens), at once, or per ``period``."""

    kind: CheckKind
    scope: str
    name: str
    limit: float
    window: float = 0.0
    period: str = ""
    policy: str = "wait"
    where: str = ""

    @property
    def key(self) -> str:
        """The counter's name in the store."""
        if self.kind == "budget":
            return f"b:{self.scope}"
        if self.kind == "concurrent":
            return f"c:{self.scope}"
        return f"{self.kind[0]}:{self.scope}:{self.window:g}"


def checks_of(target: Target) -> tuple[Check, ...]:
    """Every limit that applies to ``target``, its own first."""
    checks: list[Check] = []
    for item in target.limits:
        limits, scope, policy, where = item.limits, item.scope, item.limits.policy, item.where
        for name, window in _WINDOWS:
            value = getattr(limits, name)
            if value is not None:
                checks.append(Check("requests", scope, name, value, window=window, policy=policy, where=where))
        if limits.requests is not None:
            custom = limits.requests
            checks.append(Check("requests", scope, f"requests/{custom.seconds:g}s", custom.count, window=custom.seconds,
                                policy=policy, where=where))  # fmt: skip
        if limits.tpm is not None:
            checks.append(Check("tokens", scope, "tpm", limits.tpm, window=60.0, policy=policy, where=where))
        if limits.max_concurrent is not None:
            checks.append(
                Check("concurrent", scope, "max_concurrent", limits.max_concurrent, policy=policy, where=where)
            )
        if limits.budget is not None:
            budget = limits.budget
            checks.append(Check("budget", scope, f"budget/{budget.period}", budget.amount, period=budget.period,
                                policy=policy, where=where))  # fmt: skip
    return tuple(checks)


@dataclass(frozen=True)
class Demand:
    """One attempt's request to the store: its checks with this call's weights, and the target's cooldown."""

    label: str
    checks: tuple[Check, ...]
    weights: tuple[float, ...]
    cooldown: Cooldown | None
    lease_ttl: float
    probe_ttl: float


@dataclass
class Lease:
    """Room granted to one attempt, until it is settled (``ok``) or released (``fail`` / ``other``)."""

    id: str
    demand: Demand
    store: StateStore
    probe: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    lease: Lease


@dataclass(frozen=True)
class Blocked:
    """No room. ``check`` is None when the target is cooling down; ``retry_after`` is ``inf`` when it never fits."""

    check: Check | None
    retry_after: float
    reason: Literal["limit", "cooling", "unavailable"] = "limit"


class StateStore(Protocol):
    """Where counters and cooldowns live: this process (``MemoryStore``) or Redis (``RedisStore``)."""

    def acquire(self, demand: Demand) -> Grant | Blocked:
        """Check every limit of ``demand`` and, only if all have room, charge them all (atomically)."""
        ...

    def settle(self, lease: Lease, outcome: Outcome, weights: Sequence[float], retry_after: float | None) -> None:
        """End ``lease``: charge ``weights`` instead of the estimates, free its slot, update the cooldown."""
        ...

    def snapshot(self, checks: Sequence[Check], label: str) -> dict[str, Any]:
        """Current usage of ``checks`` and the cooldown state of ``label`` (for ``llmhub explain``)."""
        ...

    def close(self) -> None: ...


def _text_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(_text_size(v) for k, v in value.items() if k in ("content", "text", "input", "arguments"))
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return sum(_text_size(item) for item in value)
    return 0


def estimate_input_tokens(inputs: Any) -> int:
    """A deliberately high estimate of the prompt's tokens: 1 per 3 characters, plus 4 per message."""
    if inputs is None:
        return 0
    if isinstance(inputs, str):
        return math.ceil(len(inputs) / 3) + 4
    messages = len(inputs) if isinstance(inputs, Sequence) else 1
    return math.ceil(_text_size(inputs) / 3) + 4 * messages


def max_output_tokens(target: Target, override: Mapping[str, Any] | None, kwargs: Mapping[str, Any] | None) -> int:
    """The call's output cap (``max_tokens`` and its aliases), call layers first; 0 when none is set."""
    for layer in (kwargs, override, target.params):
        for key in _OUTPUT_KEYS:
            if layer and key in layer:
                value = layer[key]
                if value is None:
                    return 0  # removed by this layer
                return int(value) if isinstance(value, int | float) else 0
    return 0
