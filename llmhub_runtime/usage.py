"""Usage and cost, accumulated per role and per target from the hub's end and error events.

``hub.usage()`` returns a ``UsageReport`` snapshot; ``hub.reset_usage()`` starts over. Latency
percentiles cover the most recent ``WINDOW`` attempts of each role or target. Cost is known only
when every successful call of the row had a price (``pricing`` on the role or on the provider's
model); otherwise it is ``None`` — unknown, never zero.

Rows are capped: past ``MAX_ROWS`` roles (or targets), further names — e.g. dynamic role names
served from ``defaults`` — are counted together in one ``OTHER`` row, so memory stays bounded.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from .hooks import CallEvent

__all__ = ["MAX_ROWS", "OTHER", "UsageLedger", "UsageReport", "UsageStats"]

WINDOW = 1024
MAX_ROWS = 256
"""Rows kept per table (roles, targets); names beyond are counted in the ``OTHER`` row."""
OTHER = "(other)"


@dataclass(frozen=True)
class UsageStats:
    """Totals for one role or one target."""

    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latency_p50: float | None = None
    latency_p95: float | None = None
    cost: float | None = None
    cache_hits: int = 0
    """Calls answered from the response cache (counted in ``calls``, with 0 tokens)."""
    cache_misses: int = 0
    """Calls of a cached role that went to the model."""

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class UsageReport:
    """Usage per role name and per target (``provider/model``)."""

    roles: dict[str, UsageStats]
    targets: dict[str, UsageStats]


@dataclass
class _Row:
    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    cost_known: bool = True
    cache_hits: int = 0
    cache_misses: int = 0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))

    def add(self, event: CallEvent) -> None:
        if event.latency is not None:
            self.latencies.append(event.latency)
        if event.kind == "error":
            self.errors += 1
            return
        self.calls += 1
        if event.cache == "hit":
            self.cache_hits += 1
        elif event.cache == "miss":
            self.cache_misses += 1
        if event.usage is not None:
            self.input_tokens += event.usage.input_tokens
            self.output_tokens += event.usage.output_tokens
        if event.cost is None:
            self.cost_known = False
        else:
            self.cost += event.cost

    def stats(self) -> UsageStats:
        ordered = sorted(self.latencies)
        return UsageStats(
            calls=self.calls,
            errors=self.errors,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            latency_p50=_percentile(ordered, 0.50),
            latency_p95=_percentile(ordered, 0.95),
            cost=self.cost if self.cost_known and self.calls else None,
            cache_hits=self.cache_hits,
            cache_misses=self.cache_misses,
        )


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class UsageLedger:
    """Thread-safe accumulator fed with every end and error event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._roles: dict[str, _Row] = {}
        self._targets: dict[str, _Row] = {}

    def record(self, event: CallEvent) -> None:
        """Count one finished attempt (``end``) or failed one (``error``)."""
        if event.kind == "start":
            return
        target = f"{event.provider}/{event.model}"
        with self._lock:
            for rows, key in ((self._roles, event.role), (self._targets, target)):
                row = rows.get(key)
                if row is None:
                    if len(rows) >= MAX_ROWS:
                        key = OTHER
                    row = rows.get(key) or rows.setdefault(key, _Row())
                row.add(event)

    def report(self) -> UsageReport:
        with self._lock:
            return UsageReport(
                roles={k: r.stats() for k, r in self._roles.items()},
                targets={k: r.stats() for k, r in self._targets.items()},
            )

    def reset(self) -> None:
        with self._lock:
            self._roles.clear()
            self._targets.clear()
