"""``MemoryStore``: limits and cooldowns of this process only (the default; no server needed).

Thread-safe (one lock), with an injected clock in unix seconds. Request and token limits are
sliding logs: an entry counts from its admission, and from its settlement once the call ends,
for the whole window — so no window of that length ever holds more than the limit, however the
provider counts. The same semantics as ``RedisStore``'s Lua scripts.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .demand import POLL, Blocked, Check, Demand, Grant, Lease, Outcome
from .periods import period_of

__all__ = ["MemoryStore"]


@dataclass
class _Entry:
    lease: str
    at: float
    weight: float
    alive: bool = True


@dataclass
class _Log:
    """A sliding log of weighted entries with their running total."""

    heap: list[tuple[float, int, _Entry]] = field(default_factory=list)
    live: dict[str, _Entry] = field(default_factory=dict)
    total: float = 0.0

    def purge(self, cutoff: float) -> None:
        heap = self.heap
        while heap and heap[0][0] <= cutoff:
            entry = heapq.heappop(heap)[2]
            if entry.alive:
                self.total -= entry.weight
                entry.alive = False
                if self.live.get(entry.lease) is entry:
                    del self.live[entry.lease]
        if not heap:
            self.total = 0.0
            self.live.clear()

    def add(self, lease: str, at: float, weight: float, seq: int) -> None:
        old = self.live.get(lease)
        if old is not None and old.alive:
            old.alive = False
            self.total -= old.weight
        entry = _Entry(lease, at, weight)
        self.live[lease] = entry
        heapq.heappush(self.heap, (at, seq, entry))
        self.total += weight

    def room_in(self, need: float, limit: float, window: float, now: float) -> float:
        """Seconds until ``need`` more fits under ``limit``."""
        freed = 0.0
        for at, _, entry in sorted(self.heap):
            if entry.alive:
                freed += entry.weight
                if self.total - freed + need <= limit:
                    return at + window - now
        return math.inf


@dataclass
class _Cool:
    fails: int = 0
    until: float = 0.0
    tripped: bool = False
    probe: float = 0.0


class MemoryStore:
    """In-process state; ``clock`` returns unix seconds (tests pass a fake one)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._logs: dict[str, _Log] = {}
        self._slots: dict[str, dict[str, float]] = {}
        self._budgets: dict[str, list[float]] = {}
        self._cools: dict[str, _Cool] = {}
        self._seq = itertools.count()

    def __repr__(self) -> str:
        return "MemoryStore()"

    def acquire(self, demand: Demand) -> Grant | Blocked:
        with self._lock:
            now = self.clock()
            probing = False
            if demand.cooldown is not None:
                cool = self._cools.get(demand.label)
                if cool is not None:
                    if now < cool.until:
                        return Blocked(None, cool.until - now, "cooling")
                    if cool.tripped:
                        if cool.probe > now:
                            return Blocked(None, cool.probe - now, "cooling")
                        probing = True
            for check, weight in zip(demand.checks, demand.weights, strict=True):
                wait = self._room(check, weight, now)
                if wait is not None:
                    return Blocked(check, wait)
            lease = Lease(uuid.uuid4().hex, demand, self, probe=probing)
            for check, weight in zip(demand.checks, demand.weights, strict=True):
                self._charge(check, lease, weight, now, demand.lease_ttl)
            if probing:
                self._cools[demand.label].probe = now + demand.probe_ttl
            return Grant(lease)

    def _room(self, check: Check, weight: float, now: float) -> float | None:
        """None when ``weight`` fits under ``check`` now, else the seconds until it may."""
        if weight > check.limit:
            return math.inf
        if check.kind == "concurrent":
            slots = self._slots.get(check.key, {})
            for lease, expiry in list(slots.items()):
                if expiry <= now:
                    del slots[lease]
            return POLL if len(slots) + 1 > check.limit else None
        if check.kind == "budget":
            index, ends = period_of(check.period, now)
            row = self._budgets.get(check.key)
            spent = row[1] if row is not None and row[0] == index else 0.0
            return ends - now if spent + weight > check.limit else None
        log = self._logs.get(check.key)
        if log is None:
            return None
        log.purge(now - check.window)
        if log.total + weight <= check.limit:
            return None
        return log.room_in(weight, check.limit, check.window, now)

    def _charge(self, check: Check, lease: Lease, weight: float, now: float, ttl: float) -> None:
        if check.kind == "concurrent":
            self._slots.setdefault(check.key, {})[lease.id] = now + ttl
        elif check.kind == "budget":
            index, _ = period_of(check.period, now)
            row = self._budgets.get(check.key)
            if row is None or row[0] != index:
                row = self._budgets[check.key] = [index, 0.0]
            row[1] += weight
        else:
            self._logs.setdefault(check.key, _Log()).add(lease.id, now, weight, next(self._seq))

    def settle(self, lease: Lease, outcome: Outcome, weights: Sequence[float], retry_after: float | None) -> None:
        demand = lease.demand
        with self._lock:
            now = self.clock()
            for check, old, new in zip(demand.checks, demand.weights, weights, strict=True):
                if check.kind == "concurrent":
                    self._slots.get(check.key, {}).pop(lease.id, None)
                elif check.kind == "budget":
                    index, _ = period_of(check.period, now)
                    row = self._budgets.get(check.key)
                    if row is not None and row[0] == index:
                        row[1] += new - old
                else:
                    self._logs.setdefault(check.key, _Log()).add(lease.id, now, new, next(self._seq))
            if demand.cooldown is not None:
                self._cool_down(demand, outcome, retry_after, now)

    def _cool_down(self, demand: Demand, outcome: Outcome, retry_after: float | None, now: float) -> None:
        assert demand.cooldown is not None
        cool = self._cools.setdefault(demand.label, _Cool())
        if outcome == "ok":
            cool.fails, cool.tripped, cool.probe = 0, False, 0.0
            return
        cool.probe = 0.0
        if outcome != "fail":
            return
        cool.fails += 1
        if retry_after:
            cool.until = max(cool.until, now + retry_after)
        if cool.fails >= demand.cooldown.failures:
            cool.tripped = True
            cool.until = max(cool.until, now + demand.cooldown.seconds)

    def snapshot(self, checks: Sequence[Check], label: str) -> dict[str, Any]:
        with self._lock:
            now = self.clock()
            used: dict[str, float] = {}
            for check in checks:
                if check.kind == "concurrent":
                    used[check.key] = sum(1 for expiry in self._slots.get(check.key, {}).values() if expiry > now)
                elif check.kind == "budget":
                    row = self._budgets.get(check.key)
                    used[check.key] = row[1] if row is not None and row[0] == period_of(check.period, now)[0] else 0.0
                else:
                    log = self._logs.get(check.key)
                    if log is not None:
                        log.purge(now - check.window)
                    used[check.key] = log.total if log is not None else 0.0
            cool = self._cools.get(label, _Cool())
            return {"used": used, "cooling_for": max(0.0, cool.until - now), "failures": cool.fails,
                    "tripped": cool.tripped}  # fmt: skip

    def close(self) -> None:
        """Nothing to close."""
