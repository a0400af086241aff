"""Timing machinery shared by the benchmark sections: the server process, interleaved rounds, stats.

Candidates are measured in rounds: every round shuffles the candidates and runs a short batch
of each, so a slow patch of the machine (or a candidate's background work) is spread over all
of them instead of landing on one. Each batch starts after ``gc.collect()``; garbage a
candidate makes during its own batch stays charged to it.
"""

from __future__ import annotations

import asyncio
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
from typing import Any

__all__ = [
    "Candidate",
    "ServerProcess",
    "Summary",
    "ainterleave",
    "interleave",
    "summarize",
]

HERE = Path(__file__).resolve().parent


@dataclass
class Candidate:
    """One way of doing the measured thing; ``call`` does it once (sync or async)."""

    name: str
    call: Callable[[], Any]
    samples: list[int] = field(default_factory=list)
    """Nanoseconds per call."""


@dataclass(frozen=True)
class Summary:
    """Order statistics of one candidate's samples, in microseconds."""

    n: int
    median: float
    p10: float
    p90: float
    mean: float

    @property
    def spread(self) -> str:
        return f"{self.p10:,.0f}–{self.p90:,.0f}"


def summarize(samples_ns: Sequence[float]) -> Summary:
    """Median, p10, p90 and mean of nanosecond samples, in microseconds."""
    data = sorted(s / 1000 for s in samples_ns)
    if not data:
        return Summary(0, float("nan"), float("nan"), float("nan"), float("nan"))

    def q(p: float) -> float:
        return data[min(len(data) - 1, int(p * len(data)))]

    return Summary(len(data), statistics.median(data), q(0.10), q(0.90), statistics.fmean(data))


def interleave(
    candidates: Sequence[Candidate], n: int, *, batch: int = 25, warmup: int = 20, rng: random.Random
) -> None:
    """Collect ``n`` timed calls of each candidate, in shuffled rounds of ``batch`` calls."""
    for cand in candidates:
        for _ in range(warmup):
            cand.call()
    rounds = -(-n // batch)
    order = list(candidates)
    clock = time.perf_counter_ns
    for _ in range(rounds):
        rng.shuffle(order)
        for cand in order:
            call, samples = cand.call, cand.samples
            gc.collect()
            for _ in range(min(batch, n - len(samples))):
                start = clock()
                call()
                samples.append(clock() - start)


async def ainterleave(
    candidates: Sequence[Candidate], n: int, *, batch: int = 25, warmup: int = 20, rng: random.Random
) -> None:
    """``interleave`` for coroutine functions: each call awaited in turn (per-call latency)."""
    for cand in candidates:
        for _ in range(warmup):
            await cand.call()
    rounds = -(-n // batch)
    order = list(candidates)
    clock = time.perf_counter_ns
    for _ in range(rounds):
        rng.shuffle(order)
        for cand in order:
            call: Callable[[], Awaitable[Any]] = cand.call
            samples = cand.samples
            gc.collect()
            for _ in range(min(batch, n - len(samples))):
                start = clock()
                await call()
                samples.append(clock() - start)


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
        self.proc = subprocess.Popen(
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
        """Server counters, not counting this stats connection itself (reset: peak := open now)."""
        assert self._stats is not None
        self._stats.request("POST" if reset else "GET", "/stats")
        data: dict[str, int] = json.loads(self._stats.getresponse().read())
        data["open"] -= 1
        data["peak"] -= 1
        return data


def run_async(coro: Awaitable[Any]) -> Any:
    """``asyncio.run`` for a section: one loop for the whole section so pooled clients stay valid."""

    async def main() -> Any:
        return await coro

    return asyncio.run(main())
