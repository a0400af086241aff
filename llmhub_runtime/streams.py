"""Stream wrappers: track chunks for usage and partial text, end events, and interruptions.

A failure before the first chunk is an ordinary failed attempt (the planner retries or falls
back); after it, llmhub never restarts the stream: it raises ``StreamInterruptedError`` with the
text received so far. The sync and async wrappers share ``StreamTracker``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from . import errors as e
from .hooks import CallEvent, Usage
from .retry import CallPlan

__all__ = ["StreamTracker", "astream", "stream"]


class StreamTracker:
    """What a stream has delivered so far, and the events and errors it turns into."""

    def __init__(self, plan: CallPlan) -> None:
        self.plan = plan
        self.chunks = 0
        self.parts: list[str] = []
        self.usage: Usage | None = None
        self.model: str | None = None

    def record(self, chunk: Any) -> None:
        self.chunks += 1
        self.model = getattr(chunk, "model", None) or self.model
        for choice in getattr(chunk, "choices", None) or ():
            content = getattr(getattr(choice, "delta", None), "content", None)
            if content:
                self.parts.append(content)
        usage = Usage.from_response(chunk)
        if usage is not None:
            self.usage = usage

    def ended(self, *, abandoned: bool) -> CallEvent:
        return self.plan.event("end", usage=self.usage, abandoned=abandoned, answered_model=self.model)

    def interrupted(self, exc: Exception) -> tuple[e.StreamInterruptedError, CallEvent]:
        cause = self.plan.to_error(exc)
        target = self.plan.current
        assert target is not None
        error = e.StreamInterruptedError(
            f"stream from {target.target.label} failed after {self.chunks} chunk(s); llmhub does not "
            f"restart a stream that has started. Cause: {type(cause).__name__}: {cause.message}",
            partial_text="".join(self.parts),
            chunks_received=self.chunks,
            role=cause.role,
            provider=cause.provider,
            model=cause.model,
            status_code=cause.status_code,
        )
        event = self.plan.event("error", error_type=type(error).__name__, final=True)
        return error, event


def stream(
    plan: CallPlan, first: Any, rest: Iterator[Any], emit: Callable[[CallEvent], None]
) -> Iterator[Any]:
    """Yield ``first`` then ``rest``, firing the end event when the stream ends or is abandoned."""
    tracker = StreamTracker(plan)
    done = False
    try:
        chunk = first
        while True:
            tracker.record(chunk)
            yield chunk
            try:
                chunk = next(rest)
            except StopIteration:
                done = True
                break
            except Exception as exc:
                error, event = tracker.interrupted(exc)
                done = True
                emit(event)
                raise error from exc
        emit(tracker.ended(abandoned=False))
    finally:
        if not done:
            close = getattr(rest, "close", None)
            if close is not None:
                close()
            emit(tracker.ended(abandoned=True))


async def astream(
    plan: CallPlan, first: Any, rest: AsyncIterator[Any], emit: Callable[[CallEvent], Any]
) -> AsyncIterator[Any]:
    """The async twin of ``stream``."""
    tracker = StreamTracker(plan)
    done = False
    try:
        chunk = first
        while True:
            tracker.record(chunk)
            yield chunk
            try:
                chunk = await anext(rest)
            except StopAsyncIteration:
                done = True
                break
            except Exception as exc:
                error, event = tracker.interrupted(exc)
                done = True
                await emit(event)
                raise error from exc
        await emit(tracker.ended(abandoned=False))
    finally:
        if not done:
            aclose = getattr(rest, "aclose", None)
            if aclose is not None:
                await aclose()
            await emit(tracker.ended(abandoned=True))
