"""One any-llm provider instance per (provider entry, credential, event loop), built lazily.

An async HTTP client is bound to the event loop that first used it, so async calls get an
instance per running loop. Sync calls go through any-llm's sync API, which runs every call on
any-llm's own long-lived runner loop, so they share one instance.

A loop's clients are released with the loop: the pool parks a small "reaper" task on each loop it
serves, and ``asyncio.run`` (or any ``asyncio.Runner``) cancels it on the way out, which closes
that loop's clients on the loop itself; clients of a loop closed some other way are dropped on the
next lookup. So ``asyncio.run(hub.acompletion(...))`` in a loop keeps sockets and memory flat.
any-llm is imported here, on the first call, never at ``import llmhub_runtime``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import inspect
import logging
import os
import ssl
import threading
import weakref
from typing import TYPE_CHECKING, Any

from .errors import MissingCredentialError, UsageError

if TYPE_CHECKING:
    from any_llm import AnyLLM

    from .models import Target

__all__ = ["NO_KEY", "ClientPool", "aiohttp_installed", "choose_transport", "read_credential"]


NO_KEY = "llmhub-no-key"
"""Sent as the key to providers that need none, so no SDK falls back to its own env lookup."""

_Key = tuple[str, str, str | None, tuple[tuple[str, str], ...]]
logger = logging.getLogger("llmhub_runtime")


class _LoopClients(dict[_Key, "AnyLLM"]):
    """The clients of one event loop, and the task that closes them when the loop shuts down."""

    reaper: asyncio.Task[None] | None = None


def read_credential(target: Target, role: str | None = None) -> str:
    """The API key for ``target`` from its ``env_key``, read now; ``MissingCredentialError`` if unset."""
    if target.env_key is None:
        return NO_KEY
    value = os.environ.get(target.env_key, "").strip()
    if not value:
        raise MissingCredentialError(target.env_key, target.provider, role)
    return value


class ClientPool:
    """Thread-safe cache of any-llm provider instances."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sync: dict[_Key, AnyLLM] = {}
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients] = weakref.WeakKeyDictionary()

    def __len__(self) -> int:
        """How many instances the pool holds (every loop's, and the sync API's)."""
        with self._lock:
            return len(self._sync) + sum(len(entry) for entry in self._by_loop.values())

    def get(self, target: Target, api_key: str, *, loop: asyncio.AbstractEventLoop | None) -> AnyLLM:
        """The instance for ``target`` and ``api_key`` on ``loop`` (``None``: the sync API)."""
        key: _Key = (
            target.provider,
            f"{target.kind}+{target.transport}",
            target.api_base,
            (("key", api_key), *sorted((k, repr(v)) for k, v in target.client_args.items())),
        )
        if loop is None:
            client = self._sync.get(key)
        else:
            entry = self._by_loop.get(loop)
            client = entry.get(key) if entry is not None else None
        if client is not None:
            return client
        with self._lock:
            if loop is None:
                cache = self._sync
            else:
                self._forget_closed_loops()
                cache = self._loop_entry(loop)
            client = cache.get(key)
            if client is None:
                client = cache[key] = _create(target, api_key)
            return client

    def _loop_entry(self, loop: asyncio.AbstractEventLoop) -> _LoopClients:
        entry = self._by_loop.get(loop)
        if entry is None:
            entry = self._by_loop[loop] = _LoopClients()
            entry.reaper = loop.create_task(self._reap(loop), name="llmhub-client-reaper")
            entry.reaper._log_destroy_pending = False  # type: ignore[attr-defined]  # a loop closed uncancelled
        return entry

    async def _reap(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait until the loop shuts down (cancelling every task), then close its clients on it."""
        with contextlib.suppress(asyncio.CancelledError):
            await loop.create_future()
        with self._lock:
            entry = self._by_loop.pop(loop, None)
        for client in entry.values() if entry is not None else ():
            try:
                await asyncio.wait_for(close_client(client), timeout=5)
            except Exception:
                logger.debug("llmhub: could not close a client", exc_info=True)

    def _forget_closed_loops(self) -> None:
        """Drop the clients of loops closed without shutting down their tasks (nothing can close them now)."""
        for loop in [loop for loop in self._by_loop if loop.is_closed()]:
            self._by_loop.pop(loop, None)

    def drain(self) -> list[tuple[asyncio.AbstractEventLoop | None, AnyLLM]]:
        """Forget every instance and return them with their loop (``None``: the sync API's), for closing."""
        with self._lock:
            clients: list[tuple[asyncio.AbstractEventLoop | None, AnyLLM]] = [(None, c) for c in self._sync.values()]
            for loop, entry in self._by_loop.items():
                clients.extend((loop, c) for c in entry.values())
            self._sync.clear()
            self._by_loop = weakref.WeakKeyDictionary()
        return clients


def choose_transport(target: Target) -> tuple[str, str]:
    """The HTTP transport ``target``'s client will use, and why (what ``llmhub explain`` shows).

    ``transport: auto`` (the default) picks aiohttp for OpenAI- and Anthropic-style providers when
    httpx-aiohttp is installed, else httpx; other providers keep their SDK's own client. Decided
    without importing any SDK. The transport is one of ``aiohttp``, ``httpx``, ``sdk`` (the
    provider SDK's own) and ``client_args`` (an ``http_client`` given there).
    """
    if "http_client" in target.client_args:
        return "client_args", f"providers.{target.provider}.client_args.http_client"
    if target.transport != "auto":
        return target.transport, f"providers.{target.provider}.transport"
    from .providers import sdk_family

    family = sdk_family(target.kind)
    if family is None:
        return "sdk", f"auto: {target.kind!r} is not an OpenAI- or Anthropic-style provider"
    if not aiohttp_installed():
        return "httpx", "auto: httpx-aiohttp is not installed (pip install 'llmhub-runtime[aiohttp]')"
    if target.api_base and "@" in target.api_base.split("://", 1)[-1].split("/", 1)[0]:
        return "httpx", "auto: api_base has credentials in it, which aiohttp refuses beside the SDK's auth header"
    if not sdk_on_httpx(family):
        return "httpx", f"auto: the installed {family} SDK is not built on httpx, which httpx-aiohttp serves"
    return "aiohttp", "auto: httpx-aiohttp is installed"


@functools.cache
def sdk_on_httpx(sdk_name: str) -> bool:
    """Whether the ``openai``/``anthropic`` SDK's async client is an ``httpx.AsyncClient`` (openai 3.x is on httpx2)."""
    try:
        import importlib

        import httpx

        return issubclass(importlib.import_module(sdk_name).DefaultAsyncHttpxClient, httpx.AsyncClient)
    except (ImportError, AttributeError, TypeError):
        return False


def aiohttp_installed() -> bool:
    """Whether the openai/anthropic SDKs' aiohttp transport can be imported (checked without importing it)."""
    return all(importlib.util.find_spec(name) is not None for name in ("httpx_aiohttp", "aiohttp"))


def _create(target: Target, api_key: str) -> AnyLLM:
    from any_llm import AnyLLM

    provider_class = AnyLLM.get_provider_class(target.kind)
    options: dict[str, Any] = dict(target.client_args)
    if getattr(provider_class, "MAX_RETRIES_SUPPORT", "unsupported") != "unsupported":
        options.setdefault("max_retries", 0)  # llmhub's attempts are the only ones
    if "http_client" not in options:
        http_client = None
        if choose_transport(target)[0] == "aiohttp":
            try:
                http_client = _aiohttp_client(provider_class, target)
            except UsageError:
                if target.transport == "aiohttp":
                    raise
                logger.warning("llmhub: providers.%s: aiohttp transport unavailable; using httpx", target.provider,
                               exc_info=True)  # fmt: skip
        if http_client is None:
            http_client = _httpx_client(provider_class, target)
        if http_client is not None:
            options["http_client"] = http_client
    client = AnyLLM.create(
        target.kind,
        api_key=api_key,
        api_base=target.api_base,
        unified_exceptions=True,
        **options,
    )
    _warm(client)
    return client


def _warm(client: AnyLLM) -> None:
    """Import now what the SDK would import on its first request (hundreds of modules: its
    resources, anyio's backend), so that no attempt's ``timeout`` pays for it."""
    import importlib

    inner = getattr(client, "client", None)
    for resource in ("chat", "messages"):  # openai's and anthropic's lazily imported resources
        with contextlib.suppress(Exception):
            getattr(inner, resource, None)
    with contextlib.suppress(ImportError):
        importlib.import_module("anyio._backends._asyncio")


def _sdk_name(provider_class: type[AnyLLM]) -> str | None:
    """``openai`` or ``anthropic`` for a provider built on that SDK, else ``None``."""
    from any_llm.providers.anthropic.base import BaseAnthropicProvider
    from any_llm.providers.openai.base import BaseOpenAIProvider

    if issubclass(provider_class, BaseOpenAIProvider):
        return "openai"
    return "anthropic" if issubclass(provider_class, BaseAnthropicProvider) else None


def _httpx_client(provider_class: type[AnyLLM], target: Target) -> Any:
    """The SDK's default async httpx client, sharing one TLS context (building one reads the CA bundle:
    ~0.1 s, paid by every event loop's client otherwise). ``None``: let the SDK build its own."""
    from any_llm.providers.anthropic.anthropic import AnthropicProvider
    from any_llm.providers.openai.base import BaseOpenAIProvider

    sdk_name = _sdk_name(provider_class)
    stock = provider_class._init_client in (BaseOpenAIProvider._init_client, AnthropicProvider._init_client)
    context = _tls_context() if sdk_name is not None and stock else None  # others build their clients their way
    if sdk_name is None or context is None:
        return None
    import importlib

    return importlib.import_module(sdk_name).DefaultAsyncHttpxClient(verify=context)


@functools.cache
def _tls_context() -> ssl.SSLContext | None:
    try:
        import httpx
    except ImportError:  # an SDK on another HTTP library: it builds its own
        return None
    return httpx.create_ssl_context()


def _aiohttp_client(provider_class: type[AnyLLM], target: Target) -> Any:
    """The SDK's own aiohttp transport for an OpenAI- or Anthropic-style provider."""
    sdk_name = _sdk_name(provider_class)
    if sdk_name is None:
        raise UsageError(
            f"providers.{target.provider}.transport: aiohttp works for OpenAI- and Anthropic-style providers, "
            f"not {target.kind!r}; remove 'transport: aiohttp'."
        )
    try:
        from .aiohttp_transport import aiohttp_client

        context = _tls_context()  # shared, as for httpx: building one reads the CA bundle
        return aiohttp_client(sdk_name, **({"verify": context} if context is not None else {}))
    except (ImportError, AttributeError, RuntimeError) as exc:
        raise UsageError(
            f"providers.{target.provider}.transport is aiohttp, but it is not available ({exc}). "
            "Install it with: pip install 'llmhub-runtime[aiohttp]'"
        ) from None


async def close_client(client: AnyLLM) -> None:
    """Close the HTTP client behind an any-llm instance, if it has one."""
    inner = getattr(client, "client", None)
    close = getattr(inner, "close", None) or getattr(inner, "aclose", None)
    if close is None:
        return
    result = close()
    if inspect.isawaitable(result):
        await result
