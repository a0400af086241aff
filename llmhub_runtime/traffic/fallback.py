"""``FallbackStore``: Redis first; when it is down or slow, in-process limits (fail open) or a refusal (fail closed).

After a failure Redis is not asked again for ``retry_interval`` seconds, so an outage costs one
timeout per interval, not one per call. Each outage logs one warning; ``metrics`` counts errors
and the acquisitions served by the fallback.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Literal

from .demand import Blocked, Check, Demand, Grant, Lease, Outcome, StateStore
from .redis_store import StoreUnavailable

__all__ = ["FallbackStore"]

logger = logging.getLogger("llmhub_runtime")


class FallbackStore:
    """``primary`` (Redis) with ``backup`` (memory) behind it."""

    def __init__(
        self,
        primary: StateStore,
        backup: StateStore,
        *,
        fail: Literal["open", "closed"] = "open",
        retry_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.backup = backup
        self.fail = fail
        self.retry_interval = retry_interval
        self.clock = clock
        self.metrics: Counter[str] = Counter()
        self._down_until = -math.inf
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FallbackStore({self.primary!r}, fail={self.fail!r})"

    @property
    def available(self) -> bool:
        """Whether the primary store answered last time it was asked."""
        return self._down_until == -math.inf

    def _down(self, exc: StoreUnavailable) -> None:
        with self._lock:
            self.metrics["state_errors"] += 1
            first = self._down_until == -math.inf
            self._down_until = self.clock() + self.retry_interval
        if first:
            action = "using in-process limits" if self.fail == "open" else "refusing calls (fail: closed)"
            logger.warning("llmhub: traffic state %r unavailable (%s); %s until it answers", self.primary, exc, action)

    def _up(self) -> None:
        if self._down_until != -math.inf:
            with self._lock:
                self._down_until = -math.inf
            logger.warning("llmhub: traffic state %r answers again; limits are shared again", self.primary)

    def acquire(self, demand: Demand) -> Grant | Blocked:
        if self.clock() >= self._down_until:
            try:
                verdict = self.primary.acquire(demand)
            except StoreUnavailable as exc:
                self._down(exc)
            else:
                self._up()
                return verdict
        if self.fail == "closed":
            self.metrics["refused"] += 1
            return Blocked(None, math.inf, "unavailable")
        self.metrics["fallback_acquires"] += 1
        return self.backup.acquire(demand)

    def settle(self, lease: Lease, outcome: Outcome, weights: Sequence[float], retry_after: float | None) -> None:
        try:
            lease.store.settle(lease, outcome, weights, retry_after)
        except StoreUnavailable as exc:
            self._down(exc)  # the slot and the estimate expire on their own

    def snapshot(self, checks: Sequence[Check], label: str) -> dict[str, Any]:
        try:
            return self.primary.snapshot(checks, label)
        except StoreUnavailable as exc:
            self._down(exc)
            return {"unavailable": str(exc)}

    def close(self) -> None:
        self.primary.close()
        self.backup.close()
