"""``RedisStore``: limits and cooldowns shared by every worker through one Redis server (extra ``redis``).

Every operation is one Lua script (``lua.py``): atomic, timed by the Redis server's clock, one
round trip per acquire and one per settle. The client has socket timeouts and no retries, so a
slow or dead Redis costs at most ``timeout`` seconds and surfaces as ``StoreUnavailable`` (which
``FallbackStore`` turns into in-process limits or a refusal). All keys share one hash tag
(``{prefix}``), so the scripts also run on Redis Cluster (on one shard).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any

from .config import mask_url
from .demand import POLL, Blocked, Check, Demand, Grant, Lease, Outcome
from .lua import ACQUIRE, SETTLE, SNAPSHOT

__all__ = ["RedisStore", "StoreUnavailable"]

_KIND = {"requests": "r", "tokens": "t", "concurrent": "c", "budget": "b"}


class StoreUnavailable(Exception):
    """Internal: the store could not answer in time (the cause is chained)."""


def _weight(check: Check, value: float) -> str:
    return repr(float(value)) if check.kind == "budget" else str(math.ceil(value))


def _window(check: Check) -> str:
    return check.period if check.kind == "budget" else str(int(check.window * 1000))


class RedisStore:
    """State in Redis at ``url``; each operation bounded by ``timeout`` seconds."""

    def __init__(self, url: str, *, timeout: float = 0.25, prefix: str = "llmhub") -> None:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError as exc:  # pragma: no cover - depends on the environment
            from ..errors import ConfigError

            raise ConfigError(
                "traffic.state is a Redis URL but redis-py is not installed; pip install 'llmhub-runtime[redis]'"
            ) from exc
        self.url = mask_url(url)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
            health_check_interval=0,
        )
        self._tag = "{" + prefix + "}"
        self._acquire = self._client.register_script(ACQUIRE)
        self._settle = self._client.register_script(SETTLE)
        self._snapshot = self._client.register_script(SNAPSHOT)

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r})"

    def _keys(self, checks: Sequence[Check], label: str) -> list[str]:
        tag = self._tag
        return [f"{tag}:sums", f"{tag}:cool:{label}", *(f"{tag}:{check.key}" for check in checks)]

    def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return script(keys=keys, args=args)
        except self._errors as exc:
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def acquire(self, demand: Demand) -> Grant | Blocked:
        lease_id = uuid.uuid4().hex
        args: list[Any] = [
            lease_id,
            1 if demand.cooldown is not None else 0,
            int(demand.probe_ttl * 1000),
            int(demand.lease_ttl * 1000),
        ]
        for check, weight in zip(demand.checks, demand.weights, strict=True):
            args += [_KIND[check.kind], check.limit, _window(check), _weight(check, weight)]
        granted, index, wait_ms = self._run(self._acquire, self._keys(demand.checks, demand.label), args)
        if granted:
            return Grant(Lease(lease_id, demand, self, probe=bool(index)))
        if index == 0:
            return Blocked(None, (wait_ms + 1) / 1000, "cooling")
        check = demand.checks[index - 1]
        wait = math.inf if wait_ms == -1 else POLL if wait_ms == -2 else (wait_ms + 1) / 1000
        return Blocked(check, wait)

    def settle(self, lease: Lease, outcome: Outcome, weights: Sequence[float], retry_after: float | None) -> None:
        demand = lease.demand
        cooldown = demand.cooldown
        args: list[Any] = [
            lease.id,
            outcome,
            int((retry_after or 0) * 1000),
            cooldown.failures if cooldown is not None else 0,
            int(cooldown.seconds * 1000) if cooldown is not None else 0,
            int(demand.lease_ttl * 1000),
        ]
        for check, old, new in zip(demand.checks, demand.weights, weights, strict=True):
            args += [_KIND[check.kind], _window(check), _weight(check, old), _weight(check, new)]
        self._run(self._settle, self._keys(demand.checks, demand.label), args)

    def snapshot(self, checks: Sequence[Check], label: str) -> dict[str, Any]:
        args: list[Any] = []
        for check in checks:
            args += [_KIND[check.kind], _window(check)]
        row = self._run(self._snapshot, self._keys(checks, label), args)
        used = {check.key: float(value) for check, value in zip(checks, row, strict=False)}
        cooling, fails, tripped = row[len(checks) :]
        return {"used": used, "cooling_for": int(cooling) / 1000, "failures": int(fails), "tripped": tripped == b"1"}

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
