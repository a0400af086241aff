"""Time bounds of one attempt, enforced by llmhub itself rather than by the SDK's socket reads.

An SDK's ``timeout`` bounds each read on the socket, so an answer that trickles in a byte at a
time never trips it. llmhub bounds the attempt:

- ``timeout`` (default ``DEFAULT_TIMEOUT``, 120 s): a non-streamed attempt, request and whole
  body; for a stream, the time until its first chunk;
- ``chunk_timeout`` (default: the ``timeout``): for a stream, the longest gap between two chunks
  after the first. The stream as a whole may run longer, as long as chunks keep coming.

Either bound running out is a ``TimeoutError``, which the planner treats as any timeout
(``ProviderTimeoutError``: retried; after a stream's first chunk, ``StreamInterruptedError``).
The sync API runs the same coroutines on any-llm's runner loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .models import DEFAULT_TIMEOUT, Target

__all__ = ["Limits", "bounded_stream", "limits", "run_sync", "sync_stream", "within"]

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """The bounds of one attempt, in seconds."""

    total: float
    """A non-streamed attempt; a stream's wait for its first chunk."""
    gap: float
    """A stream's wait for each chunk after the first."""


def limits(target: Target, args: MutableMapping[str, Any], *, stream: bool) -> Limits:
    """The bounds for an attempt on ``target`` with call arguments ``args``.

    A numeric ``timeout`` in ``args`` (the target's, or the call's own) is the total; for a stream,
    the SDK's per-read timeout is raised to the larger bound so it never cuts a gap llmhub allows.
    """
    given = args.get("timeout")
    numeric = isinstance(given, int | float) and not isinstance(given, bool) and given > 0
    total = float(given) if numeric and isinstance(given, int | float) else (target.timeout or DEFAULT_TIMEOUT)
    gap = target.chunk_timeout or total
    if numeric and stream:
        args["timeout"] = max(total, gap)
    return Limits(total=total, gap=gap)


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``await awaitable``, or ``TimeoutError`` once ``seconds`` have passed."""
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError as exc:
        raise TimeoutError(f"no complete answer within {seconds:g}s (timeout)") from exc


_END: Any = object()


async def bounded_stream(opened: Awaitable[AsyncIterator[T]], bounds: Limits) -> AsyncIterator[T]:
    """The chunks of the stream ``opened`` gives, each within its bound; empty if the stream has none."""
    source: AsyncIterator[T] | None = None
    watchdog: _Watchdog | None = None
    try:
        try:
            async with asyncio.timeout(bounds.total):
                source = await opened
                item = await anext(source, _END)
        except TimeoutError as exc:
            raise TimeoutError(f"no first chunk within {bounds.total:g}s (timeout)") from exc
        watchdog = _Watchdog(bounds.gap)
        while item is not _END:
            yield item
            item = await watchdog.next(source)
    finally:
        if watchdog is not None:
            watchdog.stop()
        if source is not None:
            from any_llm.utils.aio import aclose_quietly

            await aclose_quietly(source)


class _Watchdog:
    """Bounds each wait for a chunk with one timer, re-armed lazily (a fresh ``asyncio.timeout`` per
    chunk would cost a timer per chunk): when it fires while a wait is overdue, it cancels the
    waiting task, and ``next`` turns that cancellation into ``TimeoutError``, as ``asyncio.timeout`` does."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        self.since: float | None = None
        self.handle: asyncio.TimerHandle | None = None
        self.fired = False

    async def next(self, source: AsyncIterator[T]) -> Any:
        self.since = self.loop.time()
        if self.handle is None:
            self.handle = self.loop.call_at(self.since + self.seconds, self._check)
        try:
            return await anext(source, _END)
        except asyncio.CancelledError:
            if self.fired and self.task is not None and self.task.uncancel() == 0:
                raise TimeoutError(f"no chunk for {self.seconds:g}s (chunk_timeout)") from None
            raise
        finally:
            self.since = None

    def _check(self) -> None:
        self.handle = None
        if self.since is None or self.task is None:
            return  # not waiting now: the next wait re-arms the timer
        deadline = self.since + self.seconds
        if self.loop.time() >= deadline:
            self.fired = True
            self.task.cancel()
        else:
            self.handle = self.loop.call_at(deadline, self._check)

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


def run_sync(awaitable: Awaitable[T], seconds: float) -> T:
    """Run ``awaitable`` on any-llm's runner loop (as its sync API does), bounded by ``seconds``."""
    from any_llm.utils.aio import run_async_in_sync

    return run_async_in_sync(within(awaitable, seconds), allow_running_loop=True)


def sync_stream(opened: Awaitable[AsyncIterator[T]], bounds: Limits) -> Iterator[T]:
    """``bounded_stream`` as a sync iterator, consumed on any-llm's runner loop."""
    from any_llm.utils.aio import async_iter_to_sync_iter

    return async_iter_to_sync_iter(bounded_stream(opened, bounds), allow_running_loop=True)
