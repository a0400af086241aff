"""One any-llm provider instance per (provider entry, credential, event loop), built lazily.

An async HTTP client is bound to the event loop that first used it, so async calls get an
instance per running loop (dropped with the loop). Sync calls go through any-llm's sync API,
which runs every call on any-llm's own long-lived runner loop, so they share one instance.
any-llm is imported here, on the first call, never at ``import llmhub_runtime``.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import threading
import weakref
from typing import TYPE_CHECKING, Any

from .errors import MissingCredentialError, UsageError

if TYPE_CHECKING:
    import asyncio

    from any_llm import AnyLLM

    from .models import Target

__all__ = ["NO_KEY", "ClientPool", "aiohttp_installed", "choose_transport", "read_credential"]

logger = logging.getLogger("llmhub_runtime")

NO_KEY = "llmhub-no-key"
"""Sent as the key to providers that need none, so no SDK falls back to its own env lookup."""

_Key = tuple[str, str, str | None, tuple[tuple[str, str], ...]]


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
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_Key, AnyLLM]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, target: Target, api_key: str, *, loop: asyncio.AbstractEventLoop | None) -> AnyLLM:
        """The instance for ``target`` and ``api_key`` on ``loop`` (``None``: the sync API)."""
        key: _Key = (
            target.provider,
            f"{target.kind}+{target.transport}",
            target.api_base,
            (("key", api_key), *sorted((k, repr(v)) for k, v in target.client_args.items())),
        )
        cache = self._sync if loop is None else self._by_loop.get(loop)
        client = cache.get(key) if cache is not None else None
        if client is not None:
            return client
        with self._lock:
            cache = self._sync if loop is None else self._by_loop.setdefault(loop, {})
            client = cache.get(key)
            if client is None:
                client = cache[key] = _create(target, api_key)
            return client

    def drain(self) -> list[tuple[asyncio.AbstractEventLoop | None, AnyLLM]]:
        """Forget every instance and return them with their loop (``None``: the sync API's), for closing."""
        with self._lock:
            clients: list[tuple[asyncio.AbstractEventLoop | None, AnyLLM]] = [(None, c) for c in self._sync.values()]
            for loop, per_loop in self._by_loop.items():
                clients.extend((loop, c) for c in per_loop.values())
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
    return "aiohttp", "auto: httpx-aiohttp is installed"


def aiohttp_installed() -> bool:
    """Whether the openai/anthropic SDKs' aiohttp transport can be imported (checked without importing it)."""
    return all(importlib.util.find_spec(name) is not None for name in ("httpx_aiohttp", "aiohttp"))


def _create(target: Target, api_key: str) -> AnyLLM:
    from any_llm import AnyLLM

    provider_class = AnyLLM.get_provider_class(target.kind)
    options: dict[str, Any] = dict(target.client_args)
    if getattr(provider_class, "MAX_RETRIES_SUPPORT", "unsupported") != "unsupported":
        options.setdefault("max_retries", 0)  # llmhub's attempts are the only ones
    transport, _ = choose_transport(target)
    if transport == "aiohttp":
        try:
            options["http_client"] = _aiohttp_client(provider_class, target)
        except UsageError:
            if target.transport == "aiohttp":
                raise
            logger.warning("llmhub: providers.%s: aiohttp transport unavailable; using httpx", target.provider,
                           exc_info=True)  # fmt: skip
    return AnyLLM.create(
        target.kind,
        api_key=api_key,
        api_base=target.api_base,
        unified_exceptions=True,
        **options,
    )


def _aiohttp_client(provider_class: type[AnyLLM], target: Target) -> Any:
    """The SDK's own aiohttp transport for an OpenAI- or Anthropic-style provider."""
    from any_llm.providers.anthropic.base import BaseAnthropicProvider
    from any_llm.providers.openai.base import BaseOpenAIProvider

    sdk_name = (
        "openai"
        if issubclass(provider_class, BaseOpenAIProvider)
        else "anthropic"
        if issubclass(provider_class, BaseAnthropicProvider)
        else None
    )
    if sdk_name is None:
        raise UsageError(
            f"providers.{target.provider}.transport: aiohttp works for OpenAI- and Anthropic-style providers, "
            f"not {target.kind!r}; remove 'transport: aiohttp'."
        )
    try:
        from .aiohttp_transport import aiohttp_client

        return aiohttp_client(sdk_name)
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
