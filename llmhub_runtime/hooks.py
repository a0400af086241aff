"""Hooks: observe every attempt of every call (for metrics, tracing, audit).

A hook is any object with some of ``on_start``, ``on_end`` and ``on_error``; each takes a
``CallEvent`` and may be sync or ``async``. A hook that raises is logged and ignored: it
never masks the call's result or its real error. Events never carry API keys or messages.

A hook never stalls a call for long: each hook method gets ``HOOK_TIMEOUT`` seconds (5; a hook
may set its own ``hook_timeout`` attribute), after which the call goes on without it (logged).
Where hooks run:

- async calls: async hooks are awaited on the caller's loop; sync hooks run on a worker thread,
  so a slow one never blocks the event loop;
- sync calls: sync hooks run inline, in the caller's thread; async hooks run on one helper event
  loop in a background thread, which works inside a running loop too (Jupyter).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import inspect
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["HOOK_TIMEOUT", "CallEvent", "Hook", "HookRunner", "Usage"]

logger = logging.getLogger("llmhub_runtime")

HOOK_TIMEOUT = 5.0
"""Seconds one hook method may take before the call goes on without it (a hook's ``hook_timeout`` wins)."""

EventKind = Literal["start", "end", "error"]


@dataclass(frozen=True)
class Usage:
    """Token usage of one call."""

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @classmethod
    def from_response(cls, response: Any) -> Usage | None:
        """Tokens of any any-llm answer or chunk; ``None`` when it carries no usage.

        Chat and embeddings say ``prompt_tokens``/``completion_tokens``; Responses and images say
        ``input_tokens``/``output_tokens``; rerank has a lone ``total_tokens``, counted as input.
        """
        usage = getattr(response, "usage", None)
        if usage is None:
            return None
        prompt = getattr(usage, "prompt_tokens", None)  # chat and embeddings: the common case, read first
        if prompt is not None:
            return cls(input_tokens=int(prompt), output_tokens=int(getattr(usage, "completion_tokens", None) or 0))
        inputs = getattr(usage, "input_tokens", None)  # Responses, images
        outputs = getattr(usage, "output_tokens", None) or getattr(usage, "completion_tokens", None)
        if inputs is None and outputs is None:
            total = getattr(usage, "total_tokens", None)  # rerank
            return cls(input_tokens=int(total)) if isinstance(total, int) else None
        return cls(input_tokens=int(inputs or 0), output_tokens=int(outputs or 0))


@dataclass(frozen=True)
class CallEvent:
    """One moment of one attempt: its start, its end, or its failure."""

    kind: EventKind
    role: str
    mode: str
    provider: str
    model: str
    attempt: int
    """1-based attempt number on this target."""
    target_index: int
    """0 for the role's primary target, 1.. for fallbacks."""
    stream: bool = False
    latency: float | None = None
    """Seconds from the attempt's start (for streams: to the end or abandonment)."""
    usage: Usage | None = None
    error_type: str | None = None
    wait: float | None = None
    """Seconds llmhub will wait before the next attempt; ``None`` when it will not retry this target."""
    final: bool = False
    """On errors: no further attempt or target will be tried."""
    abandoned: bool = False
    """On stream ends: the consumer stopped before the stream finished."""
    answered_model: str | None = None
    """The model name the provider reported in its answer."""
    cost: float | None = None
    """On ends: the price of the tokens, when the target has ``pricing``; ``None`` means unknown."""
    call_id: int = 0
    """Same for every event of one hub call (to pair starts with ends, e.g. for tracing spans)."""
    env: str | None = None
    """The environment the role was bound in."""
    provider_kind: str | None = None
    """The any-llm provider id of the target (``openai``, ``anthropic``, ...)."""
    cache: Literal["hit", "miss"] | None = None
    """With a response cache: ``hit`` (answered from it: attempt 0, 0 tokens) or ``miss``; else ``None``."""


class Hook(Protocol):
    """What a hook may implement; every method is optional."""

    def on_start(self, event: CallEvent) -> Awaitable[None] | None: ...
    def on_end(self, event: CallEvent) -> Awaitable[None] | None: ...
    def on_error(self, event: CallEvent) -> Awaitable[None] | None: ...


class HookRunner:
    """Dispatches events to hooks, sync or async, bounding their time and logging their failures."""

    def __init__(self, hooks: Sequence[object]) -> None:
        self.hooks = tuple(hooks)
        self._lock = threading.Lock()
        self._queued: dict[int, concurrent.futures.Future[None]] = {}
        """Per call id, the last batch of sync hooks handed to a worker thread (a call's events stay in order)."""

    def __bool__(self) -> bool:
        return bool(self.hooks)

    def _methods(self, event: CallEvent) -> list[tuple[object, Callable[[CallEvent], Any]]]:
        found = ((hook, getattr(hook, f"on_{event.kind}", None)) for hook in self.hooks)
        return [(hook, method) for hook, method in found if method is not None]

    def emit(self, event: CallEvent) -> None:
        """Run hooks from sync code: sync ones inline, async ones on the helper loop (bounded)."""
        _run(event, self._methods(event))

    async def aemit(self, event: CallEvent) -> None:
        """Run hooks from async code: async ones awaited, sync ones on a worker thread (both bounded)."""
        methods = self._methods(event)
        in_thread = [(hook, method) for hook, method in methods if not inspect.iscoroutinefunction(method)]
        if in_thread:
            await self._in_thread(event, in_thread)
        for hook, method in methods:
            if inspect.iscoroutinefunction(method):
                try:
                    await _bounded(method(event), _timeout(hook))
                except TimeoutError:
                    _too_slow(hook, event)
                except Exception:
                    logger.exception("llmhub hook %r failed in on_%s; ignored", hook, event.kind)

    async def _in_thread(self, event: CallEvent, methods: list[tuple[object, Callable[[CallEvent], Any]]]) -> None:
        """Run sync hooks on a worker thread, after this call's previous event (even one whose wait was cut)."""
        key = event.call_id
        with self._lock:
            job = _workers().submit(contextvars.copy_context().run, _run, event, methods, self._queued.get(key))
            self._queued[key] = job
        job.add_done_callback(functools.partial(self._done, key))
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(job)), max(_timeout(h) for h, _ in methods))
        except TimeoutError:
            for hook, _ in methods:
                _too_slow(hook, event)

    def _done(self, key: int, job: concurrent.futures.Future[None]) -> None:
        with self._lock:
            if self._queued.get(key) is job:
                del self._queued[key]


def _run(
    event: CallEvent,
    methods: list[tuple[object, Callable[[CallEvent], Any]]],
    after: concurrent.futures.Future[None] | None = None,
) -> None:
    """Call each hook method (an async one's coroutine on the helper loop), bounded; failures logged."""
    if after is not None:
        with contextlib.suppress(Exception):
            after.result(timeout=HOOK_TIMEOUT)
    for hook, method in methods:
        try:
            result = method(event)
            if inspect.isawaitable(result):
                seconds = _timeout(hook)
                future = asyncio.run_coroutine_threadsafe(_bounded(result, seconds), _helper_loop())
                try:
                    future.result(timeout=seconds + 1)
                except concurrent.futures.TimeoutError:
                    future.cancel()
                    raise TimeoutError from None
        except TimeoutError:
            _too_slow(hook, event)
        except Exception:
            logger.exception("llmhub hook %r failed in on_%s; ignored", hook, event.kind)


def _timeout(hook: object) -> float:
    seconds = getattr(hook, "hook_timeout", None)
    return float(seconds) if isinstance(seconds, int | float) and seconds > 0 else HOOK_TIMEOUT


async def _bounded(awaitable: Awaitable[Any], seconds: float) -> None:
    async with asyncio.timeout(seconds):
        await awaitable


def _too_slow(hook: object, event: CallEvent) -> None:
    logger.warning(
        "llmhub hook %r took longer than %gs in on_%s; the call went on without it", hook, _timeout(hook), event.kind
    )


class _Helpers:
    """The helper loop (async hooks of sync calls) and worker threads (sync hooks of async calls), lazily."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.workers: concurrent.futures.ThreadPoolExecutor | None = None


_helpers = _Helpers()
if hasattr(os, "register_at_fork"):  # the threads do not survive a fork
    os.register_at_fork(after_in_child=lambda: _helpers.__init__())  # type: ignore[misc]


def _helper_loop() -> asyncio.AbstractEventLoop:
    with _helpers.lock:
        if _helpers.loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="llmhub-hooks", daemon=True).start()
            _helpers.loop = loop
        return _helpers.loop


def _workers() -> concurrent.futures.ThreadPoolExecutor:
    with _helpers.lock:
        if _helpers.workers is None:
            _helpers.workers = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="llmhub-hook")
        return _helpers.workers
