"""The retry/fallback planner shared by the hub's sync and async drivers.

``CallPlan.steps()`` is a generator, like tenacity's ``BaseRetrying.iter()``: it yields what
to do next — ``Emit`` an event, make an ``Attempt`` on a target, or ``Wait`` — and the driver
sends back the exception of a failed attempt (a successful attempt ends the plan). The
drivers are short loops that differ only by ``await``. A role without fallbacks is a
one-target chain; there is no second code path.

What happens after a failure (``decide``):

=============================================  ========================================
failure                                        then
=============================================  ========================================
rate limit, timeout (and 408), connection,     retry this target (Retry-After when the
5xx/529 overload, unreadable answer            provider sent one, on any status; else backoff)
Retry-After longer than ``max_retry_after``    next target
context length, content filter, 413 too large  next target, no retry
unknown model, other 4xx                       next target, no retry
authentication                                 next target, no retry
bad request (400/422), stream interrupted      raise now: the request itself is wrong
=============================================  ========================================
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from . import errors as e
from .errors_map import is_params_validation, map_exception
from .hooks import CallEvent, Usage
from .models import ResolvedCall, RetryPolicy, Target

__all__ = ["Attempt", "CallPlan", "Emit", "Step", "SystemTimer", "Timer", "Wait", "decide"]


class Timer:
    """Clock, sleep and jitter in one injectable object (tests pass a fake)."""

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def jitter(self) -> float:
        """Factor in [0.5, 1.0] applied to each computed backoff."""
        return random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not crypto


SystemTimer = Timer


@dataclass(frozen=True)
class Attempt:
    """Call ``target`` now; this is attempt ``number`` on it."""

    target: Target
    index: int
    number: int
    api_key: str = field(repr=False)


@dataclass(frozen=True)
class Wait:
    """Sleep this long before the next attempt."""

    seconds: float


@dataclass(frozen=True)
class Emit:
    """Send this event to the hooks."""

    event: CallEvent


Step = Attempt | Wait | Emit
_call_ids = itertools.count(1)
Decision = tuple[Literal["retry", "next", "raise"], float]


def decide(error: e.ProviderError, attempt: int, policy: RetryPolicy, jitter: float) -> Decision:
    """What to do after ``error`` on attempt ``attempt`` of a target with ``policy``."""
    if isinstance(error, e.StreamInterruptedError | e.AllTargetsFailedError):
        return "raise", 0.0
    if isinstance(error, e.ContextLengthError | e.ContentFilterError | e.RequestTooLargeError):
        return "next", 0.0
    if isinstance(error, e.BadRequestError):
        return "raise", 0.0
    retryable = isinstance(
        error, e.RateLimitError | e.ProviderTimeoutError | e.ProviderConnectionError | e.ProviderServerError
    )
    if not retryable or attempt >= policy.max_attempts:
        return "next", 0.0
    if error.retry_after is not None:  # 429, 503, 529, ...: the provider said how long
        if error.retry_after > policy.max_retry_after:
            return "next", 0.0
        return "retry", error.retry_after
    backoff = min(policy.max_backoff, policy.backoff * 2 ** (attempt - 1))
    return "retry", backoff * jitter


class CallPlan:
    """The attempts of one call over a resolved chain of targets."""

    def __init__(
        self, call: ResolvedCall, api_keys: Sequence[str], *, stream: bool, timer: Timer, observed: bool
    ) -> None:
        self.call = call
        self.api_keys = tuple(api_keys)
        self.stream = stream
        self.timer = timer
        self.observed = observed
        self.call_id = next(_call_ids)
        self.started = 0.0
        self.current: Attempt | None = None
        self.cache: Literal["hit", "miss"] | None = None
        """Set by the response cache: every event of the call says whether it was answered from it."""
        self.in_flight = False
        """An attempt has started and its outcome is not reported yet (the driver reports it if the call dies)."""

    def clock(self) -> None:
        """Start timing the current attempt: called once its client exists, so latency leaves out
        the one-time import of any-llm and the building of the client."""
        self.started = self.timer.now()

    def event(
        self,
        kind: Literal["start", "end", "error"],
        *,
        usage: Usage | None = None,
        error_type: str | None = None,
        wait: float | None = None,
        final: bool = False,
        abandoned: bool = False,
        answered_model: str | None = None,
    ) -> CallEvent:
        """An event for the current attempt (built once: this runs on every call)."""
        attempt = self.current
        assert attempt is not None
        target = attempt.target
        pricing = target.pricing
        cost = None
        if kind == "end" and pricing is not None and usage is not None:
            cost = pricing.cost(usage.input_tokens, usage.output_tokens)
        return CallEvent(
            kind=kind,
            role=self.call.role,
            mode=self.call.mode,
            provider=target.provider,
            model=target.model,
            attempt=attempt.number,
            target_index=attempt.index,
            stream=self.stream,
            latency=self.timer.now() - self.started,
            usage=usage,
            error_type=error_type,
            wait=wait,
            final=final,
            abandoned=abandoned,
            answered_model=answered_model,
            cost=cost,
            call_id=self.call_id,
            env=self.call.env,
            provider_kind=target.kind,
            cache=self.cache,
        )

    def to_error(self, exc: Exception) -> e.ProviderError:
        """The llmhub error for an exception raised by the current attempt (re-raises foreign ones)."""
        attempt = self.current
        assert attempt is not None
        if isinstance(exc, e.ProviderError):
            error = exc
        elif isinstance(exc, e.LLMHubError) or not _from_any_llm(exc):
            raise exc
        else:
            error = map_exception(exc, target=attempt.target, role=self.call.role, api_key=attempt.api_key)
            error.__cause__ = exc
        error.attempts = attempt.number
        return error

    def steps(self) -> Generator[Step, Exception | None, None]:
        """Yield steps until an attempt succeeds (``None`` sent back) or the chain is exhausted."""
        failures: list[e.TargetFailure] = []
        last: e.ProviderError | None = None
        for index, target in enumerate(self.call.targets):
            number = 0
            while True:
                number += 1
                self.current = Attempt(target, index, number, self.api_keys[index])
                self.started = self.timer.now()
                self.in_flight = True
                if self.observed:
                    yield Emit(self.event("start"))
                outcome = yield self.current
                if outcome is None:
                    return
                last = self.to_error(outcome)  # a foreign exception leaves the attempt in flight
                self.in_flight = False
                verdict, wait = decide(last, number, target.retry, self.timer.jitter())
                final = verdict == "raise" or (verdict == "next" and index == len(self.call.targets) - 1)
                yield Emit(
                    self.event(
                        "error",
                        error_type=type(last).__name__,
                        wait=wait if verdict == "retry" else None,
                        final=final,
                    )
                )
                if verdict == "retry":
                    yield Wait(wait)
                    continue
                failures.append(e.TargetFailure(target.provider, target.model, number, last))
                if verdict == "raise":
                    self._raise(failures, last)
                break
        assert last is not None
        self._raise(failures, last)

    def aborted(self, exc: BaseException) -> CallEvent | None:
        """The final error event for an attempt still in flight when ``exc`` ended the call, else ``None``.

        So every start gets its end or error even when the call is cancelled or dies of an
        exception llmhub does not handle (the exception itself propagates unchanged).
        """
        if not self.in_flight or self.current is None:
            return None
        self.in_flight = False
        return self.event("error", error_type=type(exc).__name__, final=True)

    def _raise(self, failures: list[e.TargetFailure], last: e.ProviderError) -> None:
        if len(failures) == 1:
            raise last
        raise e.AllTargetsFailedError(self.call.role, failures) from last


def _from_any_llm(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith("any_llm") or isinstance(exc, TimeoutError | ConnectionError) or is_params_validation(exc)
