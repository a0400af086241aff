"""Several worker processes, one Redis: the limits, budgets and cooldowns hold across all of them.

Real time, kept short: the provider stand-in enforces 30 requests per sliding 3 seconds (a
20x-scaled 600 rpm) and answers 429 beyond; each scenario runs for a few seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmhub_runtime.testing import Reply, StandInServer
from llmhub_runtime.testing.limits import WindowLimit

from .conftest import RedisServer

WORKER = Path(__file__).with_name("worker.py")


class Workers:
    """N worker processes, started once per module (imports dominate their cost); each test runs jobs on them."""

    def __init__(self, count: int) -> None:
        self.processes = [
            subprocess.Popen([sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(count)
        ]
        for process in self.processes:
            assert self._read(process) == "up"  # imports done

    def _send(self, process: subprocess.Popen[str], line: str) -> None:
        assert process.stdin is not None
        process.stdin.write(line + "\n")
        process.stdin.flush()

    def _read(self, process: subprocess.Popen[str]) -> str:
        assert process.stdout is not None
        return process.stdout.readline().strip()

    def prepare(self, specs: list[dict[str, Any]]) -> Workers:
        """Send each worker its job and wait until every hub is built."""
        self.busy = self.processes[: len(specs)]
        for process, spec in zip(self.busy, specs, strict=True):
            self._send(process, json.dumps(spec))
        for process in self.busy:
            assert self._read(process) == "ready"
        return self

    def go(self) -> list[dict[str, Any]]:
        """Release the prepared workers together; their reports."""
        for process in self.busy:
            self._send(process, "go")
        return [json.loads(self._read(process)) for process in self.busy]

    def stop(self) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    pool = Workers(4)
    yield pool
    pool.stop()


def chat(server: StandInServer, entry_limits: dict[str, Any] | None, state: str | None, **role: Any) -> dict[str, Any]:
    config = server.chat_config(model="model-a")
    if entry_limits is not None:
        config["providers"]["standin"]["limits"] = entry_limits
    if state is not None:
        config["traffic"] = {"state": state}
    config["roles"]["llm.inference"].update({"retry": {"max_attempts": 1}, **role})  # every 429 visible
    return config


def test_a_shared_limit_sends_no_request_into_a_429(server: StandInServer, redis_url: str, workers: Workers) -> None:
    limit = WindowLimit(count=30, seconds=3.0)
    server.script("*", limit)
    config = chat(server, {"requests": {"count": 30, "seconds": 3}}, redis_url, timeout=30)
    reports = workers.prepare([{"config": config, "role": "llm.inference", "calls": 15}] * 4).go()
    outcomes = Counter(o for r in reports for o in r["outcomes"])
    assert outcomes == {"ok:model-a": 60}, [r["metrics"] for r in reports]
    assert limit.rejected == 0
    assert limit.goodput() >= 0.95 * 10, limit.goodput()


def test_without_a_shared_limit_the_workers_are_429ed(server: StandInServer, workers: Workers) -> None:
    limit = WindowLimit(count=30, seconds=3.0)
    server.script("*", limit)
    reports = workers.prepare([{"config": chat(server, None, None), "role": "llm.inference", "calls": 15}] * 4).go()
    outcomes = Counter(o for r in reports for o in r["outcomes"])
    assert outcomes["RateLimitError"] == limit.rejected > 0
    assert outcomes["ok:model-a"] + outcomes["RateLimitError"] == 60


def test_a_budget_stops_spending_at_its_cap_across_processes(
    server: StandInServer, redis_url: str, workers: Workers
) -> None:
    server.script("*", lambda request: Reply(text="a b c d e", usage=(5, 5)))
    config = chat(server, None, redis_url, params={"max_tokens": 5}, pricing={"input": 62500, "output": 62500},
                  limits={"budget": {"amount": 3.75, "period": "day"}})  # 6 calls of 0.625  # fmt: skip
    reports = workers.prepare([{"config": config, "role": "llm.inference", "calls": 5}] * 4).go()
    outcomes = Counter(o for r in reports for o in r["outcomes"])
    assert outcomes == {"ok:model-a": 6, "TrafficLimitError": 14}
    assert len(server.requests) == 6


def test_a_cooldown_set_by_one_process_is_seen_by_the_others_within_a_second(
    server: StandInServer, redis_url: str, workers: Workers
) -> None:
    from llmhub_runtime import LLMHub
    from llmhub_runtime.testing import Fault

    config = chat(server, None, redis_url, cooldown={"failures": 3, "seconds": 30},
                  fallbacks=[{"provider": "standin", "model": "model-b"}])  # fmt: skip
    workers.prepare([{"config": config, "role": "llm.inference", "calls": 1}] * 3)
    server.enqueue("model-a", Fault(status=429, headers={"Retry-After": "30"}))
    with LLMHub(config=config) as hub:
        assert hub.completion("llm.inference", "hi").model == "model-b"  # 429 on model-a: cooled for 30 s
    failed_at = time.time()
    reports = workers.go()
    assert [r["outcomes"] for r in reports] == [["ok:model-b"]] * 3
    assert [r.model for r in server.requests].count("model-a") == 1  # only the parent's
    assert max(r["started"] for r in reports) - failed_at < 1.0


def test_redis_killed_mid_run_every_call_still_returns(
    server: StandInServer, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    from llmhub_runtime import LLMHub

    outcomes = []
    with LLMHub(config=chat(server, {"rpm": 1000}, own_redis.url)) as hub:
        for n in range(20):
            if n == 8:
                own_redis.stop()
            outcomes.append(hub.completion("llm.inference", "hi").model)
        assert hub.traffic is not None
        metrics = hub.traffic.metrics
    assert outcomes == ["model-a"] * 20
    assert metrics["state_errors"] >= 1 and metrics["fallback_acquires"] >= 12
    assert any("unavailable" in r.message and "using in-process limits" in r.message for r in caplog.records)


def test_redis_killed_with_fail_closed_raises_typed(server: StandInServer, own_redis: RedisServer) -> None:
    from llmhub_runtime import LLMHub
    from llmhub_runtime.traffic import TrafficStateError

    config = chat(server, {"rpm": 1000}, own_redis.url)
    config["traffic"]["fail"] = "closed"
    with LLMHub(config=config) as hub:
        hub.completion("llm.inference", "hi")
        own_redis.stop()
        for _ in range(3):
            with pytest.raises(TrafficStateError, match=r"unavailable and traffic\.fail is 'closed'; nothing was sent"):
                hub.completion("llm.inference", "hi")
    assert len(server.requests) == 1


def test_a_paused_redis_costs_at_most_its_timeout(server: StandInServer, own_redis: RedisServer) -> None:
    import signal

    from llmhub_runtime import LLMHub

    config = chat(server, {"rpm": 1000}, own_redis.url)
    config["traffic"]["timeout"] = 0.2
    with LLMHub(config=config) as hub:
        hub.completion("llm.inference", "hi")
        own_redis.process.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            for _ in range(5):
                hub.completion("llm.inference", "hi")
            elapsed = time.monotonic() - started
        finally:
            own_redis.process.send_signal(signal.SIGCONT)
    assert elapsed < 2.0  # one 0.2 s timeout, then in-process limits for a second
    assert len(server.requests) == 6
