"""Stream wrappers: track chunks for usage and partial text, end events, and interruptions.

A failure before the first chunk is an ordinary failed attempt (the planner retries or falls
back): so is a stream that ends before its first chunk (a 200 with no events, or a plain JSON
body), an unreadable answer (``ProviderServerError``). After the first chunk llmhub never restarts
the stream: it raises ``StreamInterruptedError`` with the text received so far, also when the
stream ends cleanly but without a finish reason on any chunk (no ``[DONE]`` / ``message_stop``
reached it: the answer is incomplete). The sync and async wrappers share ``StreamTracker``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from . import errors as e
from .hooks import CallEvent, Usage
from .retry import CallPlan

__all__ = ["StreamTracker", "afirst_chunk", "astream", "first_chunk", "stream"]

_END: Any = object()


class StreamTracker:
    """What a stream has delivered so far, and the events and errors it turns into."""

    def __init__(self, plan: CallPlan) -> None:
        self.plan = plan
        self.chunks = 0
        self.parts: list[str] = []
        self.usage: Usage | None = None
        self.model: str | None = None
        self.finished = False

    def record(self, chunk: Any) -> None:
        self.chunks += 1
        self.model = getattr(chunk, "model", None) or self.model
        for choice in getattr(chunk, "choices", None) or ():
            content = getattr(getattr(choice, "delta", None), "content", None)
            if content:
                self.parts.append(content)
            if getattr(choice, "finish_reason", None):
                self.finished = True
        usage = Usage.from_response(chunk)
        if usage is not None:
            self.usage = usage

    def incomplete(self) -> e.ProviderServerError:
        """The cause for a stream that ended without a finish reason."""
        target = self.plan.current
        assert target is not None
        return e.ProviderServerError(
            "the stream ended without a finish reason (no [DONE] / message_stop): the answer is incomplete",
            role=self.plan.call.role,
            provider=target.target.provider,
            model=target.target.model,
        )

    def failed(self, exc: BaseException) -> CallEvent:
        """The error event of a stream ended by an exception that is not a provider failure."""
        return self.plan.event("error", error_type=type(exc).__name__, final=True)

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


def stream(plan: CallPlan, first: Any, rest: Iterator[Any], emit: Callable[[CallEvent], None]) -> Iterator[Any]:
    """Yield ``first`` then ``rest``, firing the end event when the stream ends or is abandoned."""
    tracker = StreamTracker(plan)
    done = False
    try:
        chunk = first
        while True:
            tracker.record(chunk)
            yield chunk
            try:
                chunk = next(rest, _END)
                if chunk is _END and not tracker.finished:
                    raise tracker.incomplete()
            except Exception as exc:
                done = True
                try:
                    error, event = tracker.interrupted(exc)
                except Exception:  # not a provider failure (a bug, a local mistake): ends the stream as is
                    emit(tracker.failed(exc))
                    raise
                emit(event)
                raise error from exc
            if chunk is _END:
                done = True
                break
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
                chunk = await anext(rest, _END)
                if chunk is _END and not tracker.finished:
                    raise tracker.incomplete()
            except Exception as exc:
                done = True
                try:
                    error, event = tracker.interrupted(exc)
                except Exception:  # not a provider failure (a bug, a local mistake): ends the stream as is
                    await emit(tracker.failed(exc))
                    raise
                await emit(event)
                raise error from exc
            if chunk is _END:
                done = True
                break
        await emit(tracker.ended(abandoned=False))
    finally:
        if not done:
            aclose = getattr(rest, "aclose", None)
            if aclose is not None:
                await aclose()
            await emit(tracker.ended(abandoned=True))


def _empty(plan: CallPlan) -> e.ProviderServerError:
    attempt = plan.current
    assert attempt is not None
    return e.ProviderServerError(
        f"the stream from {attempt.target.label} ended before its first chunk (a 200 with no stream events): "
        "an unreadable answer",
        role=plan.call.role,
        provider=attempt.target.provider,
        model=attempt.target.model,
    )


def first_chunk(plan: CallPlan, chunks: Iterator[Any]) -> Any:
    """The first chunk of a sync stream; ``ProviderServerError`` if the stream has none."""
    first = next(chunks, _END)
    if first is _END:
        raise _empty(plan)
    return first


async def afirst_chunk(plan: CallPlan, chunks: AsyncIterator[Any]) -> Any:
    """The async twin of ``first_chunk``."""
    first = await anext(chunks, _END)
    if first is _END:
        raise _empty(plan)
    return first
