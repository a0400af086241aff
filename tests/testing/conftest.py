"""SDK clients pointed at the session's stand-in server, with retries off.

With the ``transport`` fixture parametrized (``both_transports``), ``oai`` and ``claude`` are, for
``aiohttp``, the SDKs' *async* clients on llmhub's aiohttp transport, driven from sync code by
``SyncDriver`` on a private event loop (as any-llm's sync API drives them): the same calls, the
same SDK exception classes.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anthropic
import openai
import pytest

from llmhub_runtime.testing import StandInServer


class SyncDriver:
    """Sync access to an async SDK client: awaits what its calls return, iterates its async streams."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target, self._loop = target, loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if callable(value) and not isinstance(value, type):
            return lambda *args, **kwargs: self._settle(value(*args, **kwargs))
        return (
            SyncDriver(value, self._loop) if type(value).__module__.split(".")[0] in {"openai", "anthropic"} else value
        )

    def _settle(self, result: Any) -> Any:
        if inspect.isawaitable(result):
            result = self._loop.run_until_complete(result)
        if hasattr(result, "__aiter__"):
            return self._iterate(result)
        return result

    def _iterate(self, stream: Any) -> Iterator[Any]:
        iterator = stream.__aiter__()
        while True:
            try:
                yield self._loop.run_until_complete(iterator.__anext__())
            except StopAsyncIteration:
                return


def _driven(client: Any) -> Iterator[Any]:
    from llmhub_runtime.aiohttp_transport import aiohttp_client

    loop = asyncio.new_event_loop()
    sdk = type(client).__module__.split(".")[0]
    try:
        async_client = loop.run_until_complete(_build(client, aiohttp_client(sdk)))
        yield SyncDriver(async_client, loop)
        loop.run_until_complete(async_client.close())
    finally:
        loop.close()


async def _build(client: Any, http_client: Any) -> Any:
    kind = openai.AsyncOpenAI if isinstance(client, openai.OpenAI) else anthropic.AsyncAnthropic
    return kind(api_key=client.api_key, base_url=client.base_url, max_retries=0, timeout=10, http_client=http_client)


@pytest.fixture
def oai(server: StandInServer, transport: str | None) -> Iterator[Any]:
    with openai.OpenAI(api_key="sk-test", base_url=server.openai_base, max_retries=0, timeout=10) as client:
        if transport == "aiohttp":
            yield from _driven(client)
        else:
            yield client


@pytest.fixture
async def aoai(server: StandInServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(api_key="sk-test", base_url=server.openai_base, max_retries=0, timeout=10) as client:
        yield client


@pytest.fixture
def claude(server: StandInServer, transport: str | None) -> Iterator[Any]:
    with anthropic.Anthropic(
        api_key="sk-ant-test", base_url=server.anthropic_base, max_retries=0, timeout=10
    ) as client:
        if transport == "aiohttp":
            yield from _driven(client)
        else:
            yield client
