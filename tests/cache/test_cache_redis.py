"""The response cache on a real redis-server: shared by hubs and processes; Redis down never fails a call."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmhub_runtime import LLMHub
from llmhub_runtime.cache import RedisStore, StoreUnavailableError
from llmhub_runtime.testing import Fault, Reply, StandInServer, unused_port
from llmhub_runtime.testing.redis import RedisServer

HI = [{"role": "user", "content": "hi there"}]
WORKER = Path(__file__).with_name("cache_worker.py")


def chat_requests(server: StandInServer) -> int:
    return sum(1 for r in server.requests if r.api == "openai-chat")


def test_two_hubs_share_answers_through_redis(
    server: StandInServer, cached_config: Callable[..., dict[str, Any]], redis_url: str
) -> None:
    config = cached_config(backend="redis", url=redis_url, ttl=120)
    server.enqueue("standin-chat", Reply(text="shared"))
    with LLMHub(config=config) as one, LLMHub(config=config) as two:
        one.completion("llm.inference", HI)
        assert two.completion("llm.inference", HI).choices[0].message.content == "shared"
        two.embedding("llm.embedding", ["x", "y"])
        one.embedding("llm.embedding", ["y", "x", "z"])
    assert chat_requests(server) == 1
    assert [r.body["input"] for r in server.requests if r.api == "openai-embeddings"] == [["x", "y"], ["z"]]
    store = RedisStore(redis_url)
    assert store.count() == 4  # one answer, three vectors
    assert store.clear() == 4 and store.count() == 0
    store.close()


def test_entries_expire_by_the_servers_clock(
    server: StandInServer, cached_config: Callable[..., dict[str, Any]], redis_url: str
) -> None:
    with LLMHub(config=cached_config(backend="redis", url=redis_url, ttl=90)) as hub:
        hub.completion("llm.inference", HI)
    import redis

    client = redis.Redis.from_url(redis_url)
    [key] = client.keys("llmhub:cache:*")
    assert 80_000 < client.pttl(key) <= 90_000
    client.close()


def test_identical_misses_in_four_processes_call_the_model_once(
    server: StandInServer, cached_config: Callable[..., dict[str, Any]], redis_url: str, tmp_path: Path
) -> None:
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(cached_config(backend="redis", url=redis_url)))
    server.enqueue("standin-chat", Fault(delay=1.0))  # the one request that reaches the model is slow
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(config_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = [json.loads(worker.communicate(timeout=60)[0]) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    assert chat_requests(server) == 1
    assert len({r["text"] for r in results}) == 1
    assert sorted(r["hits"] for r in results) == [0, 1, 1, 1]


def test_redis_down_never_fails_a_call(
    server: StandInServer, cached_config: Callable[..., dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    config = cached_config(backend="redis", url=f"redis://127.0.0.1:{unused_port()}/0")
    with caplog.at_level(logging.WARNING, logger="llmhub_runtime"), LLMHub(config=config) as hub:
        for _ in range(3):
            assert hub.completion("llm.inference", HI).choices[0].message.content
        stats = hub.cache_stats()["llm.inference"]
    assert chat_requests(server) == 3
    assert stats.store_errors >= 3 and stats.hits == 0
    warnings = [r.getMessage() for r in caplog.records if "response cache unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once a minute, not once a call


def test_redis_killed_mid_run(server: StandInServer, cached_config: Callable[..., dict[str, Any]]) -> None:
    with RedisServer() as redis_server, LLMHub(config=cached_config(backend="redis", url=redis_server.url)) as hub:
        hub.completion("llm.inference", HI)
        hub.completion("llm.inference", HI)
        assert chat_requests(server) == 1
        redis_server.kill()
        answer = hub.completion("llm.inference", HI)
        assert answer.choices[0].message.content
        assert hub.embedding("llm.embedding", ["a"]).data[0].embedding
    assert chat_requests(server) == 2


def test_redis_url_password_is_masked() -> None:
    store = RedisStore("redis://user:hunter2-secret@127.0.0.1:1/0")
    assert "hunter2-secret" not in repr(store)
    with pytest.raises(StoreUnavailableError) as info:
        store.count()
    assert "hunter2-secret" not in str(info.value)
    store.close()
