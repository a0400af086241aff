"""``RedisStore``: answers shared by every worker through a Redis server (redis-py, extra ``redis``).

Timeouts are short and redis-py's own retries are off: a slow or dead Redis costs one bounded
wait, then the call goes to the model (the cache layer counts the failure). Keys live under
``llmhub:cache:``; ``clear`` removes only those.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from typing import Any

__all__ = ["REDIS_URL_ENV_VAR", "RedisStore", "StoreUnavailableError"]

REDIS_URL_ENV_VAR = "LLMHUB_REDIS_URL"
_PREFIX = "llmhub:cache:"
_FLIGHT = "llmhub:flight:"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class StoreUnavailableError(Exception):
    """The store could not be reached in time; the call goes on without the cache."""


class RedisStore:
    """Cached answers in Redis at ``url`` (default ``$LLMHUB_REDIS_URL``, else redis://127.0.0.1:6379/0)."""

    name = "redis"

    def __init__(self, url: str | None = None, *, socket_timeout: float = 0.5) -> None:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise ImportError("cache backend 'redis' needs redis-py: pip install 'llmhub-runtime[redis]'") from exc
        self.url = url or os.environ.get(REDIS_URL_ENV_VAR) or "redis://127.0.0.1:6379/0"
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._client: Any = redis.Redis.from_url(
            self.url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
            health_check_interval=0,
        )
        self._release = self._client.register_script(_RELEASE)

    def _run(self, what: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, what)(*args, **kwargs)
        except self._errors as exc:
            raise StoreUnavailableError(f"Redis at {_public(self.url)}: {type(exc).__name__}") from None

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        values: list[bytes | None] = self._run("mget", [_PREFIX + key for key in keys])
        return values

    def set_many(
        self, items: Sequence[tuple[str, bytes]], ttl: float | None, *, release: tuple[str, str | None] | None = None
    ) -> None:
        """Store ``items``; with ``release=(key, token)`` also give up that claim, in the same round trip."""
        if not items:
            return
        try:
            pipe = self._client.pipeline(transaction=False)
            for key, value in items:
                pipe.set(_PREFIX + key, value, px=None if ttl is None else max(1, int(ttl * 1000)))
            if release is not None and release[1] is not None:
                self._release(keys=[_FLIGHT + release[0]], args=[release[1]], client=pipe)
            pipe.execute()
        except self._errors as exc:
            raise StoreUnavailableError(f"Redis at {_public(self.url)}: {type(exc).__name__}") from None

    def claim(self, key: str, seconds: float) -> str | None:
        """Become the one worker computing ``key`` for at most ``seconds``; a token, or ``None`` if taken."""
        token = secrets.token_hex(8)
        ok = self._run("set", _FLIGHT + key, token, px=max(1, int(seconds * 1000)), nx=True)
        return token if ok else None

    def claimed(self, key: str) -> bool:
        """Whether some worker is computing ``key`` now."""
        return bool(self._run("exists", _FLIGHT + key))

    def release(self, key: str, token: str) -> None:
        """Give up the claim made with ``token`` (a claim that expired meanwhile is left alone)."""
        with contextlib.suppress(*self._errors):  # it expires by itself
            self._release(keys=[_FLIGHT + key], args=[token])

    def clear(self, prefix: str = "") -> int:
        removed = 0
        cursor = 0
        while True:
            cursor, keys = self._run("scan", cursor, _PREFIX + _glob_literal(prefix) + "*", 1000)
            if keys:
                removed += int(self._run("unlink", *keys))
            if cursor == 0:
                return removed

    def count(self, prefix: str = "") -> int:
        total = 0
        cursor = 0
        while True:
            cursor, keys = self._run("scan", cursor, _PREFIX + _glob_literal(prefix) + "*", 1000)
            total += len(keys)
            if cursor == 0:
                return total

    def close(self) -> None:
        with contextlib.suppress(*self._errors):
            self._client.close()

    def __repr__(self) -> str:
        return f"RedisStore(url={_public(self.url)!r})"


def _glob_literal(text: str) -> str:
    """``text`` with Redis glob characters escaped."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _public(url: str) -> str:
    """The URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:[secure]@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
