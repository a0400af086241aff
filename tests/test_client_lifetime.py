"""Clients of an event loop that has ended are released: sockets and pool entries stay flat."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import pytest

from llmhub_runtime import LLMHub
from llmhub_runtime.testing import StandInServer

HubFactory = Callable[..., LLMHub]
HI = [{"role": "user", "content": "hello there"}]
# Each asyncio.run builds a client on a new loop (~3-10 ms a call); benchmarks/loops.py runs 1,000.


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize(("role", "runs"), [("llm.inference", 300), ("claude", 100)])
def test_asyncio_run_in_a_loop_keeps_sockets_and_pool_flat(
    make_hub: HubFactory, server: StandInServer, role: str, runs: int
) -> None:
    cfg = server.chat_config()
    cfg["roles"]["claude"] = {"provider": "standin-anthropic", "model": "claude-x", "mode": "chat"}
    hub = make_hub(cfg)
    asyncio.run(hub.acompletion(role, HI))  # imports and the first connection
    pool, fds = len(hub._clients), open_fds()  # type: ignore[attr-defined]
    for _ in range(runs):
        asyncio.run(hub.acompletion(role, HI))
    assert len(hub._clients) == pool == 0  # type: ignore[attr-defined]
    assert open_fds() <= fds


def test_a_loop_closed_without_shutdown_is_forgotten_on_the_next_lookup(make_hub: HubFactory) -> None:
    hub = make_hub()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(hub.acompletion("llm.inference", HI))
    loop.close()  # its tasks never cancelled: the clients could not be closed on it
    assert len(hub._clients) == 1  # type: ignore[attr-defined]
    asyncio.run(hub.acompletion("llm.inference", HI))
    assert len(hub._clients) == 0  # type: ignore[attr-defined]


async def test_a_running_loop_keeps_its_client(make_hub: HubFactory) -> None:
    hub = make_hub()
    await hub.acompletion("llm.inference", HI)
    [per_loop] = hub._clients._by_loop.values()  # type: ignore[attr-defined]
    [client] = per_loop.values()
    await asyncio.gather(*(hub.acompletion("llm.inference", HI) for _ in range(5)))
    [still] = hub._clients._by_loop.values()  # type: ignore[attr-defined]
    assert still is per_loop and list(still.values()) == [client]
    assert len(hub._clients) == 1  # type: ignore[attr-defined]
