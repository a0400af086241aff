"""Hooks: observe every attempt of every call (for metrics, tracing, audit).

A hook is any object with some of ``on_start``, ``on_end`` and ``on_error``; each takes a
``CallEvent`` and may be sync or ``async``. A hook that raises is logged and ignored: it
never masks the call's result or its real error. Events never carry API keys or messages.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["CallEvent", "Hook", "HookRunner", "Usage"]

logger = logging.getLogger("llmhub_runtime")

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
    """Dispatches events to hooks, sync or async, logging and swallowing their failures."""

    def __init__(self, hooks: Sequence[object]) -> None:
        self.hooks = tuple(hooks)

    def __bool__(self) -> bool:
        return bool(self.hooks)

    def _results(self, event: CallEvent) -> list[tuple[object, Any]]:
        results = []
        for hook in self.hooks:
            method = getattr(hook, f"on_{event.kind}", None)
            if method is None:
                continue
            try:
                results.append((hook, method(event)))
            except Exception:
                logger.exception("llmhub hook %r failed in on_%s; ignored", hook, event.kind)
        return results

    def emit(self, event: CallEvent) -> None:
        """Run hooks from sync code; an async hook's coroutine is run to completion on a private loop."""
        for hook, result in self._results(event):
            if inspect.isawaitable(result):
                import asyncio

                try:
                    asyncio.run(_awaited(result))
                except Exception:
                    logger.exception("llmhub hook %r failed in on_%s; ignored", hook, event.kind)

    async def aemit(self, event: CallEvent) -> None:
        """Run hooks from async code, awaiting async ones."""
        for hook, result in self._results(event):
            if inspect.isawaitable(result):
                try:
                    await result
                except Exception:
                    logger.exception("llmhub hook %r failed in on_%s; ignored", hook, event.kind)


async def _awaited(awaitable: Awaitable[None]) -> None:
    await awaitable
