"""A role-aware response cache: ``cache:`` per role in ``llmhub.yaml``; see ``layer`` for the rules.

Backends: ``MemoryStore`` (default, bounded, this process), ``SQLiteStore`` (a file that survives
restarts) and ``RedisStore`` (shared by every worker; extra ``redis``).
"""

from __future__ import annotations

import typing

from .config import CacheConfig

if typing.TYPE_CHECKING:
    from .keys import call_fingerprint, item_key, request_key
    from .layer import CacheStats, ResponseCache, store_for
    from .redis_store import RedisStore, StoreUnavailableError
    from .stores import CacheStore, MemoryStore, SQLiteStore

_LAZY = {
    "CacheStats": "layer",
    "CacheStore": "stores",
    "MemoryStore": "stores",
    "RedisStore": "redis_store",
    "ResponseCache": "layer",
    "SQLiteStore": "stores",
    "StoreUnavailableError": "redis_store",
    "call_fingerprint": "keys",
    "item_key": "keys",
    "request_key": "keys",
    "store_for": "layer",
}
"""Loaded on first use: ``models`` imports ``CacheConfig`` from here, and the rest imports ``models``."""


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llmhub_runtime.cache' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CacheConfig",
    "CacheStats",
    "CacheStore",
    "MemoryStore",
    "RedisStore",
    "ResponseCache",
    "SQLiteStore",
    "StoreUnavailableError",
    "call_fingerprint",
    "item_key",
    "request_key",
    "store_for",
]
