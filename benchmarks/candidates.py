"""The things being compared, each built once and reused (as an application would hold them).

Every candidate sends the same request to the same loopback server: model ``MODEL``, messages
``MESSAGES``, no extra params, SDK retries off where the library exposes them. Optional
libraries (litellm, the adapters) come back as ``None`` with the reason, and print as "n/a".
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "AIOHTTP",
    "AIOHTTP_100",
    "EMBED_MODEL",
    "KEY",
    "MESSAGES",
    "MODEL",
    "NO_AIOHTTP",
    "PROMPT",
    "PROPOSAL",
    "TEXTS",
    "aclose_native_clients",
    "aiohttp_client",
    "anyllm_close",
    "close_thread_loop",
    "default_transport",
    "has_transport_setting",
    "hub_config",
    "iter_on_thread_loop",
    "make_hub",
    "on_thread_loop",
    "optional",
    "reset_loop_bound_caches",
    "setup_paths",
]

ROOT = Path(__file__).resolve().parent.parent
EXTRA_PATHS = (ROOT, ROOT / "integrations" / "langchain", ROOT / "integrations" / "llamaindex")

MODEL = "gpt-4o-mini"
"""A name LlamaIndex's and litellm's OpenAI classes accept; the server answers any name."""
EMBED_MODEL = "text-embedding-3-small"
KEY = "sk-bench-not-a-key"
PROMPT = "Say hello in five words."
MESSAGES: list[Any] = [{"role": "user", "content": PROMPT}]
TEXTS: list[str] = [f"benchmark input number {i}" for i in range(256)]


def setup_paths() -> None:
    """Make the repo and the two adapter packages importable; keep litellm offline and quiet."""
    for path in reversed(EXTRA_PATHS):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [*(str(p) for p in EXTRA_PATHS), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no download of the price map
    os.environ.setdefault("LITELLM_LOG", "ERROR")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        os.environ.pop(name, None)


def optional(module: str) -> tuple[Any, str]:
    """Import ``module`` or return ``(None, reason)``."""
    try:
        return importlib.import_module(module), ""
    except Exception as exc:  # ImportError, or an adapter still being written that fails on import
        return None, f"{type(exc).__name__}: {exc}".splitlines()[0][:120]


def reset_loop_bound_caches() -> None:
    """Forget HTTP clients that libraries cache process-wide but that are bound to one event loop.

    langchain-openai caches its default async httpx client per (base_url, timeout); a ChatOpenAI
    built in a later ``asyncio.run`` would get the client of a closed loop.
    """
    utils, _ = optional("langchain_openai.chat_models._client_utils")
    cached = getattr(utils, "_cached_async_httpx_client", None)
    if cached is not None and hasattr(cached, "cache_clear"):
        cached.cache_clear()


def anyllm_close(instance: Any) -> Callable[[], Coroutine[Any, Any, Any]]:
    """The close coroutine function of the async SDK client inside an any-llm provider instance."""
    close: Callable[[], Coroutine[Any, Any, Any]] = instance.client.close
    return close


async def aclose_native_clients(models: list[Any]) -> None:
    """Close the async openai clients held by LangChain ``ChatOpenAI`` / LlamaIndex ``OpenAI`` objects.

    Both keep their async client past the event loop that used it; when it is garbage-collected
    later, openai's client schedules its close on whatever loop then runs and fails noisily.
    """
    for model in models:
        for attr in ("root_async_client", "_aclient"):
            client = getattr(model, attr, None)
            if client is not None and hasattr(client, "close"):
                await client.close()


def hub_config(
    base: str, *, extra_roles: int = 0, client_args: dict[str, Any] | None = None, transport: str | None = None
) -> dict[str, Any]:
    """The hub config: a chat role, an embedding role, a role with retries + 2 fallbacks configured."""
    roles: dict[str, Any] = {
        "llm.inference": {"provider": "bench", "model": MODEL, "mode": "chat"},
        "llm.embedding": {"provider": "bench", "model": EMBED_MODEL, "mode": "embedding"},
        "llm.reliable": {
            "provider": "bench",
            "model": MODEL,
            "mode": "chat",
            "retry": {"max_attempts": 3, "backoff": 0.5},
            "fallbacks": [{"provider": "bench", "model": "gpt-4o-mini-fallback"}, {"role": "llm.inference"}],
        },
    }
    for i in range(extra_roles):
        mode = "embedding" if i % 5 == 4 else "chat"
        roles[f"role.{i:03d}"] = {
            "provider": "bench",
            "model": f"{EMBED_MODEL if mode == 'embedding' else MODEL}-{i}",
            "mode": mode,
            "description": f"benchmark role {i}",
            **({"params": {"temperature": 0.2, "max_tokens": 64}} if mode == "chat" else {}),
        }
    provider: dict[str, Any] = {"kind": "openai", "api_base": base, "env_key": None}
    if client_args:
        provider["client_args"] = client_args
    if transport:
        provider["transport"] = transport
    return {"providers": {"bench": provider}, "roles": roles}


AIOHTTP = "llmhub hub, transport: httpx (opt-out)"
"""The hub with ``transport: httpx`` on its provider: the transport every hub used before
``transport: auto`` made aiohttp the default (the name is kept for the report's code paths:
it is the *other* transport's row)."""


AIOHTTP_100 = "llmhub hub, aiohttp pool of 100"


def aiohttp_client(max_connections: int | None = None) -> Any | None:
    """llmhub's aiohttp client for openai (the SDK's ``DefaultAioHttpClient`` with httpx's error classes).

    ``max_connections`` replaces the SDK's default pool limit (1000), keep-alive included. None
    without httpx-aiohttp.
    """
    if optional("httpx_aiohttp")[0] is None:
        return None
    import httpx

    from llmhub_runtime.aiohttp_transport import aiohttp_client as llmhub_aiohttp_client

    client = llmhub_aiohttp_client("openai")
    if max_connections is None:
        return client
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return type(client)(limits=limits)


def default_transport() -> str:
    """What ``transport: auto`` picks for the bench provider here (``aiohttp`` or ``httpx``)."""
    from llmhub_runtime.clients import aiohttp_installed

    return "aiohttp" if aiohttp_installed() else "httpx"


def make_hub(base: str, *, transport: str | None = None, max_connections: int | None = None, **kwargs: Any) -> Any:
    """A hub on the bench server: the default transport, or ``transport`` pinned on its provider.

    A pool limit goes through ``client_args: {http_client: ...}`` (aiohttp), whose client is made
    now, so build such a hub for async use inside the loop that will use it. Returns None when a
    pool limit is asked for but httpx-aiohttp is missing.
    """
    from llmhub_runtime import LLMHub

    client_args = None
    if max_connections is not None:
        client = aiohttp_client(max_connections)
        if client is None:
            return None
        client_args = {"http_client": client}
    return LLMHub(config=hub_config(base, client_args=client_args, transport=transport), **kwargs)


def has_transport_setting() -> bool:
    """Whether this llmhub has the provider setting ``transport``."""
    from llmhub_runtime import ProviderConfig

    return "transport" in ProviderConfig.model_fields


# --- the proposed sync path: the async API on a loop owned by the calling thread -------------------

_LOCAL = threading.local()
PROPOSAL = "proposal: hub.acompletion on a per-thread loop"
"""What a sync hub call would cost without the hop to any-llm's runner thread (see README)."""


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop: asyncio.AbstractEventLoop | None = getattr(_LOCAL, "loop", None)
    if loop is None or loop.is_closed():
        loop = _LOCAL.loop = asyncio.new_event_loop()
    return loop


def on_thread_loop(awaitable: Awaitable[Any]) -> Any:
    """Run ``awaitable`` to completion on this thread's own event loop, in this thread."""
    return _thread_loop().run_until_complete(awaitable)


def iter_on_thread_loop(source: Awaitable[AsyncIterator[Any]]) -> Iterator[Any]:
    """A sync iterator over the async iterator ``source`` resolves to, driven on this thread's loop."""
    loop = _thread_loop()
    stream = loop.run_until_complete(source)
    done = False
    try:
        while True:
            try:
                yield loop.run_until_complete(anext(stream))
            except StopAsyncIteration:
                done = True
                return
    finally:
        close = getattr(stream, "aclose", None)
        if not done and close is not None:
            loop.run_until_complete(close())


def close_thread_loop() -> None:
    loop: asyncio.AbstractEventLoop | None = getattr(_LOCAL, "loop", None)
    if loop is not None and not loop.is_closed():
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


# --- the chat candidates ------------------------------------------------------------------------

NO_AIOHTTP = "n/a (pip install httpx-aiohttp to measure it)"
QUICK_SKIP = "skipped in --quick (its import alone takes seconds)"


def chat_content(response: Any) -> str:
    """The reply text of a ChatCompletion-shaped answer (for the sanity check)."""
    return str(response.choices[0].message.content)


def sync_chat(
    base: str, hub: Any, aio_hub: Any, *, quick: bool = False
) -> tuple[dict[str, Callable[[], Any]], dict[str, str], list[Callable[[], Any]]]:
    """Name -> zero-argument call, name -> why it is missing, and closers for the clients made here."""
    import openai
    from any_llm import AnyLLM
    from any_llm.utils.aio import run_async_in_sync

    raw = openai.OpenAI(api_key=KEY, base_url=base, max_retries=0)
    araw = openai.AsyncOpenAI(api_key=KEY, base_url=base, max_retries=0)
    instance = AnyLLM.create("openai", api_key=KEY, api_base=base)
    calls: dict[str, Callable[[], Any]] = {
        "raw openai.OpenAI (reused)": lambda: raw.chat.completions.create(model=MODEL, messages=MESSAGES),
        "llmhub hub.completion": lambda: hub.completion("llm.inference", MESSAGES),
        "any-llm AnyLLM instance .completion": lambda: instance.completion(model=MODEL, messages=MESSAGES),
        "any_llm.completion (top-level)": lambda: _any_llm_top(base),
        "ref: AsyncOpenAI via any-llm sync runner": lambda: run_async_in_sync(
            araw.chat.completions.create(model=MODEL, messages=MESSAGES)
        ),
        PROPOSAL: lambda: on_thread_loop(hub.acompletion("llm.inference", MESSAGES)),
    }
    missing: dict[str, str] = {}
    if aio_hub is not None:
        calls[AIOHTTP] = lambda: aio_hub.completion("llm.inference", MESSAGES)
    else:
        missing[AIOHTTP] = NO_AIOHTTP
    litellm, why = (None, QUICK_SKIP) if quick else load_litellm()
    if litellm is not None:
        calls["litellm.completion"] = lambda: litellm.completion(
            model=f"openai/{MODEL}", messages=MESSAGES, api_base=base, api_key=KEY
        )
    else:
        missing["litellm.completion"] = why
    closers: list[Callable[[], Any]] = [
        raw.close,
        lambda: run_async_in_sync(araw.close()),
        lambda: run_async_in_sync(anyllm_close(instance)()),
    ]
    return calls, missing, closers


def _any_llm_top(base: str) -> Any:
    import any_llm

    return any_llm.completion(model=MODEL, provider="openai", messages=MESSAGES, api_key=KEY, api_base=base)


def load_litellm() -> tuple[Any | None, str]:
    litellm, why = optional("litellm")
    if litellm is not None:
        litellm.telemetry = False
        litellm.suppress_debug_info = True
    return litellm, why


def async_chat(
    base: str, hub: Any, aio_hub: Any, aio_hub_100: Any = None, *, quick: bool = False
) -> tuple[dict[str, Callable[[], Any]], dict[str, str], list[Callable[[], Awaitable[Any]]]]:
    """Coroutine-function candidates (build them inside the loop that will use them), and async closers."""
    import openai
    from any_llm import AnyLLM

    raw = openai.AsyncOpenAI(api_key=KEY, base_url=base, max_retries=0)
    instance = AnyLLM.create("openai", api_key=KEY, api_base=base)
    calls: dict[str, Callable[[], Any]] = {
        "raw openai.AsyncOpenAI (reused)": lambda: raw.chat.completions.create(model=MODEL, messages=MESSAGES),
        "llmhub hub.acompletion": lambda: hub.acompletion("llm.inference", MESSAGES),
        "any-llm AnyLLM instance .acompletion": lambda: instance.acompletion(model=MODEL, messages=MESSAGES),
    }
    missing: dict[str, str] = {}
    if aio_hub is not None:
        calls[AIOHTTP] = lambda: aio_hub.acompletion("llm.inference", MESSAGES)
    else:
        missing[AIOHTTP] = NO_AIOHTTP
    if aio_hub_100 is not None:
        calls[AIOHTTP_100] = lambda: aio_hub_100.acompletion("llm.inference", MESSAGES)
    litellm, why = (None, QUICK_SKIP) if quick else load_litellm()
    if litellm is not None:
        calls["litellm.acompletion"] = lambda: litellm.acompletion(
            model=f"openai/{MODEL}", messages=MESSAGES, api_base=base, api_key=KEY
        )
    else:
        missing["litellm.acompletion"] = why
    return calls, missing, [raw.close, anyllm_close(instance)]
