"""``ResponseCache``: the hub's response cache, in front of the planner.

For a role with ``cache:`` (or ``defaults.cache``) a chat call is looked up by its key
(``keys.request_key``) before any attempt. A hit returns the stored answer (replayed as chunks when
the caller streams) and reaches hooks and ``hub.usage()`` as a call with ``cache="hit"``, attempt 0
and 0 tokens. A miss runs the ordinary plan, marked ``cache="miss"``; its answer is stored once
complete (a stream only when it finished: never an interrupted or abandoned one). Embeddings are
cached per input text, so only the new texts of a batch are sent.

Identical concurrent misses call the model once (single flight): in-process always, and across
processes when the backend is Redis (a claim with a deadline; the others poll for the answer).

Per call, ``cache=False`` bypasses the cache (no read, no write), ``cache="refresh"`` skips the read
and stores the new answer, ``cache=True`` caches even a role without ``cache:`` (in memory).
A store that fails never fails the call: it is logged (once a minute), counted, and the model is
called.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..errors import InvalidInputError
from ..hooks import Usage
from ..models import RuntimeConfig
from ..retry import Attempt, CallPlan, Timer
from .config import CacheConfig
from .keys import item_key, request_key
from .redis_store import RedisStore, StoreUnavailableError
from .replay import assemble, replay
from .stores import CacheStore, MemoryStore, SQLiteStore

if TYPE_CHECKING:
    from ..hub import LLMHub

__all__ = ["CacheFlag", "CacheStats", "ResponseCache", "store_for"]

logger = logging.getLogger("llmhub_runtime")
T = TypeVar("T")
CacheFlag = bool | Literal["refresh"] | None
_SAMPLING_DEFAULT = {"temperature": 0.0, "top_p": 1.0}


@dataclass(frozen=True)
class CacheStats:
    """This process's cache counters for one role (``hub.cache_stats()``)."""

    hits: int = 0
    misses: int = 0
    bypassed: int = 0
    stored: int = 0
    store_errors: int = 0


@dataclass
class _Counters:
    hits: int = 0
    misses: int = 0
    bypassed: int = 0
    stored: int = 0
    store_errors: int = 0


def store_for(config: CacheConfig) -> CacheStore:
    """A new store for ``config``'s backend."""
    if config.backend == "sqlite":
        return SQLiteStore(config.path or ".llmhub-cache.sqlite")
    if config.backend == "redis":
        return RedisStore(config.url)
    return MemoryStore(config.max_entries)


def _store_id(config: CacheConfig) -> tuple[str, str | int | None]:
    if config.backend == "sqlite":
        return ("sqlite", config.path or ".llmhub-cache.sqlite")
    if config.backend == "redis":
        return ("redis", config.url)
    return ("memory", config.max_entries)


def _flag(value: Any) -> CacheFlag:
    if value is None or isinstance(value, bool) or value == "refresh":
        return value  # type: ignore[no-any-return]
    raise InvalidInputError(f"cache= takes True, False or 'refresh', not {value!r}.")


class _Flight:
    """One in-process computation of a key that identical concurrent calls wait for."""

    def __init__(self) -> None:
        self.future: Future[bytes | None] = Future()
        self.owner = _owner()


def _owner() -> tuple[int, int]:
    """The thread and asyncio task making a call: a call never waits for a flight it leads itself."""
    try:
        task = id(asyncio.current_task())
    except RuntimeError:
        task = 0
    return threading.get_ident(), task


class ResponseCache:
    """The cache of one hub: its roles' policies, their stores, single flight and counters."""

    def __init__(self, config: RuntimeConfig, timer: Timer) -> None:
        self._timer = timer
        self._default = config.defaults.cache
        self._roles: dict[str, CacheConfig | None] = {
            name: role.cache or self._default for name, role in config.roles.items()
        }
        self._stores: dict[tuple[str, str | int | None], CacheStore] = {}
        self._counters: dict[str, _Counters] = {}
        self._flights: dict[str, _Flight] = {}
        self._lock = threading.Lock()
        self._warned_at = float("-inf")

    # --- policy ----------------------------------------------------------------------------

    def policy(self, role: str, flag: Any) -> tuple[CacheConfig, bool] | None:
        """The role's cache config and whether to read it, or ``None`` when the call bypasses the cache."""
        wanted = _flag(flag)
        if wanted is False:
            if self._roles.get(role, self._default) is not None:
                self._count(role, "bypassed")
            return None
        config = self._roles.get(role, self._default)
        if config is None:
            if wanted is None:
                return None
            config = CacheConfig()
        return config, wanted != "refresh"

    def _sampled_bypass(self, config: CacheConfig, plan: CallPlan, layers: Sequence[Mapping[str, Any] | None]) -> bool:
        if config.sampled:
            return False
        params = dict(plan.call.primary.params)
        for layer in layers:
            params.update(layer or {})
        return any(
            params.get(name) is not None and params[name] != neutral for name, neutral in _SAMPLING_DEFAULT.items()
        )

    def stats(self) -> dict[str, CacheStats]:
        """Counters per role since the hub was built."""
        with self._lock:
            return {role: CacheStats(**vars(c)) for role, c in self._counters.items()}

    def store(self, config: CacheConfig) -> CacheStore:
        """The (shared) store of ``config``'s backend, made on first use."""
        ident = _store_id(config)
        store = self._stores.get(ident)
        if store is None:
            with self._lock:
                store = self._stores.get(ident)
                if store is None:
                    store = self._stores[ident] = store_for(config)
        return store

    def close(self) -> None:
        """Close every store this hub opened."""
        with self._lock:
            stores, self._stores = list(self._stores.values()), {}
        for store in stores:
            store.close()

    def _count(self, role: str, what: str, n: int = 1) -> None:
        with self._lock:
            counters = self._counters.setdefault(role, _Counters())
            setattr(counters, what, getattr(counters, what) + n)

    def _store_failed(self, role: str, exc: Exception) -> None:
        self._count(role, "store_errors")
        now = time.monotonic()
        if now - self._warned_at >= 60:
            self._warned_at = now
            logger.warning("llmhub: role %r: response cache unavailable (%s); calling the model", role, exc)

    # --- store access (never raises) --------------------------------------------------------

    def _get(self, role: str, store: CacheStore, keys: Sequence[str]) -> list[bytes | None]:
        try:
            return store.get_many(keys)
        except Exception as exc:  # a cache never fails a call
            self._store_failed(role, exc)
            return [None] * len(keys)

    def _set(self, role: str, store: CacheStore, items: Sequence[tuple[str, bytes]], ttl: float | None) -> None:
        try:
            store.set_many(items, ttl)
            self._count(role, "stored", len(items))
        except Exception as exc:  # a cache never fails a call
            self._store_failed(role, exc)

    async def _aget(self, role: str, store: CacheStore, keys: Sequence[str]) -> list[bytes | None]:
        if isinstance(store, MemoryStore):
            return self._get(role, store, keys)
        return await asyncio.to_thread(self._get, role, store, keys)

    async def _aset(self, role: str, store: CacheStore, items: Sequence[tuple[str, bytes]], ttl: float | None) -> None:
        if isinstance(store, MemoryStore):
            self._set(role, store, items, ttl)
        else:
            await asyncio.to_thread(self._set, role, store, items, ttl)

    # --- single flight ------------------------------------------------------------------------

    def _lead(self, key: str) -> tuple[_Flight, bool]:
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                return flight, False
            flight = self._flights[key] = _Flight()
            return flight, True

    def _land(self, key: str, flight: _Flight, value: bytes | None) -> None:
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
        if not flight.future.done():
            flight.future.set_result(value)

    def _wait_remote(self, store: CacheStore, key: str, deadline: float) -> bytes | None:
        """Another process claimed ``key`` (Redis): poll for its answer until it lands or the claim goes."""
        assert isinstance(store, RedisStore)
        pause = 0.01
        while self._timer.now() < deadline:
            self._timer.sleep(pause)
            value = store.get_many([key])[0]
            if value is not None or not store.claimed(key):
                return value
            pause = min(0.2, pause * 2)
        return None

    async def _await_remote(self, store: CacheStore, key: str, deadline: float) -> bytes | None:
        assert isinstance(store, RedisStore)
        pause = 0.01
        while self._timer.now() < deadline:
            await self._timer.asleep(pause)
            value = (await asyncio.to_thread(store.get_many, [key]))[0]
            if value is not None or not await asyncio.to_thread(store.claimed, key):
                return value
            pause = min(0.2, pause * 2)
        return None

    # --- chat ---------------------------------------------------------------------------------

    def _chat_key(self, plan: CallPlan, msgs: list[Any], layers: Sequence[Mapping[str, Any] | None]) -> str | None:
        for layer in layers:
            if isinstance((layer or {}).get("response_format"), type):
                return None  # a Python class: any-llm parses into it; only JSON-schema dicts are cached
        return request_key(plan.call, {"messages": msgs}, layers)

    def completion(
        self,
        hub: LLMHub,
        plan: CallPlan,
        msgs: list[Any],
        override: Mapping[str, Any] | None,
        stream: bool,
        kwargs: Mapping[str, Any],
        policy: tuple[CacheConfig, bool],
    ) -> Any:
        """``hub.completion`` through the cache (sync)."""
        config, read = policy
        role = plan.call.role
        layers = (override, kwargs)
        key = None if self._sampled_bypass(config, plan, layers) else self._chat_key(plan, msgs, layers)
        if key is None:
            self._count(role, "bypassed")
            return hub._complete(plan, msgs, override, stream, kwargs)
        store = self.store(config)
        if read:
            hit = self._get(role, store, [key])[0] or self._follow(role, store, key, plan)
            if hit is not None:
                return self._chat_hit(hub, plan, hit, stream)
        return self._chat_miss(hub, plan, msgs, override, stream, kwargs, config, store, key)

    def _follow(self, role: str, store: CacheStore, key: str, plan: CallPlan) -> bytes | None:
        """Wait for an identical call already in flight here (or, on Redis, in another process)."""
        with self._lock:
            flight = self._flights.get(key)
        if flight is not None and flight.owner != _owner():
            try:
                value = flight.future.result(timeout=self._deadline(plan) - self._timer.now())
            except TimeoutError:
                value = None
            if value is not None:
                return value
        if isinstance(store, RedisStore):
            try:
                if store.claimed(key):
                    return self._wait_remote(store, key, self._deadline(plan))
            except StoreUnavailableError as exc:
                self._store_failed(role, exc)
        return None

    def _deadline(self, plan: CallPlan) -> float:
        return self._timer.now() + (plan.call.primary.timeout or 60.0)

    def _chat_hit(self, hub: LLMHub, plan: CallPlan, raw: bytes, stream: bool) -> Any:
        from any_llm.types.completion import ChatCompletion

        completion = ChatCompletion.model_validate(json.loads(raw))
        self._count(plan.call.role, "hits")
        for event in _hit_events(plan):
            hub._emit(event)
        return iter(replay(completion)) if stream else completion

    def _chat_miss(
        self,
        hub: LLMHub,
        plan: CallPlan,
        msgs: list[Any],
        override: Mapping[str, Any] | None,
        stream: bool,
        kwargs: Mapping[str, Any],
        config: CacheConfig,
        store: CacheStore,
        key: str,
    ) -> Any:
        role = plan.call.role
        self._count(role, "misses")
        plan.cache = "miss"
        flight, leader = self._lead(key)
        token = self._claim(role, store, key, plan) if leader else None
        try:
            result = hub._complete(plan, msgs, override, stream, kwargs)
        except BaseException:
            self._settle(store, key, flight, leader, token, None)
            raise
        if not stream:
            raw = _dump(result)
            self._set(role, store, [(key, raw)], config.ttl)
            self._settle(store, key, flight, leader, token, raw)
            return result
        return self._record_stream(result, role, store, key, config, flight, leader, token)

    def _claim(self, role: str, store: CacheStore, key: str, plan: CallPlan) -> str | None:
        if not isinstance(store, RedisStore):
            return None
        try:
            return store.claim(key, plan.call.primary.timeout or 60.0)
        except StoreUnavailableError as exc:
            self._store_failed(role, exc)
            return None

    def _settle(
        self, store: CacheStore, key: str, flight: _Flight, leader: bool, token: str | None, raw: bytes | None
    ) -> None:
        if token is not None and isinstance(store, RedisStore):
            store.release(key, token)
        if leader:
            self._land(key, flight, raw)

    def _record_stream(
        self,
        chunks: Iterator[Any],
        role: str,
        store: CacheStore,
        key: str,
        config: CacheConfig,
        flight: _Flight,
        leader: bool,
        token: str | None,
    ) -> Iterator[Any]:
        seen: list[Any] = []
        raw: bytes | None = None
        try:
            for chunk in chunks:
                seen.append(chunk)
                yield chunk
            raw = _dump(assemble(seen))
            self._set(role, store, [(key, raw)], config.ttl)
        finally:
            self._settle(store, key, flight, leader, token, raw)

    async def acompletion(
        self,
        hub: LLMHub,
        plan: CallPlan,
        msgs: list[Any],
        override: Mapping[str, Any] | None,
        stream: bool,
        kwargs: Mapping[str, Any],
        policy: tuple[CacheConfig, bool],
    ) -> Any:
        """``hub.acompletion`` through the cache."""
        config, read = policy
        role = plan.call.role
        layers = (override, kwargs)
        key = None if self._sampled_bypass(config, plan, layers) else self._chat_key(plan, msgs, layers)
        if key is None:
            self._count(role, "bypassed")
            return await hub._acomplete(plan, msgs, override, stream, kwargs)
        store = self.store(config)
        if read:
            hit = (await self._aget(role, store, [key]))[0] or await self._afollow(role, store, key, plan)
            if hit is not None:
                from any_llm.types.completion import ChatCompletion

                completion = ChatCompletion.model_validate(json.loads(hit))
                self._count(role, "hits")
                for event in _hit_events(plan):
                    await hub._aemit(event)
                return _aiter(replay(completion)) if stream else completion
        self._count(role, "misses")
        plan.cache = "miss"
        flight, leader = self._lead(key)
        token = (
            await asyncio.to_thread(self._claim, role, store, key, plan)
            if leader and isinstance(store, RedisStore)
            else None
        )
        try:
            result = await hub._acomplete(plan, msgs, override, stream, kwargs)
        except BaseException:
            await asyncio.to_thread(self._settle, store, key, flight, leader, token, None)
            raise
        if not stream:
            raw = _dump(result)
            await self._aset(role, store, [(key, raw)], config.ttl)
            self._settle_soon(store, key, flight, leader, token, raw)
            return result
        return self._arecord_stream(result, role, store, key, config, flight, leader, token)

    def _settle_soon(
        self, store: CacheStore, key: str, flight: _Flight, leader: bool, token: str | None, raw: bytes | None
    ) -> None:
        if token is None:
            self._settle(store, key, flight, leader, None, raw)
        else:  # releasing a Redis claim is I/O: not on the loop
            threading.Thread(target=self._settle, args=(store, key, flight, leader, token, raw), daemon=True).start()

    async def _afollow(self, role: str, store: CacheStore, key: str, plan: CallPlan) -> bytes | None:
        with self._lock:
            flight = self._flights.get(key)
        if flight is not None and flight.owner != _owner():
            timeout = self._deadline(plan) - self._timer.now()
            try:  # shielded: a cancelled follower must not cancel the leader's flight
                value = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(flight.future)), timeout)
            except TimeoutError:
                value = None
            if value is not None:
                return value
        if isinstance(store, RedisStore):
            try:
                if await asyncio.to_thread(store.claimed, key):
                    return await self._await_remote(store, key, self._deadline(plan))
            except StoreUnavailableError as exc:
                self._store_failed(role, exc)
        return None

    async def _arecord_stream(
        self,
        chunks: AsyncIterator[Any],
        role: str,
        store: CacheStore,
        key: str,
        config: CacheConfig,
        flight: _Flight,
        leader: bool,
        token: str | None,
    ) -> AsyncIterator[Any]:
        seen: list[Any] = []
        raw: bytes | None = None
        try:
            async for chunk in chunks:
                seen.append(chunk)
                yield chunk
            raw = _dump(assemble(seen))
            await self._aset(role, store, [(key, raw)], config.ttl)
        finally:
            self._settle_soon(store, key, flight, leader, token, raw)

    # --- embeddings ---------------------------------------------------------------------------

    def embedding(
        self,
        plan: CallPlan,
        inputs: str | list[str],
        override: Mapping[str, Any] | None,
        kwargs: Mapping[str, Any],
        policy: tuple[CacheConfig, bool],
        call: Callable[[list[str]], Any],
        emit: Callable[[Any], None],
    ) -> Any:
        """``hub.embedding`` through the cache: only the texts not stored yet are sent (``call``)."""
        config, read = policy
        texts, keys, store = self._embedding_keys(plan, inputs, override, kwargs, config)
        found: list[bytes | None] = self._get(plan.call.role, store, keys) if read else [None] * len(keys)
        missing = _missing(texts, found)
        fresh = call(missing) if missing else None
        if fresh is not None:
            self._set(plan.call.role, store, _vectors_to_store(keys, texts, found, fresh), config.ttl)
        elif missing == []:
            for event in _hit_events(plan):
                emit(event)
        return self._embedding_answer(plan, texts, found, fresh)

    async def aembedding(
        self,
        plan: CallPlan,
        inputs: str | list[str],
        override: Mapping[str, Any] | None,
        kwargs: Mapping[str, Any],
        policy: tuple[CacheConfig, bool],
        call: Callable[[list[str]], Awaitable[Any]],
        emit: Callable[[Any], Awaitable[None]],
    ) -> Any:
        """Async twin of ``embedding``."""
        config, read = policy
        texts, keys, store = self._embedding_keys(plan, inputs, override, kwargs, config)
        found: list[bytes | None] = await self._aget(plan.call.role, store, keys) if read else [None] * len(keys)
        missing = _missing(texts, found)
        fresh = await call(missing) if missing else None
        if fresh is not None:
            await self._aset(plan.call.role, store, _vectors_to_store(keys, texts, found, fresh), config.ttl)
        elif missing == []:
            for event in _hit_events(plan):
                await emit(event)
        return self._embedding_answer(plan, texts, found, fresh)

    def _embedding_keys(
        self,
        plan: CallPlan,
        inputs: str | list[str],
        override: Mapping[str, Any] | None,
        kwargs: Mapping[str, Any],
        config: CacheConfig,
    ) -> tuple[list[str], list[str], CacheStore]:
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        layers = (override, kwargs)
        return texts, [item_key(plan.call, text, layers) for text in texts], self.store(config)

    def _embedding_answer(self, plan: CallPlan, texts: list[str], found: list[bytes | None], fresh: Any) -> Any:
        from any_llm.types.completion import CreateEmbeddingResponse

        role = plan.call.role
        hits = sum(value is not None for value in found)
        self._count(role, "hits", hits)
        self._count(role, "misses", len(texts) - hits)
        new = iter(fresh.data) if fresh is not None else iter(())
        by_text: dict[str, list[float]] = {}
        data = []
        model = fresh.model if fresh is not None else None
        for index, (text, value) in enumerate(zip(texts, found, strict=True)):
            if value is not None:
                stored = json.loads(value)
                vector = stored["embedding"]
                model = model or stored.get("model")
            elif text in by_text:
                vector = by_text[text]
            else:
                vector = by_text[text] = list(next(new).embedding)
            data.append({"object": "embedding", "index": index, "embedding": vector})
        usage = fresh.usage.model_dump() if fresh is not None and fresh.usage is not None else None
        return CreateEmbeddingResponse.model_validate(
            {
                "object": "list",
                "model": model or plan.call.primary.model,
                "data": data,
                "usage": usage or {"prompt_tokens": 0, "total_tokens": 0},
            }
        )


def _missing(texts: list[str], found: list[bytes | None]) -> list[str]:
    """Texts with no stored vector, each once, in order."""
    return list(dict.fromkeys(text for text, value in zip(texts, found, strict=True) if value is None))


def _vectors_to_store(
    keys: list[str], texts: list[str], found: list[bytes | None], fresh: Any
) -> list[tuple[str, bytes]]:
    vectors = {}
    missing = _missing(texts, found)
    for text, item in zip(missing, fresh.data, strict=False):
        vectors[text] = json.dumps({"model": fresh.model, "embedding": list(item.embedding)}).encode()
    items = {
        key: vectors[text]
        for key, text, value in zip(keys, texts, found, strict=True)
        if value is None and text in vectors
    }
    return list(items.items())


def _dump(result: Any) -> bytes:
    text: str = result.model_dump_json(exclude_none=False)
    return text.encode()


def _hit_events(plan: CallPlan) -> list[Any]:
    """The start and end events of a call answered from the cache (attempt 0, 0 tokens)."""
    plan.cache = "hit"
    plan.current = Attempt(plan.call.primary, 0, 0, plan.api_keys[0])
    plan.started = plan.timer.now()
    events = [plan.event("start")] if plan.observed else []
    events.append(plan.event("end", usage=Usage(0, 0)))
    return events


async def _aiter(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item
