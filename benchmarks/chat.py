"""Chat sections: 1. sync per-call latency, 2. async throughput (+ 9. connections), 7. reliability."""

from __future__ import annotations

import asyncio
import gc
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks.candidates import (
    AIOHTTP,
    AIOHTTP_100,
    MESSAGES,
    PROPOSAL,
    async_chat,
    chat_content,
    close_thread_loop,
    default_transport,
    make_hub,
    on_thread_loop,
    sync_chat,
)
from benchmarks.common import (
    ANY_ASYNC,
    ANY_SYNC,
    HUB_ASYNC,
    HUB_SYNC,
    RAW_ASYNC,
    RAW_SYNC,
    TOP_SYNC,
    check_chat,
    latency_table,
    le,
    median_of,
    ratio,
    raw_data,
    sane,
    us,
    why,
    x,
)
from benchmarks.harness import Candidate, Check, Ctx, Section, ainterleave, interleave
from benchmarks.server import REPLY_TEXT

__all__ = ["async_throughput", "reliability", "sync_latency"]

BRIDGE = "ref: AsyncOpenAI via any-llm sync runner"


def sync_latency(ctx: Ctx) -> Section:
    """hub.completion vs raw OpenAI, a reused AnyLLM, top-level any_llm.completion, litellm."""
    sec = Section("sync", "1. Sync per-call latency (chat, JSON answer)")
    hub = make_hub(ctx.base)
    alt_hub = make_hub(ctx.base, transport="httpx")
    closers: list[Callable[[], Any]] = []
    try:
        calls, missing, closers = sync_chat(ctx.base, hub, alt_hub, quick=ctx.quick)
        cands = [Candidate(n, c) for n, c in calls.items() if sane(n, c, check_chat, missing)]
        n = ctx.n(2000, 40)
        interleave(cands, n, batch=ctx.n(25, 10), warmup=ctx.n(30, 3), budget=ctx.n(75.0, 1.5), rng=ctx.rng)
    finally:
        on_thread_loop(hub.aclose())  # closes the per-thread loop's client there, the others on their loops
        for close in (*([alt_hub.close] if alt_hub else []), *closers):
            close()
        close_thread_loop()
    sec.lines = latency_table(cands, missing, [("raw", RAW_SYNC), ("any-llm instance", ANY_SYNC)])
    hub_m, any_m, raw_m = median_of(cands, HUB_SYNC), median_of(cands, ANY_SYNC), median_of(cands, RAW_SYNC)
    sec.checks = [
        le("sync: hub ≤ 1.05x reused AnyLLM instance", hub_m, any_m, 1.05, "median"),
        le("sync: hub ≤ 1.3x raw reused openai.OpenAI", hub_m, raw_m, 1.3, "median"),
        le("sync: hub ahead of top-level any_llm.completion", hub_m, median_of(cands, TOP_SYNC), 1.0, "median"),
        le("sync: hub ahead of litellm.completion", hub_m, median_of(cands, "litellm.completion"), 1.0, "median"),
    ]
    bridge = median_of(cands, BRIDGE)
    if not math.isnan(bridge):
        sec.notes.append(
            f"Where the sync time goes (medians): raw sync client {us(raw_m)} µs → the same request through "
            f"AsyncOpenAI on any-llm's sync runner thread {us(bridge)} µs (+{us(bridge - raw_m)}: the async "
            f"httpx/anyio stack and the thread hop) → AnyLLM instance {us(any_m)} µs (+{us(any_m - bridge)}: "
            f"any-llm's conversions) → hub {us(hub_m)} µs (+{us(hub_m - any_m)}: llmhub's own layer)."
        )
    proposal = median_of(cands, PROPOSAL)
    if not math.isnan(proposal):
        sec.notes.append(
            f"'{PROPOSAL}' runs `hub.acompletion` with `loop.run_until_complete` on an event loop owned by the "
            f"calling thread, i.e. without the hop to any-llm's runner thread: {us(proposal)} µs "
            f"({x(ratio(proposal, raw_m))} raw). The hop is not where the time goes; the async stack is."
        )
    aio = median_of(cands, AIOHTTP)
    if not math.isnan(aio):
        sec.notes.append(
            f"'{HUB_SYNC}' is the hub on its default transport (`transport: auto` = {default_transport()} here); "
            f"'{AIOHTTP}' the same hub opting out to httpx, as every hub was before `auto`: {us(aio)} µs, "
            f"{x(ratio(aio, raw_m))} raw, vs {x(ratio(hub_m, raw_m))} raw on the default."
        )
    sec.data = raw_data(cands)
    return sec


async def _concurrent_rounds(
    ctx: Ctx, calls: dict[str, Callable[[], Any]], concurrency: int, rounds: int, errors: dict[str, str]
) -> dict[str, dict[str, list[float]]]:
    """One warm-up and ``rounds`` timed rounds of ``concurrency`` calls at once per candidate.

    The order is shuffled once and then rotated by one each round, so no candidate ever runs two
    bursts back to back: every burst starts with the pool its own previous burst left, aged by the
    other candidates' bursts (past httpx's 5 s keep-alive expiry). A client bursting right after
    itself finds 100 kept-alive sockets and runs its pool's slow path, which shuffling alone would
    hand to whichever candidate the seed puts last-then-first.
    """
    results: dict[str, dict[str, list[float]]] = {
        name: {"wall": [], "cpu": [], "peak": [], "before": [], "accepted": [], "used": [], "gc": [], "failed": []}
        for name in calls
    }
    gc_clock = _GcClock()
    base = list(calls)
    ctx.rng.shuffle(base)
    for index, warm in enumerate((True, *([False] * rounds))):
        shift = index % len(base) if base else 0
        for name in base[shift:] + base[:shift]:
            call = calls[name]
            gc.collect()
            before = ctx.server.stats(reset=True)["open"]
            cpu0, wall0 = time.process_time_ns(), time.perf_counter_ns()
            with gc_clock:
                answers = await asyncio.gather(*(call() for _ in range(concurrency)), return_exceptions=True)
            wall, cpu = time.perf_counter_ns() - wall0, time.process_time_ns() - cpu0
            stats = ctx.server.stats()
            failed = [a for a in answers if isinstance(a, BaseException)]
            good = [a for a in answers if not isinstance(a, BaseException)]
            assert len(answers) == concurrency and (not good or chat_content(good[-1]) == REPLY_TEXT)
            if failed:  # counted and shown, not a crash: a burst on a loaded machine can time out
                errors.setdefault(name, f"{type(failed[0]).__name__}: {failed[0]}".splitlines()[0][:160])
            if not warm:
                rec = results[name]
                rec["wall"].append(wall / 1e6)
                rec["cpu"].append(cpu / concurrency / 1000)
                rec["peak"].append(stats["peak"])
                rec["before"].append(before)
                rec["accepted"].append(stats["accepted"])
                rec["used"].append(stats["used"])
                rec["gc"].append(gc_clock.seconds * 1000)
                rec["failed"].append(len(failed))
    return results


class _GcClock:
    """Time spent in the garbage collector while the ``with`` block runs (through ``gc.callbacks``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> _GcClock:
        self.seconds = 0.0
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def async_throughput(ctx: Ctx) -> Section:
    """``concurrency`` requests at once through each async candidate, in shuffled rounds."""
    concurrency = ctx.n(1000, 100)
    rounds = ctx.n(6, 1)
    sec = Section("async", f"2. Async throughput, {concurrency} concurrent requests (+ 9. open connections)")
    missing: dict[str, str] = {}
    sequential: list[Candidate] = []

    async def body() -> dict[str, dict[str, list[float]]]:
        hub, alt_hub = make_hub(ctx.base), make_hub(ctx.base, transport="httpx")
        alt_hub_100 = make_hub(ctx.base, max_connections=100)
        calls, miss, closers = async_chat(ctx.base, hub, alt_hub, alt_hub_100, quick=ctx.quick)
        missing.update(miss)
        good: dict[str, Callable[[], Any]] = {}
        for name, call in calls.items():
            try:
                check_chat(await call())
                good[name] = call
            except Exception as exc:
                missing[name] = why(exc)
        try:
            bursts = await _concurrent_rounds(ctx, good, concurrency, rounds, burst_errors)
        finally:
            for hub_ in (hub, alt_hub, alt_hub_100):
                if hub_ is not None:
                    await hub_.aclose()
            for close in closers:
                await close()
        # fresh clients: a pool a burst has just used takes a while to settle
        one_hub = make_hub(ctx.base)
        one_calls, _, one_closers = async_chat(ctx.base, one_hub, None, quick=True)
        try:
            sequential.extend(Candidate(name, one_calls[name]) for name in (RAW_ASYNC, HUB_ASYNC, ANY_ASYNC))
            n = ctx.n(1000, 30)
            await ainterleave(sequential, n, batch=ctx.n(25, 10), warmup=ctx.n(20, 2), budget=ctx.n(20.0, 1.5),
                              rng=ctx.rng)  # fmt: skip
        finally:
            await one_hub.aclose()
            for close in one_closers:
                await close()
        return bursts

    burst_errors: dict[str, str] = {}
    gc.freeze()  # the SDKs' own objects stay out of each round's collections
    try:
        results = asyncio.run(body())
    finally:
        gc.unfreeze()
    limits = _pool_limits()
    med = {name: statistics.median(rec["wall"]) for name, rec in results.items()}
    sec.lines = [
        f"| candidate | rounds | median ms per {concurrency} | min-max ms | of which GC ms | requests/s "
        "| CPU µs/request | x raw | x any-llm instance | connections used (max) | new connections per round "
        "| open on server before / peak | failed calls (max per round) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rec in results.items():
        sec.lines.append(
            f"| {name} | {len(rec['wall'])} | {us(med[name])} | {us(min(rec['wall']))}-{us(max(rec['wall']))} | "
            f"{us(statistics.median(rec['gc']))} | {us(concurrency / med[name] * 1000)} | "
            f"{us(statistics.median(rec['cpu']))} | {x(ratio(med[name], med.get(RAW_ASYNC, math.nan)))} | "
            f"{x(ratio(med[name], med.get(ANY_ASYNC, math.nan)))} | {max(rec['used'])} | "
            f"{statistics.median(rec['accepted']):.0f} | {max(rec['before'])} / {max(rec['peak'])} | "
            f"{max(rec['failed'], default=0):.0f} |"
        )
    for name, reason in missing.items():
        sec.lines.append(f"| {name} |" + " n/a |" * 12 + f"  ← {reason}")
    for name, first in burst_errors.items():
        sec.notes.append(f"'{name}': calls failed in some bursts (counted above; first: `{first}`).")
    hub_m, any_m, raw_m = (med.get(k, math.nan) for k in (HUB_ASYNC, ANY_ASYNC, RAW_ASYNC))
    what = f"median wall per {concurrency}"
    s_hub, s_any, s_raw = (median_of(sequential, k) for k in (HUB_ASYNC, ANY_ASYNC, RAW_ASYNC))
    sec.checks = [
        le(f"async, {concurrency} at once: hub ≤ 1.05x reused AnyLLM instance", hub_m, any_m, 1.05, what),
        le("async, one at a time: hub ≤ 1.05x reused AnyLLM instance", s_hub, s_any, 1.05, "median latency"),
        le(f"async, {concurrency} at once: hub ≤ 1.5x raw reused AsyncOpenAI", hub_m, raw_m, 1.5, what),
        le("async, one at a time: hub ≤ 1.5x raw reused AsyncOpenAI", s_hub, s_raw, 1.5, "median latency"),
        le(f"async, {concurrency} at once: hub ahead of litellm.acompletion", hub_m,
           med.get("litellm.acompletion", math.nan), 1.0, what),
    ]  # fmt: skip
    sec.lines += [
        "",
        "The same clients one request at a time (per-call latency, interleaved rounds):",
        "",
        *latency_table(sequential, {}, [("raw", RAW_ASYNC), ("any-llm instance", ANY_ASYNC)]),
    ]
    if HUB_ASYNC in results:
        rec = results[HUB_ASYNC]
        used = max(rec["used"])
        sec.checks.append(
            Check(
                f"{concurrency} concurrent hub calls keep open connections bounded",
                f"{used} connections used at most per round",
                f"≤ pool limit {limits['max_connections']}",
                used <= limits["max_connections"],
            )
        )
    sec.notes.append(
        "Pool limits of the openai SDK's client (the raw client, any-llm and so the hub use them): "
        f"max_connections={limits['max_connections']}, max_keepalive_connections={limits['max_keepalive']}. "
        "Counted by the server per round: connections used = distinct sockets that carried a request (an upper "
        "bound on the candidate's sockets open at once); new connections = sockets accepted during the round "
        "(after the warm-up round); open before / peak = every socket open on the server, idle pools of the "
        "other candidates and earlier sections included."
    )
    aio = med.get(AIOHTTP, math.nan)
    if not math.isnan(aio):
        sec.notes.append(
            f"'{HUB_ASYNC}' is on the default transport ({default_transport()} here), '{AIOHTTP}' on httpx: "
            f"{x(ratio(hub_m, raw_m))} vs {x(ratio(aio, raw_m))} raw httpx AsyncOpenAI. httpx keeps at most "
            f"max_keepalive_connections idle sockets, so each burst of {concurrency} reconnects the rest; aiohttp "
            "keeps them, and its per-request cost is lower."
        )
    aio100 = med.get(AIOHTTP_100, math.nan)
    if not math.isnan(aio100):
        used100 = max(results[AIOHTTP_100]["used"])
        sec.notes.append(
            f"'{AIOHTTP_100}' (`client_args: {{http_client: <llmhub's aiohttp client>(limits=...)}}`): "
            f"{x(ratio(aio100, raw_m))} raw, on {used100} connections: aiohttp queues the "
            "requests beyond its pool cheaply (httpx with a 100-connection pool makes a burst of 1000 several "
            "times slower, which is why the SDK's default limit of 1000 is what bounds the hub today)."
        )
    sec.data = {name: {**rec, "median_ms": med[name]} for name, rec in results.items()} | {"limits": limits}
    sec.data["sequential"] = raw_data(sequential)
    sec.notes.append(
        f"A burst of {concurrency} through httpx's pool depends on the state the pool is in: right after its own "
        "burst (100 kept-alive sockets) it is far slower than once those expired. So the burst order is "
        "shuffled once and then rotated: no client bursts twice in a row. The one-at-a-time table uses fresh "
        "clients and compares the layers without the pool in the way. GC ms: the collector's time in the burst."
    )
    return sec


def _pool_limits() -> dict[str, int]:
    from openai._constants import DEFAULT_CONNECTION_LIMITS as limits

    return {"max_connections": limits.max_connections or 0, "max_keepalive": limits.max_keepalive_connections or 0}


class _NoopHook:
    def on_start(self, event: Any) -> None:
        pass

    def on_end(self, event: Any) -> None:
        pass


def reliability(ctx: Ctx) -> Section:
    """A role with retries + two fallbacks configured but not triggered vs a plain role (and a hook)."""
    sec = Section("reliability", "7. Reliability overhead: retries/fallbacks configured, not triggered")
    hub = make_hub(ctx.base)
    hooked = make_hub(ctx.base, hooks=[_NoopHook()])
    calls: dict[str, Callable[[], Any]] = {
        "hub, plain role": lambda: hub.completion("llm.inference", MESSAGES),
        "hub, role with retry(3) + 2 fallbacks": lambda: hub.completion("llm.reliable", MESSAGES),
        "hub with a no-op hook, plain role": lambda: hooked.completion("llm.inference", MESSAGES),
    }
    missing: dict[str, str] = {}
    try:
        cands = [Candidate(k, c) for k, c in calls.items() if sane(k, c, check_chat, missing)]
        n = ctx.n(2000, 40)
        interleave(cands, n, batch=ctx.n(25, 10), warmup=ctx.n(30, 3), budget=ctx.n(30.0, 1.5), rng=ctx.rng)
    finally:
        hub.close()
        hooked.close()
    sec.lines = latency_table(cands, missing, [("plain role", "hub, plain role")])
    plain = median_of(cands, "hub, plain role")
    reliable = median_of(cands, "hub, role with retry(3) + 2 fallbacks")
    hook = median_of(cands, "hub with a no-op hook, plain role")
    sec.notes.append(
        f"Configured-but-untriggered retries/fallbacks: {reliable - plain:+,.0f} µs per call "
        f"({x(ratio(reliable, plain))}); a no-op hook: {hook - plain:+,.0f} µs ({x(ratio(hook, plain))}). "
        "No target was set for these; reported only."
    )
    sec.data = raw_data(cands)
    return sec
