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
import contextlib
import json
import logging
import sys
import threading
import time
from array import array
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..errors import InvalidInputError
from ..hooks import Usage
from ..models import RuntimeConfig
from ..retry import Attempt, CallPlan, Timer
from .config import CacheConfig
from .keys import item_keys, request_key
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


@dataclass
class _Entry:
    """One cached request being answered: where its answer goes, and the flight it leads or follows."""

    role: str
    key: str
    config: CacheConfig
    store: CacheStore
    read: bool
    flight: _Flight = field(default_factory=lambda: _Flight())
    leader: bool = False
    token: str | None = None
    """The Redis claim this process holds on the key, if any."""


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

    # --- single flight ------------------------------------------------------------------------

    def _lead(self, key: str) -> tuple[_Flight, bool]:
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                return flight, False
            flight = self._flights[key] = _Flight()
            return flight, True

    def _local_flight(self, key: str) -> _Flight | None:
        """An identical call in flight in this process, led by another thread or task."""
        with self._lock:
            flight = self._flights.get(key)
        return flight if flight is not None and flight.owner != _owner() else None

    def _deadline(self, plan: CallPlan) -> float:
        return self._timer.now() + (plan.call.primary.timeout or 60.0)

    def _claim_or_wait(self, entry: _Entry, plan: CallPlan) -> bytes | None:
        """On Redis: claim the key for this process, or wait for the process that holds it; its answer or None."""
        store = entry.store
        if not isinstance(store, RedisStore):
            return None
        try:
            entry.token = store.claim(entry.key, plan.call.primary.timeout or 60.0)
            if entry.token is not None or not entry.read:
                return None
            deadline, pause = self._deadline(plan), 0.01
            while self._timer.now() < deadline:
                self._timer.sleep(pause)
                value = store.get_many([entry.key])[0]
                if value is not None or not store.claimed(entry.key):
                    return value
                pause = min(0.2, pause * 2)
        except StoreUnavailableError as exc:
            self._store_failed(entry.role, exc)
        return None

    def _finish(self, entry: _Entry, raw: bytes | None, *, stored: bool = False) -> None:
        """Store the answer (``None``: the call failed), give up the Redis claim, and wake local followers.

        ``stored``: the answer is in the store already (another process wrote it); only wake the followers.
        """
        store = entry.store
        try:
            if raw is not None and not stored:
                if isinstance(store, RedisStore):
                    store.set_many([(entry.key, raw)], entry.config.ttl, release=(entry.key, entry.token))
                else:
                    store.set_many([(entry.key, raw)], entry.config.ttl)
                self._count(entry.role, "stored")
            elif entry.token is not None and isinstance(store, RedisStore):
                store.release(entry.key, entry.token)
        except Exception as exc:  # a cache never fails a call
            self._store_failed(entry.role, exc)
        finally:
            if entry.leader:
                with self._lock:
                    if self._flights.get(entry.key) is entry.flight:
                        del self._flights[entry.key]
                if not entry.flight.future.done():
                    entry.flight.future.set_result(raw)

    # --- chat ---------------------------------------------------------------------------------

    def _chat_entry(
        self,
        plan: CallPlan,
        msgs: list[Any],
        layers: Sequence[Mapping[str, Any] | None],
        policy: tuple[CacheConfig, bool],
    ) -> _Entry | None:
        config, read = policy
        if self._sampled_bypass(config, plan, layers) or any(
            isinstance((layer or {}).get("response_format"), type) for layer in layers
        ):  # a Python class as response_format: any-llm parses into it; only JSON-schema dicts are cached
            self._count(plan.call.role, "bypassed")
            return None
        key = request_key(plan.call, {"messages": msgs}, layers)
        return _Entry(plan.call.role, key, config, self.store(config), read)

    def _hit(self, plan: CallPlan, raw: bytes, stream: bool) -> tuple[Any, list[Any]]:
        from any_llm.types.completion import ChatCompletion

        completion = ChatCompletion.model_validate(json.loads(raw))
        self._count(plan.call.role, "hits")
        return (replay(completion) if stream else completion), _hit_events(plan)

    def _missed(self, entry: _Entry, plan: CallPlan) -> None:
        self._count(entry.role, "misses")
        plan.cache = "miss"

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
        entry = self._chat_entry(plan, msgs, (override, kwargs), policy)
        if entry is None:
            return hub._complete(plan, msgs, override, stream, kwargs)
        raw = self._get(entry.role, entry.store, [entry.key])[0] if entry.read else None
        if raw is None and entry.read and (flight := self._local_flight(entry.key)) is not None:
            with contextlib.suppress(TimeoutError):
                raw = flight.future.result(timeout=self._deadline(plan) - self._timer.now())
        if raw is None:
            entry.flight, entry.leader = self._lead(entry.key)
            raw = self._claim_or_wait(entry, plan) if entry.leader else None
            if raw is not None:
                self._finish(entry, raw, stored=True)  # another process answered: hand it to local followers
        if raw is not None:
            answer, events = self._hit(plan, raw, stream)
            for event in events:
                hub._emit(event)
            return iter(answer) if stream else answer
        self._missed(entry, plan)
        try:
            result = hub._complete(plan, msgs, override, stream, kwargs)
        except BaseException:
            self._finish(entry, None)
            raise
        if stream:
            return self._record_stream(result, entry)
        self._finish(entry, _dump(result))
        return result

    def _record_stream(self, chunks: Iterator[Any], entry: _Entry) -> Iterator[Any]:
        seen: list[Any] = []
        raw: bytes | None = None
        try:
            for chunk in chunks:
                seen.append(chunk)
                yield chunk
            raw = _dump(assemble(seen))
        finally:
            self._finish(entry, raw)  # only a stream that ran to its end is stored

    async def _io(self, store: CacheStore, fn: Callable[..., T], *args: Any) -> T:
        """Run a store step: inline for the memory store, on a worker thread for files and Redis."""
        if isinstance(store, MemoryStore):
            return fn(*args)
        return await asyncio.to_thread(fn, *args)

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
        """``hub.acompletion`` through the cache: the twin of ``completion``."""
        entry = self._chat_entry(plan, msgs, (override, kwargs), policy)
        if entry is None:
            return await hub._acomplete(plan, msgs, override, stream, kwargs)
        raw = (await self._io(entry.store, self._get, entry.role, entry.store, [entry.key]))[0] if entry.read else None
        if raw is None and entry.read and (flight := self._local_flight(entry.key)) is not None:
            timeout = self._deadline(plan) - self._timer.now()
            with contextlib.suppress(TimeoutError):  # shielded: a cancelled follower must not cancel the leader
                raw = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(flight.future)), timeout)
        if raw is None:
            entry.flight, entry.leader = self._lead(entry.key)
            raw = await self._io(entry.store, self._claim_or_wait, entry, plan) if entry.leader else None
            if raw is not None:
                self._finish(entry, raw, stored=True)
        if raw is not None:
            answer, events = self._hit(plan, raw, stream)
            for event in events:
                await hub._aemit(event)
            return _aiter(answer) if stream else answer
        self._missed(entry, plan)
        try:
            result = await hub._acomplete(plan, msgs, override, stream, kwargs)
        except BaseException:
            await asyncio.shield(self._io(entry.store, self._finish, entry, None))
            raise
        if stream:
            return self._arecord_stream(result, entry)
        await self._io(entry.store, self._finish, entry, _dump(result))
        return result

    async def _arecord_stream(self, chunks: AsyncIterator[Any], entry: _Entry) -> AsyncIterator[Any]:
        seen: list[Any] = []
        raw: bytes | None = None
        try:
            async for chunk in chunks:
                seen.append(chunk)
                yield chunk
            raw = _dump(assemble(seen))
        finally:
            await asyncio.shield(self._io(entry.store, self._finish, entry, raw))

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
        found: list[bytes | None] = (
            await self._io(store, self._get, plan.call.role, store, keys) if read else [None] * len(keys)
        )
        missing = _missing(texts, found)
        fresh = await call(missing) if missing else None
        if fresh is not None:
            await self._io(
                store, self._set, plan.call.role, store, _vectors_to_store(keys, texts, found, fresh), config.ttl
            )
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
        return texts, item_keys(plan.call, texts, layers), self.store(config)

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
                stored = _load_vector(value)
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
        vectors[text] = _dump_vector(fresh.model, item.embedding)
    items = {
        key: vectors[text]
        for key, text, value in zip(keys, texts, found, strict=True)
        if value is None and text in vectors
    }
    return list(items.items())


def _dump_vector(model: str, vector: Sequence[float]) -> bytes:
    """A stored vector: the model's name, a NUL, then the floats as little-endian doubles (exact, fast to read)."""
    values = array("d", vector)
    if sys.byteorder == "big":  # stored little-endian, so machines sharing a Redis agree
        values.byteswap()
    return model.encode() + b"\x00" + values.tobytes()


def _load_vector(raw: bytes) -> dict[str, Any]:
    model, _, data = raw.partition(b"\x00")
    vector = array("d")
    vector.frombytes(data)
    if sys.byteorder == "big":
        vector.byteswap()
    return {"model": model.decode(), "embedding": vector.tolist()}


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
