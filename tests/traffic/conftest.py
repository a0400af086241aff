"""A real ``redis-server`` per test module, on a free loopback port, stopped after (never a fake Redis)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from llmhub_runtime.testing import unused_port

REDIS = shutil.which("redis-server")


@dataclass
class RedisServer:
    """One running redis-server process."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def flush(self) -> None:
        import redis

        client = redis.Redis(port=self.port, socket_timeout=2)
        client.flushall()
        client.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


def start_redis() -> RedisServer:
    if REDIS is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run installs it)")
    import redis

    port = unused_port()
    process = subprocess.Popen(
        [
            REDIS,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
    for _ in range(200):  # up to ~5 s on a loaded machine
        try:
            if client.ping():
                break
        except redis.RedisError:
            time.sleep(0.025)
    else:
        process.kill()
        raise RuntimeError("redis-server did not answer PING")
    client.close()
    return RedisServer(process, port)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A server of this test alone (for tests that kill or pause it)."""
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()
