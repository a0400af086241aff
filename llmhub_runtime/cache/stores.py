"""Where cached answers live: ``MemoryStore`` (default), ``SQLiteStore`` (a file) and ``RedisStore``.

Every store keeps opaque ``bytes`` under string keys with an optional time to live, and answers
``get_many`` in one round trip. A store that fails (a locked file, Redis down) never fails a call:
the cache layer logs it, counts it and calls the model as if it had missed.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

__all__ = ["CacheStore", "MemoryStore", "SQLiteStore"]

Clock = Callable[[], float]


class CacheStore(Protocol):
    """What the cache layer needs from a backend."""

    name: str

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The value of each key, ``None`` where missing or expired."""

    def set_many(self, items: Sequence[tuple[str, bytes]], ttl: float | None) -> None:
        """Store each ``(key, value)``, kept ``ttl`` seconds (``None``: until evicted)."""

    def clear(self, prefix: str = "") -> int:
        """Remove the entries whose key starts with ``prefix`` (all by default); the number removed."""

    def count(self, prefix: str = "") -> int:
        """Entries whose key starts with ``prefix`` (expired ones may be counted until swept)."""

    def close(self) -> None:
        """Release connections and files."""


class MemoryStore:
    """An in-process LRU of at most ``max_entries``, thread-safe; the default backend."""

    name = "memory"

    def __init__(self, max_entries: int = 10_000, *, clock: Clock = time.time) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._data: OrderedDict[str, tuple[float | None, bytes]] = OrderedDict()

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        now = self._clock()
        found: list[bytes | None] = []
        with self._lock:
            for key in keys:
                entry = self._data.get(key)
                if entry is None:
                    found.append(None)
                elif entry[0] is not None and entry[0] <= now:
                    del self._data[key]
                    found.append(None)
                else:
                    self._data.move_to_end(key)
                    found.append(entry[1])
        return found

    def set_many(self, items: Sequence[tuple[str, bytes]], ttl: float | None) -> None:
        expires = None if ttl is None else self._clock() + ttl
        with self._lock:
            for key, value in items:
                self._data[key] = (expires, value)
                self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self, prefix: str = "") -> int:
        with self._lock:
            doomed = [key for key in self._data if key.startswith(prefix)]
            for key in doomed:
                del self._data[key]
        return len(doomed)

    def count(self, prefix: str = "") -> int:
        with self._lock:
            return sum(1 for key in self._data if key.startswith(prefix))

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return f"MemoryStore(entries={self.count()}, max_entries={self.max_entries})"


class SQLiteStore:
    """Answers in one SQLite file (WAL), shared by the processes of one machine; survives restarts."""

    name = "sqlite"

    def __init__(self, path: str | Path = ".llmhub-cache.sqlite", *, clock: Clock = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._local = threading.local()
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS llmhub_cache (key TEXT PRIMARY KEY, value BLOB, expires REAL)")

    def _connect(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
            with self._lock:
                self._all = [*getattr(self, "_all", []), db]
        return db

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        now = self._clock()
        db = self._connect()
        found: dict[str, bytes] = {}
        for start in range(0, len(keys), 500):  # SQLite's default limit on host parameters is 999
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT key, value FROM llmhub_cache WHERE key IN ({marks}) AND (expires IS NULL OR expires > ?)",  # noqa: S608 - only placeholders
                [*chunk, now],
            ).fetchall()
            found.update((key, bytes(value)) for key, value in rows)
        return [found.get(key) for key in keys]

    def set_many(self, items: Sequence[tuple[str, bytes]], ttl: float | None) -> None:
        if not items:
            return
        expires = None if ttl is None else self._clock() + ttl
        db = self._connect()
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO llmhub_cache (key, value, expires) VALUES (?, ?, ?)",
                [(key, value, expires) for key, value in items],
            )
            db.execute("DELETE FROM llmhub_cache WHERE expires IS NOT NULL AND expires <= ?", (self._clock(),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def clear(self, prefix: str = "") -> int:
        cursor = self._connect().execute("DELETE FROM llmhub_cache WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))
        return cursor.rowcount

    def count(self, prefix: str = "") -> int:
        row = (
            self._connect()
            .execute("SELECT COUNT(*) FROM llmhub_cache WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))
            .fetchone()
        )
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            connections, self._all = getattr(self, "_all", []), []
        for db in connections:
            with contextlib.suppress(sqlite3.ProgrammingError):
                db.close()
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"SQLiteStore(path={str(self.path)!r})"
