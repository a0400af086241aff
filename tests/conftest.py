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


TRANSPORTS = ["httpx", "aiohttp"]
"""The HTTP transports a ``both_transports`` test runs on (``transport: auto`` picks aiohttp when installed)."""

both_transports = pytest.mark.both_transports
"""On a test (or ``pytestmark`` of a module): run it once per transport if it uses ``make_hub`` or ``transport``."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("both_transports") and "transport" in metafunc.fixturenames:
        metafunc.parametrize("transport", TRANSPORTS, indirect=True)


@pytest.fixture
def transport(request: pytest.FixtureRequest) -> str | None:
    """The ``transport`` ``make_hub`` sets on every provider entry; ``None`` (unparametrized): the config's own."""
    return getattr(request, "param", None)


def with_transport(config: dict[str, Any], transport: str | None) -> dict[str, Any]:
    """``config`` with ``transport`` on every provider entry that does not set one."""
    if transport is None:
        return config
    providers = {name: {"transport": transport, **entry} for name, entry in config.get("providers", {}).items()}
    return {**config, "providers": providers}


@pytest.fixture
def make_hub(server: StandInServer, timer: FakeTimer, transport: str | None) -> Iterator[Callable[..., LLMHub]]:
    hubs: list[LLMHub] = []

    def make(config: dict[str, Any] | None = None, **kwargs: Any) -> LLMHub:
        kwargs.setdefault("timer", timer)
        hub = LLMHub(config=with_transport(config or server.chat_config(), transport), **kwargs)
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.close()
