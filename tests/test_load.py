"""Load: 500 concurrent async calls and 32 threads x 50 sync calls on one hub, 5% injected failures.

Every call returns or raises a typed llmhub error, none hangs, connections stay bounded, and no
API key appears in anything captured along the way (logs, errors, reprs, hook events).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmhub_runtime import CallEvent, LLMHub, LLMHubError
from llmhub_runtime.testing import Fault, RecordedRequest, StandInServer
from llmhub_runtime.testing.timer import FakeTimer

SECRET = "sk-llmhub-LOAD-SECRET-9876543210"


class Capture:
    """A thread-safe hook keeping the repr of every event."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.texts: list[str] = []
        self.ends = 0

    def on_end(self, event: CallEvent) -> None:
        with self.lock:
            self.ends += 1
            self.texts.append(repr(event))

    def on_error(self, event: CallEvent) -> None:
        with self.lock:
            self.texts.append(repr(event))


def every_twentieth_fails() -> Callable[[RecordedRequest], Fault | None]:
    counter = itertools.count(1)
    lock = threading.Lock()

    def script(request: RecordedRequest) -> Fault | None:
        with lock:
            n = next(counter)
        if n % 20 == 0:
            return Fault(status=503) if n % 40 else Fault(status=429, headers={"Retry-After": "0"})
        return None

    return script


def established_to(port: int) -> int:
    """Client-side sockets of this process connected to ``port`` (from /proc/net/tcp)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01":
                count += 1
    return count


@pytest.mark.timeout(300)
def test_load_with_failures_and_fallbacks(
    server: StandInServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LLMHUB_LOAD_KEY", SECRET)
    cfg = server.chat_config()
    cfg["providers"]["standin"]["env_key"] = "LLMHUB_LOAD_KEY"
    cfg["roles"]["llm.inference"].update(
        model="load-primary",
        retry={"max_attempts": 2, "backoff": 0.01},
        fallbacks=[{"provider": "standin", "model": "load-backup"}],
    )
    server.script("load-primary", every_twentieth_fails())
    server.script("load-backup", every_twentieth_fails())
    capture = Capture()
    hub = LLMHub(config=cfg, hooks=[capture], timer=FakeTimer())
    outcomes: list[str] = []
    lock = threading.Lock()
    peak = [0]

    def record(outcome: str) -> None:
        with lock:
            outcomes.append(outcome)

    async def one(i: int) -> None:
        try:
            response = await hub.acompletion("llm.inference", f"async {i}")
            record("ok" if response.choices[0].message.content else "empty")
        except LLMHubError as error:
            record(type(error).__name__)
            capture.texts.append(str(error))

    async def burst() -> None:
        tasks = [asyncio.create_task(one(i)) for i in range(500)]
        while not all(t.done() for t in tasks):
            peak[0] = max(peak[0], established_to(server.port))
            await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
        await hub.aclose()

    with caplog.at_level(logging.DEBUG):
        asyncio.run(burst())
        hub = LLMHub(config=cfg, hooks=[capture], timer=FakeTimer())

        def worker(n: int) -> None:
            for i in range(50):
                try:
                    hub.completion("llm.inference", f"sync {n} {i}")
                    record("ok")
                except LLMHubError as error:
                    record(type(error).__name__)
                    capture.texts.append(str(error))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads), "a sync call hung"
        peak[0] = max(peak[0], established_to(server.port))
        hub.close()

    assert len(outcomes) == 500 + 32 * 50
    assert set(outcomes) <= {"ok", "AllTargetsFailedError"}
    assert outcomes.count("ok") >= 0.99 * len(outcomes)
    assert capture.ends == outcomes.count("ok")
    assert 0 < peak[0] <= 540, f"peak open connections {peak[0]}"
    texts: list[Any] = [*capture.texts, caplog.text, repr(hub)]
    assert not [t for t in texts if SECRET in t]
    assert server.requests and all(r.headers["authorization"] == f"Bearer {SECRET}" for r in server.requests[:5])
