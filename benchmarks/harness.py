"""Timing machinery shared by the benchmark sections: the server process, interleaved rounds, stats.

Candidates are measured in rounds: every round shuffles the candidates and runs a short batch
of each, so a slow patch of the machine (or a candidate's background work) is spread over all
of them instead of landing on one. Each batch starts after ``gc.collect()``; garbage a
candidate makes during its own batch stays charged to it; what exists after the warm-up
(modules, clients) is frozen (``gc.freeze()``) so those collections stay cheap. Besides wall time per call, each
batch records the process CPU time it used (all threads: any-llm's sync API runs calls on its own
runner thread), which other processes on the machine disturb much less than wall time.
"""

from __future__ import annotations

import gc
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "Candidate",
    "Check",
    "Ctx",
    "Section",
    "ServerProcess",
    "Summary",
    "ainterleave",
    "interleave",
    "summarize",
]

HERE = Path(__file__).resolve().parent
N = TypeVar("N", int, float)


@dataclass
class Candidate:
    """One way of doing the measured thing; ``call`` does it once (sync or async)."""

    name: str
    call: Callable[[], Any]
    samples: list[int] = field(default_factory=list)
    """Wall nanoseconds per call."""
    cpu: list[float] = field(default_factory=list)
    """Process CPU nanoseconds per call, one value per batch."""
    spent: float = 0.0
    """Seconds of measured calls so far (for the time budget)."""

    @property
    def summary(self) -> Summary:
        return summarize(self.samples)

    @property
    def cpu_us(self) -> float:
        """Median over batches of CPU microseconds per call."""
        return statistics.median(self.cpu) / 1000 if self.cpu else float("nan")


@dataclass(frozen=True)
class Summary:
    """Order statistics of one candidate's samples, in microseconds."""

    n: int
    median: float
    p10: float
    p90: float

    @property
    def spread(self) -> str:
        return f"{self.p10:,.0f}-{self.p90:,.0f}"


def summarize(samples_ns: Sequence[float]) -> Summary:
    """Median, p10 and p90 of nanosecond samples, in microseconds."""
    data = sorted(s / 1000 for s in samples_ns)
    if not data:
        return Summary(0, float("nan"), float("nan"), float("nan"))

    def q(p: float) -> float:
        return data[min(len(data) - 1, int(p * len(data)))]

    return Summary(len(data), statistics.median(data), q(0.10), q(0.90))


def interleave(
    candidates: Sequence[Candidate],
    n: int,
    *,
    batch: int = 25,
    warmup: int = 20,
    budget: float = 60.0,
    rng: random.Random,
) -> None:
    """Collect ``n`` timed calls of each candidate in shuffled rounds of ``batch`` calls.

    A candidate stops early once its measured calls have taken ``budget`` seconds (its ``n``
    is then smaller; the table shows it).
    """
    for cand in candidates:
        for _ in range(warmup):
            cand.call()
    order = list(candidates)
    clock, cpu_clock = time.perf_counter_ns, time.process_time_ns
    gc.collect()
    gc.freeze()  # what exists now (modules, clients) is left out of every later collection
    try:
        for _ in range(-(-n // batch)):
            rng.shuffle(order)
            for cand in order:
                todo = min(batch, n - len(cand.samples))
                if todo <= 0 or cand.spent >= budget:
                    continue
                call, samples = cand.call, cand.samples
                gc.collect()
                cpu0, wall0 = cpu_clock(), clock()
                for _ in range(todo):
                    start = clock()
                    call()
                    samples.append(clock() - start)
                cand.cpu.append((cpu_clock() - cpu0) / todo)
                cand.spent += (clock() - wall0) / 1e9
    finally:
        gc.unfreeze()


async def ainterleave(
    candidates: Sequence[Candidate],
    n: int,
    *,
    batch: int = 25,
    warmup: int = 20,
    budget: float = 60.0,
    rng: random.Random,
) -> None:
    """``interleave`` for coroutine functions, each call awaited in turn (per-call latency)."""
    for cand in candidates:
        for _ in range(warmup):
            await cand.call()
    order = list(candidates)
    clock, cpu_clock = time.perf_counter_ns, time.process_time_ns
    gc.collect()
    gc.freeze()
    try:
        for _ in range(-(-n // batch)):
            rng.shuffle(order)
            for cand in order:
                todo = min(batch, n - len(cand.samples))
                if todo <= 0 or cand.spent >= budget:
                    continue
                call: Callable[[], Awaitable[Any]] = cand.call
                samples = cand.samples
                gc.collect()
                cpu0, wall0 = cpu_clock(), clock()
                for _ in range(todo):
                    start = clock()
                    await call()
                    samples.append(clock() - start)
                cand.cpu.append((cpu_clock() - cpu0) / todo)
                cand.spent += (clock() - wall0) / 1e9
    finally:
        gc.unfreeze()


@dataclass
class Check:
    """One target: what was measured against what limit. ``ok`` None means not measured."""

    target: str
    measured: str
    limit: str
    ok: bool | None

    @property
    def verdict(self) -> str:
        return "n/a" if self.ok is None else ("PASS" if self.ok else "FAIL")


@dataclass
class Section:
    """What one section hands the report: markdown lines, checks, notes and raw numbers."""

    key: str
    title: str
    lines: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Ctx:
    """What every section gets: the server, the mode, the seeded RNG."""

    server: ServerProcess
    quick: bool
    rng: random.Random

    @property
    def base(self) -> str:
        return self.server.base

    def n(self, full: N, quick: N) -> N:
        """``full`` normally, ``quick`` with ``--quick``."""
        return quick if self.quick else full


class ServerProcess:
    """``benchmarks/server.py`` in a subprocess (its own GIL), with its connection counters."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._stats: http.client.HTTPConnection | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> ServerProcess:
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(HERE / "server.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "PORT":
            self.__exit__()
            raise RuntimeError(f"benchmark server did not start (said {line!r})")
        self.port = int(line[1])
        self._stats = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stats is not None:
            self._stats.close()
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(timeout=10)

    def stats(self, *, reset: bool = False) -> dict[str, int]:
        """Server counters, not counting this stats connection (reset: peak := open now, accepted := 0)."""
        assert self._stats is not None
        self._stats.request("POST" if reset else "GET", "/stats")
        data: dict[str, int] = json.loads(self._stats.getresponse().read())
        data["open"] -= 1
        data["peak"] -= 1
        data["used"] = max(0, data.get("used", 0) - 1)  # this stats request itself
        return data
