"""10. The machine under load: sync, async and streamed calls with a CPU-burning neighbour, and without.

A neighbour process spins on the machine's last CPU (its affinity pinned there) while the same
candidates run; each round takes both phases in a shuffled order, burner on and off, so the
"quiet" and "under load" numbers come from the same run, side by side, interleaved. "Quiet" means
no burner of ours: other work on the machine (the header's load average) stays in both phases.
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.candidates import (
    KEY,
    MESSAGES,
    MODEL,
    QUICK_SKIP,
    default_transport,
    load_litellm,
    make_hub,
)
from benchmarks.common import check_chat, ratio, sane, us, x
from benchmarks.harness import Candidate, Check, Ctx, Section
from benchmarks.server import STREAM_CHUNKS

__all__ = ["Burner", "under_load"]

PHASES = ("quiet", "load")
USAGE: Any = {"include_usage": True}

BURN = """
import os, sys, threading
cpus = sorted(os.sched_getaffinity(0))
os.sched_setaffinity(0, {cpus[-1]})
on = threading.Event()
def control():
    for line in sys.stdin:
        (on.set if line.strip() == "1" else on.clear)()
        print("ok", flush=True)
    os._exit(0)
threading.Thread(target=control, daemon=True).start()
print("ready", flush=True)
while True:
    on.wait()
    n = 0
    while on.is_set() and n < 10**9:
        n += 1
"""


class Burner:
    """A CPU-burning neighbour process pinned to the last CPU, switched on and off through its stdin."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", BURN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def set(self, on: bool) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("1\n" if on else "0\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "ok"
        time.sleep(0.05)  # let the scheduler settle

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


@dataclass
class Row:
    """One candidate in one group, with a ``Candidate`` per phase."""

    group: str
    name: str
    call: Callable[[], Any]
    is_async: bool = False
    phases: dict[str, Candidate] = field(default_factory=dict)

    def median(self, phase: str) -> float:
        return self.phases[phase].summary.median


def _first_chunk(make: Callable[[], Any]) -> Callable[[], int]:
    """A call that opens a stream, returns the ns to its first chunk, and reads it to the end."""

    def call() -> int:
        start = time.perf_counter_ns()
        it = iter(make())
        next(it)
        first = time.perf_counter_ns() - start
        for _ in it:
            pass
        return first

    return call


def _rows(ctx: Ctx) -> tuple[list[Row], dict[str, str], list[Callable[[], Any]], asyncio.AbstractEventLoop]:
    import openai

    loop = asyncio.new_event_loop()
    hub, httpx_hub = make_hub(ctx.base), make_hub(ctx.base, transport="httpx")
    raw = openai.OpenAI(api_key=KEY, base_url=ctx.base, max_retries=0)
    araw = openai.AsyncOpenAI(api_key=KEY, base_url=ctx.base, max_retries=0)
    missing: dict[str, str] = {}
    litellm, why = (None, QUICK_SKIP) if ctx.quick else load_litellm()
    transport = default_transport()
    rows = [
        Row("sync", "raw openai.OpenAI (reused)", lambda: raw.chat.completions.create(model=MODEL, messages=MESSAGES)),
        Row("sync", f"llmhub hub.completion ({transport})", lambda: hub.completion("llm.inference", MESSAGES)),
        Row("sync", "llmhub hub.completion, transport: httpx", lambda: httpx_hub.completion("llm.inference", MESSAGES)),
        Row("async", "raw openai.AsyncOpenAI (reused)",
            lambda: araw.chat.completions.create(model=MODEL, messages=MESSAGES), is_async=True),
        Row("async", f"llmhub hub.acompletion ({transport})",
            lambda: hub.acompletion("llm.inference", MESSAGES), is_async=True),
        Row("async", "llmhub hub.acompletion, transport: httpx",
            lambda: httpx_hub.acompletion("llm.inference", MESSAGES), is_async=True),
        Row("stream", "raw openai.OpenAI stream", _first_chunk(lambda: raw.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True, stream_options=USAGE))),
        Row("stream", f"llmhub hub.completion(stream=True) ({transport})",
            _first_chunk(lambda: hub.completion("llm.inference", MESSAGES, stream=True))),
        Row("stream", "llmhub hub.completion(stream=True), transport: httpx",
            _first_chunk(lambda: httpx_hub.completion("llm.inference", MESSAGES, stream=True))),
    ]  # fmt: skip
    if litellm is not None:
        lite = {"model": f"openai/{MODEL}", "messages": MESSAGES, "api_base": ctx.base, "api_key": KEY}
        rows += [
            Row("sync", "litellm.completion", lambda: litellm.completion(**lite)),
            Row("async", "litellm.acompletion", lambda: litellm.acompletion(**lite), is_async=True),
            Row(
                "stream",
                "litellm.completion(stream=True)",
                _first_chunk(lambda: litellm.completion(**lite, stream=True)),
            ),
        ]
    else:
        missing |= {"litellm.completion": why, "litellm.acompletion": why, "litellm.completion(stream=True)": why}

    async def aclose() -> None:
        await hub.aclose()
        await httpx_hub.aclose()
        await araw.close()

    closers: list[Callable[[], Any]] = [
        lambda: loop.run_until_complete(aclose()),
        hub.close,
        httpx_hub.close,
        raw.close,
    ]
    return rows, missing, closers, loop


def _run_batch(row: Row, cand: Candidate, todo: int, loop: asyncio.AbstractEventLoop) -> None:
    clock, cpu_clock = time.perf_counter_ns, time.process_time_ns
    samples = cand.samples
    cpu0, wall0 = cpu_clock(), clock()
    if row.group == "stream":
        for _ in range(todo):
            samples.append(row.call())
    elif row.is_async:

        async def batch() -> None:
            for _ in range(todo):
                start = clock()
                await row.call()
                samples.append(clock() - start)

        loop.run_until_complete(batch())
    else:
        for _ in range(todo):
            start = clock()
            row.call()
            samples.append(clock() - start)
    cand.cpu.append((cpu_clock() - cpu0) / todo)
    cand.spent += (clock() - wall0) / 1e9


def _sane(row: Row, loop: asyncio.AbstractEventLoop, missing: dict[str, str]) -> bool:
    if row.group == "stream":
        return sane(row.name, row.call, lambda first: None, missing)
    if row.is_async:
        return sane(row.name, lambda: loop.run_until_complete(row.call()), check_chat, missing)
    return sane(row.name, row.call, check_chat, missing)


def under_load(ctx: Ctx) -> Section:
    """Sync, async and streamed calls, hub vs raw SDK vs litellm, with and without a CPU-burning neighbour."""
    sec = Section("load", "10. Machine under load: a CPU-burning neighbour on the other core vs quiet, same run")
    if not hasattr(os, "sched_setaffinity"):
        sec.lines = ["n/a: needs os.sched_setaffinity (Linux)"]
        return sec
    rows, missing, closers, loop = _rows(ctx)
    burner = Burner()
    n = {"sync": ctx.n(600, 20), "async": ctx.n(600, 20), "stream": ctx.n(60, 4)}
    batch = {"sync": ctx.n(25, 10), "async": ctx.n(25, 10), "stream": ctx.n(5, 2)}
    budget = ctx.n(30.0, 1.0)
    try:
        rows = [row for row in rows if _sane(row, loop, missing)]
        for row in rows:
            row.phases = {phase: Candidate(f"{row.name} @{phase}", row.call) for phase in PHASES}
            for _ in range(ctx.n(10, 2)):  # warm-up
                _run_batch(row, Candidate("warm", row.call), 1, loop)
        order, phases = list(rows), list(PHASES)
        gc.collect()
        gc.freeze()
        rounds = max(-(-n[g] // batch[g]) for g in n)
        for _ in range(rounds):
            ctx.rng.shuffle(phases)
            for phase in phases:
                burner.set(phase == "load")
                ctx.rng.shuffle(order)
                for row in order:
                    cand = row.phases[phase]
                    todo = min(batch[row.group], n[row.group] - len(cand.samples))
                    if todo > 0 and cand.spent < budget:
                        gc.collect()
                        _run_batch(row, cand, todo, loop)
        burner.set(False)
    finally:
        gc.unfreeze()
        burner.close()
        for close in closers:
            close()
        loop.close()
    _report(sec, rows, missing)
    return sec


def _report(sec: Section, rows: list[Row], missing: dict[str, str]) -> None:
    transport = default_transport()
    firsts = {"sync": "raw openai.OpenAI (reused)", "async": "raw openai.AsyncOpenAI (reused)",
              "stream": "raw openai.OpenAI stream"}  # fmt: skip
    by_name = {row.name: row for row in rows}
    sec.lines = [
        "| group | candidate | n quiet / load | median µs quiet | median µs under load | load / quiet "
        "| x raw quiet | x raw under load | CPU µs/call quiet / load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        raw = by_name.get(firsts[row.group])
        q, ld = row.median("quiet"), row.median("load")
        rq = raw.median("quiet") if raw else math.nan
        rl = raw.median("load") if raw else math.nan
        cq, cl = row.phases["quiet"].cpu_us, row.phases["load"].cpu_us
        sec.lines.append(
            f"| {row.group} | {row.name} | {row.phases['quiet'].summary.n} / {row.phases['load'].summary.n} "
            f"| {us(q)} | {us(ld)} | {x(ratio(ld, q))} | {x(ratio(q, rq))} | {x(ratio(ld, rl))} "
            f"| {us(cq)} / {us(cl)} |"
        )
    for name, reason in missing.items():
        sec.lines.append(f"| | {name} | n/a | n/a | n/a | | | | |  ← {reason}")

    def pair(group: str, hub_name: str) -> tuple[Row | None, Row | None]:
        return by_name.get(firsts[group]), by_name.get(hub_name)

    targets = (
        ("sync", f"llmhub hub.completion ({transport})", 1.3, "sync: hub ≤ 1.3x raw reused openai.OpenAI"),
        ("async", f"llmhub hub.acompletion ({transport})", 1.05,
         "async, one at a time: hub at par (≤ 1.05x) with raw reused AsyncOpenAI"),
        ("stream", f"llmhub hub.completion(stream=True) ({transport})", 1.5,
         "sync stream: hub first chunk ≤ 1.5x raw openai.OpenAI"),
    )  # fmt: skip
    for group, hub_name, limit, label in targets:
        raw, hub = pair(group, hub_name)
        for phase, where in (("quiet", "quiet"), ("load", "under load")):
            r = ratio(hub.median(phase), raw.median(phase)) if raw and hub else math.nan
            ok = None if math.isnan(r) else r <= limit
            sec.checks.append(Check(f"{label}, {where}", f"{r:.3f}x (median)" if ok is not None else "n/a",
                                    f"≤ {limit:.2f}x", ok))  # fmt: skip
    sec.notes.append(
        f"The burner is a Python process spinning on the machine's last CPU (affinity pinned; this machine has "
        f"{os.cpu_count()}); the client, the loopback server and any-llm's runner thread may run anywhere. Each "
        "round runs both phases in a shuffled order (burner on: 'under load'; off: 'quiet'), candidates shuffled "
        "within a phase. 'quiet' still includes whatever else runs on the machine (see the load average)."
    )
    sec.notes.append(
        f"Rows marked ({transport}) are the hub on its default transport (`transport: auto`); the rows with "
        "`transport: httpx` are the same hub opting out, i.e. the transport every hub used before. 'stream' "
        f"rows time the first chunk of a {STREAM_CHUNKS}-chunk answer (the stream is then read to its end). "
        "Async rows are one call at a time on one event loop."
    )
    sec.data = {
        row.name: {phase: {"n": c.summary.n, "median_us": c.summary.median, "p10_us": c.summary.p10,
                           "p90_us": c.summary.p90, "cpu_us": c.cpu_us} for phase, c in row.phases.items()}
        for row in rows
    }  # fmt: skip
