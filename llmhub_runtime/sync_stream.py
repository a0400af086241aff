"""Sync streaming over any-llm's async stream, handing the first chunk over at once.

any-llm's sync stream bridge reads the whole stream ahead on its runner thread, and the caller's
thread only gets the first chunk once that thread lets go of the GIL: with a fast provider, up to
a switch interval (5 ms) late. Here one task on the same runner loop (the hub's sync clients live
there) opens the stream, hands the first chunk over through a queue and waits, so the loop idles
and the caller takes the chunk at once; only when the caller asks for the second chunk does the
task read the rest into the queue, as it arrives (``timeouts.sync_stream`` uses it). One task
reads the whole stream (async generators keep one context). Errors reach the caller in order,
after the chunks before them; ``close()`` cancels the task and returns once the provider stream
is closed.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from any_llm.utils.aio import RUNNER_THREAD_NAME, aclose_quietly, run_async_in_sync

__all__ = ["SyncStream", "on_runner_thread"]

_DONE = object()
_CLOSE_WAIT = 10.0
"""Seconds ``close()`` waits for the provider stream to close (a stream that never closes must not hang it)."""

_runner: list[asyncio.AbstractEventLoop] = []
"""any-llm's runner loop, once looked up (forgotten in a forked child, as any-llm forgets it)."""

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_runner.clear)


def on_runner_thread() -> bool:
    """Whether this thread is any-llm's runner thread (then only any-llm's own bridge can stream)."""
    return threading.current_thread().name.startswith(RUNNER_THREAD_NAME)


def _runner_loop() -> asyncio.AbstractEventLoop:
    loop = _runner[0] if _runner else None
    if loop is None or loop.is_closed() or not loop.is_running():
        loop = run_async_in_sync(_running_loop(), allow_running_loop=True)
        _runner[:] = [loop]
    return loop


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


class SyncStream:
    """The stream ``start()`` opens, read by one task on any-llm's runner loop; iterate it from sync code.

    The first ``next()`` blocks until the first chunk (a failure before it raises there, so a
    caller can retry); the reading of the rest starts with the second.
    """

    def __init__(self, start: Callable[[], Awaitable[AsyncIterator[Any]]]) -> None:
        self._start = start
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._demand = asyncio.Event()
        self._closed = threading.Event()
        self._taken = 0
        self._finished = False
        self._loop = _runner_loop()
        self._task = asyncio.run_coroutine_threadsafe(self._read(), self._loop)

    async def _read(self) -> None:
        try:
            source = await self._start()
            try:
                waiting = True
                async for chunk in source:
                    self._queue.put(chunk)
                    if waiting:  # idle until the caller wants more, so it takes the first chunk now
                        waiting = False
                        await self._demand.wait()
            finally:
                await aclose_quietly(source)
        except Exception as exc:
            self._queue.put(exc)
        finally:
            self._queue.put(_DONE)
            self._closed.set()

    def __iter__(self) -> SyncStream:
        return self

    def __next__(self) -> Any:
        if self._finished:
            raise StopIteration
        if self._taken and not self._demand.is_set():
            self._loop.call_soon_threadsafe(self._demand.set)
        item = self._queue.get()
        if item is _DONE:
            self._finished = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        self._taken += 1
        return item

    def close(self) -> None:
        """Stop reading and close the provider stream (waits for it, unless called on the runner thread)."""
        self._finished = True
        if self._closed.is_set():
            return
        self._task.cancel()
        if not on_runner_thread():
            self._closed.wait(_CLOSE_WAIT)
