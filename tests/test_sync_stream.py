"""llmhub's sync stream bridge: the first chunk without read-ahead, errors in order, close() closes the source."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from llmhub_runtime import LLMHub
from llmhub_runtime.sync_stream import SyncStream
from llmhub_runtime.testing import StandInServer

HI = [{"role": "user", "content": "hello there"}]


class Source:
    """An async stream that records what was pulled from it and whether it was closed."""

    def __init__(self, items: list[Any], error: Exception | None = None) -> None:
        self.items, self.error = items, error
        self.pulled: list[Any] = []
        self.closed = False

    async def stream(self) -> AsyncIterator[Any]:
        try:
            for item in self.items:
                self.pulled.append(item)
                yield item
            if self.error is not None:
                raise self.error
        finally:
            self.closed = True

    def opener(self) -> Callable[[], Any]:
        async def start() -> AsyncIterator[Any]:
            return self.stream()

        return start


def test_first_chunk_comes_without_reading_ahead() -> None:
    source = Source(list(range(5)))
    live = SyncStream(source.opener())
    assert next(live) == 0
    assert source.pulled == [0]  # any-llm's own bridge has read all five by now
    assert list(live) == [1, 2, 3, 4]
    assert source.closed


def test_an_error_comes_after_the_chunks_before_it() -> None:
    source = Source(["a", "b", "c"], error=ConnectionError("dropped"))
    live = SyncStream(source.opener())
    received = [next(live)]
    with pytest.raises(ConnectionError, match="dropped"):
        for chunk in live:
            received.append(chunk)
    assert received == ["a", "b", "c"]
    assert source.closed


def test_a_failure_before_the_first_chunk_raises_from_the_first_next() -> None:
    source = Source([], error=ValueError("no stream"))
    live = SyncStream(source.opener())
    with pytest.raises(ValueError, match="no stream"):
        next(live)


def test_an_empty_stream_stops_at_once() -> None:
    live = SyncStream(Source([]).opener())
    with pytest.raises(StopIteration):
        next(live)


@pytest.mark.parametrize("taken", [1, 2])
def test_close_closes_the_source_before_returning(taken: int) -> None:
    source = Source(list(range(5)))
    live = SyncStream(source.opener())
    next(live)
    if taken == 2:
        next(live)
    live.close()
    assert source.closed
    assert source.pulled[:taken] == list(range(taken))
    with pytest.raises(StopIteration):
        next(live)


def test_hub_sync_stream_goes_through_the_bridge(server: StandInServer) -> None:
    with LLMHub(config=server.chat_config()) as hub:
        stream = hub.completion("llm.inference", HI, stream=True)
        first = next(stream)
        assert isinstance(stream.gi_frame.f_locals["rest"], SyncStream)  # type: ignore[attr-defined]
        rest = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in [first, *rest] if c.choices)
    assert text == "Stand-in reply to: hello there"
