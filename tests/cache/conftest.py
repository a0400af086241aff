"""Fixtures for the response cache: configs with ``cache:``, and a real redis-server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from llmhub_runtime.testing import StandInServer
from llmhub_runtime.testing.redis import RedisServer, redis_server_available


@pytest.fixture
def cached_config(server: StandInServer) -> Callable[..., dict[str, Any]]:
    """The stand-in's chat config with ``cache:`` (the keyword arguments) on both roles."""

    def make(**cache: Any) -> dict[str, Any]:
        config = server.chat_config()
        for role in config["roles"].values():
            role["cache"] = dict(cache)
        return config

    return make


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    if not redis_server_available():
        pytest.fail("redis-server is not installed: apt-get install -y redis-server (.ci/run does)")
    with RedisServer() as running:
        yield running


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url
