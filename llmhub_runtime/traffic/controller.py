"""``TrafficController``: the hub's one entry point to traffic control.

The hub calls it at four points: ``route`` (weighted split) when it prepares a call, ``guard`` /
``aguard`` around each attempt (acquire every limit of the target, or wait, or refuse with a
``TrafficLimitError`` so the planner moves on; release on failure and record it for the
cooldown), and ``observe`` on every end event (settle the reservation to the real usage, for
streams too). A hub whose config uses none of it has no controller, and pays nothing.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .. import errors as e
from ..hooks import CallEvent
from ..models import ResolvedCall, RuntimeConfig, Target
from .config import TrafficConfig, mask_url
from .demand import (
    Blocked,
    Check,
    Demand,
    Grant,
    Lease,
    Outcome,
    StateStore,
    checks_of,
    estimate_input_tokens,
    max_output_tokens,
)
from .errors import TargetCoolingDownError, TrafficLimitError, TrafficStateError
from .fallback import FallbackStore
from .memory import MemoryStore
from .split import choose, current_split_key, reorder

if TYPE_CHECKING:
    from ..retry import Attempt, CallPlan, Timer

__all__ = ["TrafficController", "uses_traffic"]

logger = logging.getLogger("llmhub_runtime")
T = TypeVar("T")
_TRANSIENT = (e.RateLimitError, e.ProviderServerError, e.ProviderTimeoutError, e.ProviderConnectionError)
_PENDING_MAX = 100_000


def uses_traffic(config: RuntimeConfig) -> bool:
    """Whether any part of ``config`` (after env binding) asks for traffic control."""
    if config.traffic is not None:
        return True
    if any(entry.limits or entry.cooldown for entry in config.providers.values()):
        return True
    for role in config.roles.values():
        if role.limits or role.cooldown or role.weight is not None:
            return True
        if any(f.limits or f.cooldown or f.weight is not None for f in role.fallbacks):
            return True
    return False


def _store_for(config: TrafficConfig, clock: Callable[[], float]) -> StateStore:
    memory = MemoryStore(clock)
    if config.state == "memory":
        return memory
    from .redis_store import RedisStore

    return FallbackStore(RedisStore(config.state, timeout=config.timeout, prefix=config.prefix), memory,
                         fail=config.fail)  # fmt: skip


def _retry_after(error: e.ProviderError) -> float | None:
    value = getattr(error, "retry_after", None)
    if value is None:
        raw = error.headers.get("retry-after")
        try:
            value = float(raw) if raw is not None else None
        except ValueError:
            value = None
    return value if isinstance(value, int | float) and value > 0 else None


class TrafficController:
    """Limits, cooldowns and splits for one hub, over one ``StateStore``."""

    def __init__(self, config: TrafficConfig, store: StateStore, *, rng: random.Random | None = None) -> None:
        self.config = config
        self.store = store
        self._rng = rng or random.Random()  # noqa: S311 - traffic split, not crypto
        self._checks: dict[int, tuple[Target, tuple[Check, ...]]] = {}
        self._pending: dict[int, Lease] = {}
        self.counts: dict[str, int] = {"waits": 0, "refused": 0}

    @classmethod
    def for_config(cls, config: RuntimeConfig, timer: Timer) -> TrafficController | None:
        """The controller ``config`` asks for, or None when it uses no traffic control.

        In-process state runs on the hub's timer (shifted to unix time), so an injected clock drives it.
        """
        if not uses_traffic(config):
            return None
        offset = time.time() - timer.now()
        return cls(config.traffic or TrafficConfig(), _store_for(config.traffic or TrafficConfig(),
                                                                 lambda: timer.now() + offset))  # fmt: skip

    def __repr__(self) -> str:
        return f"<TrafficController state={mask_url(self.config.state)!r}>"

    @property
    def metrics(self) -> dict[str, int]:
        """Counters: waits for room, refusals, and (with Redis) state errors and fallback acquisitions."""
        extra = self.store.metrics if isinstance(self.store, FallbackStore) else {}
        return {**self.counts, **extra}

    # --- routing -----------------------------------------------------------------------------------

    def route(self, call: ResolvedCall) -> ResolvedCall:
        """``call`` with its first target picked by weight (by the ``split_key`` when one is set)."""
        if len(call.targets) < 2:
            return call
        return reorder(call, choose(call, current_split_key(), self._rng))

    # --- attempts ----------------------------------------------------------------------------------

    def checks(self, target: Target) -> tuple[Check, ...]:
        """The checks of ``target``, derived once."""
        known = self._checks.get(id(target))
        if known is None or known[0] is not target:
            known = self._checks[id(target)] = (target, checks_of(target))
        return known[1]

    def demand(
        self, target: Target, inputs: Any, override: Mapping[str, Any] | None, kwargs: Mapping[str, Any] | None
    ) -> Demand:
        """What one attempt on ``target`` asks for: tokens = prompt estimate + output cap; cost from pricing."""
        checks = self.checks(target)
        tokens = cost = 0.0
        if any(check.kind in ("tokens", "budget") for check in checks):
            prompt = estimate_input_tokens(inputs)
            output = max_output_tokens(target, override, kwargs)
            tokens = prompt + output
            cost = target.pricing.cost(prompt, output) if target.pricing is not None else 0.0
        weights = tuple(
            tokens if check.kind == "tokens" else cost if check.kind == "budget" else 1.0 for check in checks
        )
        timeout = target.timeout or 60.0
        return Demand(target.label, checks, weights, target.cooldown, lease_ttl=600.0 + timeout,
                      probe_ttl=timeout + 5.0)  # fmt: skip

    def _admission(self, plan: CallPlan, step: Attempt, demand: Demand) -> Generator[float, None, Lease]:
        """Yield the waits before ``demand`` is granted; raise ``TrafficLimitError`` when it cannot be in time."""
        timer = plan.timer
        deadline = timer.now() + (step.target.timeout or self.config.max_wait)
        while True:
            verdict = self.store.acquire(demand)
            if isinstance(verdict, Grant):
                return verdict.lease
            wait = verdict.retry_after
            if verdict.check is None or verdict.check.policy == "next" or timer.now() + wait > deadline:
                self.counts["refused"] += 1
                raise self._refusal(plan, step, verdict, deadline - timer.now())
            self.counts["waits"] += 1
            yield wait

    def guard(
        self,
        plan: CallPlan,
        attempt: Callable[[Attempt], T],
        inputs: Any = None,
        override: Mapping[str, Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> Callable[[Attempt], T]:
        """``attempt`` behind the target's limits and cooldown (sync)."""

        def guarded(step: Attempt) -> T:
            target = step.target
            if not target.limits and target.cooldown is None:
                return attempt(step)
            admission = self._admission(plan, step, self.demand(target, inputs, override, kwargs))
            try:
                while True:
                    plan.timer.sleep(next(admission))
            except StopIteration as granted:
                lease: Lease = granted.value
            try:
                result = attempt(step)
            except BaseException as exc:
                raise self._failed(plan, lease, exc)  # noqa: B904 - the mapped error keeps its cause
            self._hold(plan, lease)
            return result

        return guarded

    def aguard(
        self,
        plan: CallPlan,
        attempt: Callable[[Attempt], Awaitable[T]],
        inputs: Any = None,
        override: Mapping[str, Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> Callable[[Attempt], Awaitable[T]]:
        """The async twin of ``guard`` (the store is asked inline: one sub-millisecond round trip, bounded)."""

        async def guarded(step: Attempt) -> T:
            target = step.target
            if not target.limits and target.cooldown is None:
                return await attempt(step)
            admission = self._admission(plan, step, self.demand(target, inputs, override, kwargs))
            try:
                while True:
                    await plan.timer.asleep(next(admission))
            except StopIteration as granted:
                lease: Lease = granted.value
            try:
                result = await attempt(step)
            except BaseException as exc:
                raise self._failed(plan, lease, exc)  # noqa: B904 - the mapped error keeps its cause
            self._hold(plan, lease)
            return result

        return guarded

    def _hold(self, plan: CallPlan, lease: Lease) -> None:
        """Keep the lease until the call's end event settles it (streams end later than their attempt)."""
        if len(self._pending) >= _PENDING_MAX:  # ends that never came (abandoned objects): their slots expire
            self._pending.pop(next(iter(self._pending)))
        self._pending[plan.call_id] = lease

    def _failed(self, plan: CallPlan, lease: Lease, exc: BaseException) -> BaseException:
        """Release ``lease`` after ``exc``; the exception to raise (mapped, so the cooldown sees its kind)."""
        error: BaseException = exc
        outcome: Outcome = "other"
        retry_after = None
        if isinstance(exc, Exception):
            try:
                error = plan.to_error(exc)
            except BaseException as foreign:
                error = foreign
            if isinstance(error, _TRANSIENT):
                outcome, retry_after = "fail", _retry_after(error)
        self._settle(lease, outcome, None, retry_after)
        if error is not exc and error.__cause__ is None:
            error.__cause__ = exc
        return error

    def observe(self, event: CallEvent) -> None:
        """Settle the call's lease on its end event (real usage and cost), or release it on a stream's error."""
        if event.kind == "start" or not self._pending:
            return
        lease = self._pending.pop(event.call_id, None)
        if lease is None:
            return
        if event.kind == "end":
            self._settle(lease, "ok", event, None)
        else:
            self._settle(lease, "other", None, None)

    def _settle(self, lease: Lease, outcome: Outcome, event: CallEvent | None, retry_after: float | None) -> None:
        demand = lease.demand
        tokens = event.usage.total_tokens if event is not None and event.usage is not None else None
        cost = event.cost if event is not None else None
        weights = []
        for check, estimate in zip(demand.checks, demand.weights, strict=True):
            if check.kind == "tokens":
                weights.append(float(tokens) if tokens is not None else (estimate if outcome == "ok" else 0.0))
            elif check.kind == "budget":
                weights.append(cost if cost is not None else (estimate if outcome == "ok" else 0.0))
            else:
                weights.append(estimate)
        try:
            self.store.settle(lease, outcome, weights, retry_after)
        except Exception:  # never fail a finished call over bookkeeping
            logger.warning("llmhub: could not settle a traffic lease", exc_info=True)

    def _refusal(self, plan: CallPlan, step: Attempt, verdict: Blocked, budget: float) -> TrafficLimitError:
        target = step.target
        fields: dict[str, Any] = {"role": plan.call.role, "provider": target.provider, "model": target.model}
        if verdict.reason == "unavailable":
            return TrafficStateError(
                f"traffic state {mask_url(self.config.state)!r} is unavailable and traffic.fail is 'closed'; "
                "nothing was sent",
                **fields,
            )
        wait = None if math.isinf(verdict.retry_after) else round(verdict.retry_after, 3)
        if verdict.check is None:
            return TargetCoolingDownError(
                f"target {target.label} is cooling down after failures ({wait}s left); nothing was sent",
                scope=target.label, retry_after=wait, **fields,
            )  # fmt: skip
        check = verdict.check
        shown = f"{check.limit:g}" if check.kind != "budget" else f"{check.limit:g} per {check.period}"
        if wait is None:
            why = "this call alone needs more than the limit allows"
        elif check.policy == "next":
            why = f"room again in {wait}s; policy 'next' moves on without waiting"
        else:
            why = f"room again in {wait}s, later than this attempt may wait ({max(budget, 0):.3g}s: its timeout)"
        return TrafficLimitError(
            f"limit {check.name}={shown} of {check.where} (scope {check.scope}) is reached: {why}; nothing was sent",
            scope=check.scope, limit=check.name, retry_after=wait, **fields,
        )  # fmt: skip

    # --- introspection -------------------------------------------------------------------------------

    def status(self, target: Target) -> dict[str, Any]:
        """Each limit of ``target`` with its live usage, and the target's cooldown (from the shared state)."""
        checks = self.checks(target)
        snap = self.store.snapshot(checks, target.label)
        used = snap.get("used", {})
        return {
            "limits": [
                {
                    "scope": c.scope,
                    "limit": c.name,
                    "max": c.limit,
                    "used": used.get(c.key),
                    "policy": c.policy,
                    "where": c.where,
                }
                for c in checks
            ],
            "cooldown": None
            if target.cooldown is None
            else {
                **target.cooldown.model_dump(),
                "cooling_for": snap.get("cooling_for"),
                "recent_failures": snap.get("failures"),
                "tripped": snap.get("tripped"),
            },
            "state": mask_url(self.config.state),
            **({"unavailable": snap["unavailable"]} if "unavailable" in snap else {}),
        }

    def close(self) -> None:
        """Close the state store's connections."""
        self.store.close()
