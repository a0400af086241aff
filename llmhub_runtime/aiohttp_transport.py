"""The openai/anthropic SDKs' aiohttp client, raising the httpx exception classes httpx itself would.

httpx-aiohttp turns every aiohttp connection error that is not a timeout (connection refused,
server disconnected, connection reset) into ``httpx.ConnectTimeout``, so the SDKs, any-llm and
llmhub would report a refused connection as a timeout. ``ExactErrors`` wraps its transport and
raises what httpx's own transport raises instead: ``ConnectError`` when connecting fails,
``RemoteProtocolError`` when the server closes the connection without an answer or in the middle
of a body (httpx-aiohttp says ``ReadError`` there), ``ReadError`` on a reset. Timeouts stay
timeouts. So ``transport: aiohttp`` and ``transport: httpx`` give the same llmhub errors
(``tests/test_reliability.py`` runs on both).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx

__all__ = ["ExactErrors", "aiohttp_client"]


def aiohttp_client(sdk_name: str, **kwargs: Any) -> httpx.AsyncClient:
    """``<sdk>.DefaultAioHttpClient(**kwargs)`` (the SDK's defaults: limits, timeout) with ``ExactErrors`` inside.

    ``RuntimeError`` when the SDK is not built on httpx (openai 3.x is on httpx2): httpx-aiohttp's
    transport answers httpx requests only, and such a client fails on its first request.
    """
    module = importlib.import_module(sdk_name)
    if not issubclass(module.DefaultAsyncHttpxClient, httpx.AsyncClient):
        base = module.DefaultAsyncHttpxClient.__mro__[1]
        raise RuntimeError(f"the {sdk_name} SDK's client is a {base.__module__}.{base.__qualname__}, not httpx's")
    return _client_class(module.DefaultAioHttpClient)(**kwargs)


@functools.cache
def _client_class(base: type[httpx.AsyncClient]) -> type[httpx.AsyncClient]:
    class LLMHubAioHttpClient(base):  # type: ignore[valid-type,misc]
        def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
            return ExactErrors(super()._init_transport(*args, **kwargs))

        def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
            return ExactErrors(super()._init_proxy_transport(*args, **kwargs))

    LLMHubAioHttpClient.__qualname__ = f"LLMHubAioHttpClient[{base.__module__}]"
    return LLMHubAioHttpClient


class ExactErrors(httpx.AsyncBaseTransport):
    """An httpx-aiohttp transport whose connection failures raise httpx's own exception classes."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TimeoutException as exc:
            error, cause = _exact(exc, request), exc.__cause__
            if error is exc:
                raise
        else:
            response.stream = _ExactStream(response.stream, request)
            return response
        raise error from cause  # outside the handler: the misnamed timeout is not kept as the context

    async def aclose(self) -> None:
        await self.inner.aclose()


class _ExactStream(httpx.AsyncByteStream):
    def __init__(self, inner: Any, request: httpx.Request) -> None:
        self.inner = inner
        self.request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.inner:
                yield chunk
            return
        except httpx.TimeoutException as exc:
            error, cause = _exact(exc, self.request), exc.__cause__
            if error is exc:
                raise
        except httpx.ReadError as exc:
            if not isinstance(exc.__cause__, aiohttp.ClientPayloadError):
                raise
            error, cause = httpx.RemoteProtocolError(str(exc), request=self.request), exc.__cause__  # body ended early
        raise error from cause  # outside the handler, as above

    async def aclose(self) -> None:
        await self.inner.aclose()


def _exact(exc: httpx.TimeoutException, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception for the aiohttp error behind ``exc`` (``exc`` itself for a real timeout)."""
    cause = exc.__cause__
    if not isinstance(cause, aiohttp.ClientConnectionError) or isinstance(cause, aiohttp.ServerTimeoutError):
        return exc
    kind: type[httpx.TransportError]
    if isinstance(cause, aiohttp.ClientConnectorError):
        kind = httpx.ConnectError
    elif isinstance(cause, aiohttp.ServerDisconnectedError):
        kind = httpx.RemoteProtocolError
    else:
        kind = httpx.ReadError
    return kind(str(exc) or type(cause).__name__, request=request)
