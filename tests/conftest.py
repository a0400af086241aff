"""Shared fixtures: one stand-in server per session, a fresh hub per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from llmhub_runtime import CallEvent, LLMHub
from llmhub_runtime.testing import StandInServer
from llmhub_runtime.testing.timer import FakeTimer


@pytest.fixture(scope="session")
def server() -> Iterator[StandInServer]:
    with StandInServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_server(request: pytest.FixtureRequest) -> None:
    if "server" in request.fixturenames:
        server = request.getfixturevalue("server")
        if isinstance(server, StandInServer):
            server.reset()


class Recorder:
    """A hook that records every event (sync)."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []

    def on_start(self, event: CallEvent) -> None:
        self.events.append(event)

    def on_end(self, event: CallEvent) -> None:
        self.events.append(event)

    def on_error(self, event: CallEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def timer() -> FakeTimer:
    return FakeTimer()


@pytest.fixture
def make_hub(server: StandInServer, timer: FakeTimer) -> Iterator[Callable[..., LLMHub]]:
    hubs: list[LLMHub] = []

    def make(config: dict[str, Any] | None = None, **kwargs: Any) -> LLMHub:
        kwargs.setdefault("timer", timer)
        hub = LLMHub(config=config or server.chat_config(), **kwargs)
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.close()
