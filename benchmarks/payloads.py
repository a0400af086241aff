"""Bigger answers: 3. streaming (time to first chunk, total) and 4. an embeddings batch of 256."""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.candidates import (
    AIOHTTP,
    EMBED_MODEL,
    KEY,
    MESSAGES,
    MODEL,
    NO_AIOHTTP,
    TEXTS,
    anyllm_close,
    close_thread_loop,
    iter_on_thread_loop,
    make_hub,
    on_thread_loop,
)
from benchmarks.common import latency_table, median_of, ratio, raw_data, sane, us, why, x
from benchmarks.harness import Candidate, Ctx, Section, ainterleave, interleave
from benchmarks.server import EMBED_DIMS, STREAM_CHUNKS

__all__ = ["embeddings", "streaming"]

RAW_STREAM = "raw openai.OpenAI stream"
HUB_STREAM = "llmhub hub.completion(stream=True)"
ANY_STREAM = "any-llm AnyLLM instance stream"
THREAD_STREAM = "proposal: hub.acompletion(stream) on a per-thread loop"
ARAW_STREAM = "raw openai.AsyncOpenAI stream"
USAGE: Any = {"include_usage": True}


def _count(chunk: Any, state: list[Any]) -> None:
    state[0] += bool(chunk.choices and chunk.choices[0].delta.content)
    state[1] = chunk.usage or state[1]


def streaming(ctx: Ctx) -> Section:
    """Time to first chunk and total for a streamed answer: hub vs the raw client (sync and async)."""
    import openai
    from any_llm import AnyLLM
    from any_llm.utils.aio import run_async_in_sync

    sec = Section("stream", f"3. Streaming: {STREAM_CHUNKS}-chunk answer, time to first chunk and total")
    n = ctx.n(150, 8)
    hub, alt_hub = make_hub(ctx.base), make_hub(ctx.base, transport="httpx")
    raw = openai.OpenAI(api_key=KEY, base_url=ctx.base, max_retries=0)
    instance = AnyLLM.create("openai", api_key=KEY, api_base=ctx.base)
    makers: dict[str, Callable[[], Any]] = {
        RAW_STREAM: lambda: raw.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            stream=True,
            stream_options=USAGE,
        ),
        HUB_STREAM: lambda: hub.completion("llm.inference", MESSAGES, stream=True),
        ANY_STREAM: lambda: instance.completion(model=MODEL, messages=MESSAGES, stream=True, stream_options=USAGE),
        THREAD_STREAM: lambda: iter_on_thread_loop(hub.acompletion("llm.inference", MESSAGES, stream=True)),
    }
    missing: dict[str, str] = {}
    if alt_hub is not None:
        makers[f"{AIOHTTP} (stream)"] = lambda: alt_hub.completion("llm.inference", MESSAGES, stream=True)
    else:
        missing[f"{AIOHTTP} (stream)"] = NO_AIOHTTP
    firsts: dict[str, list[int]] = {}

    def timed(name: str, make: Callable[[], Any]) -> Callable[[], None]:
        sink = firsts.setdefault(name, [])

        def call() -> None:
            start = time.perf_counter_ns()
            it = iter(make())
            next(it)
            sink.append(time.perf_counter_ns() - start)
            for _ in it:
                pass

        return call

    def check_stream(make: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            state: list[Any] = [0, None]
            for chunk in make():
                _count(chunk, state)
            assert state[0] == STREAM_CHUNKS and state[1] is not None, state

        return run

    try:
        cands = [
            Candidate(name, timed(name, make))
            for name, make in makers.items()
            if sane(name, check_stream(make), lambda _: None, missing)
        ]
        interleave(cands, n, batch=ctx.n(10, 4), warmup=ctx.n(5, 1), budget=ctx.n(25.0, 1.5), rng=ctx.rng)
    finally:
        on_thread_loop(hub.aclose())  # closes the per-thread loop's client there, the others on their loops
        if alt_hub is not None:
            alt_hub.close()
        raw.close()
        run_async_in_sync(anyllm_close(instance)())
        close_thread_loop()

    acands, afirsts, amissing = asyncio.run(_astreams(ctx, n))
    sec.lines = [
        "| candidate | n | first chunk µs (median) | total µs (median) | total p10-p90 µs | CPU µs/stream "
        "| first x raw | total x raw |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for group, fmap, raw_name, miss in (
        (cands, firsts, RAW_STREAM, missing),
        (acands, afirsts, ARAW_STREAM, amissing),
    ):
        raw_first = statistics.median(fmap[raw_name]) if fmap.get(raw_name) else math.nan
        raw_total = median_of(group, raw_name)
        for cand in group:
            timed_firsts = fmap.get(cand.name, [])[-len(cand.samples) :]
            first = statistics.median(timed_firsts) if timed_firsts else math.nan
            s = cand.summary
            sec.lines.append(
                f"| {cand.name} | {s.n} | {us(first / 1000)} | {us(s.median)} | {s.spread} | {us(cand.cpu_us)} | "
                f"{x(ratio(first, raw_first))} | {x(ratio(s.median, raw_total))} |"
            )
            sec.data[cand.name] = {"first_us": first / 1000, "total_us": s.median, "cpu_us": cand.cpu_us, "n": s.n}
        for name, reason in miss.items():
            sec.lines.append(f"| {name} | n/a | n/a | n/a | | | n/a | n/a |  ← {reason}")
    hub_first = sec.data.get(HUB_STREAM, {}).get("first_us", math.nan)
    any_first = sec.data.get(ANY_STREAM, {}).get("first_us", math.nan)
    sec.notes.append(
        f"The server sends {STREAM_CHUNKS} content chunks + a finish chunk + a usage chunk in one write, so 'total' "
        "is the client's cost of parsing and handing over every chunk. A sync stream through any-llm's own bridge "
        f"(AnyLLM instance: {us(any_first)} µs to the first chunk) gets its first chunk late: any-llm's runner thread "
        "reads ahead through the already-buffered chunks and holds the GIL for up to a switch interval (5 ms) "
        "before the caller's thread takes the first one. The hub's sync stream uses llmhub's own bridge "
        f"(`llmhub_runtime/sync_stream.py`, first chunk {us(hub_first)} µs): one task on the same runner loop "
        "hands the first chunk over and idles until the caller asks for more, then reads the rest as it arrives."
    )
    return sec


async def _astreams(ctx: Ctx, n: int) -> tuple[list[Candidate], dict[str, list[int]], dict[str, str]]:
    import openai
    from any_llm import AnyLLM

    hub = make_hub(ctx.base)
    raw = openai.AsyncOpenAI(api_key=KEY, base_url=ctx.base, max_retries=0)
    instance = AnyLLM.create("openai", api_key=KEY, api_base=ctx.base)
    makers: dict[str, Callable[[], Awaitable[Any]]] = {
        ARAW_STREAM: lambda: raw.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            stream=True,
            stream_options=USAGE,
        ),
        "llmhub hub.acompletion(stream=True)": lambda: hub.acompletion("llm.inference", MESSAGES, stream=True),
        "any-llm AnyLLM instance astream": lambda: instance.acompletion(
            model=MODEL, messages=MESSAGES, stream=True, stream_options=USAGE
        ),
    }
    firsts: dict[str, list[int]] = {}
    missing: dict[str, str] = {}
    cands: list[Candidate] = []
    for name, make in makers.items():
        try:
            state: list[Any] = [0, None]
            async for chunk in await make():
                _count(chunk, state)
            assert state[0] == STREAM_CHUNKS and state[1] is not None, state
        except Exception as exc:
            missing[name] = why(exc)
            continue
        sink = firsts.setdefault(name, [])

        def call(make: Callable[[], Awaitable[Any]] = make, sink: list[int] = sink) -> Any:
            async def run() -> None:
                start = time.perf_counter_ns()
                it = aiter(await make())
                await anext(it)
                sink.append(time.perf_counter_ns() - start)
                async for _ in it:
                    pass

            return run()

        cands.append(Candidate(name, call))
    try:
        await ainterleave(cands, n, batch=ctx.n(10, 4), warmup=ctx.n(5, 1), budget=ctx.n(25.0, 1.5), rng=ctx.rng)
    finally:
        await hub.aclose()
        await raw.close()
        await anyllm_close(instance)()
    return cands, firsts, missing


def embeddings(ctx: Ctx) -> Section:
    """A batch of 256 inputs: hub vs the raw client (sync and async), any-llm for reference."""
    import openai
    from any_llm import AnyLLM
    from any_llm.utils.aio import run_async_in_sync

    sec = Section("embed", f"4. Embeddings: batch of {len(TEXTS)} inputs ({EMBED_DIMS} dims)")
    n = ctx.n(200, 8)
    hub = make_hub(ctx.base)
    raw = openai.OpenAI(api_key=KEY, base_url=ctx.base, max_retries=0)
    instance = AnyLLM.create("openai", api_key=KEY, api_base=ctx.base)

    def check(resp: Any) -> None:
        assert len(resp.data) == len(TEXTS) and len(resp.data[0].embedding) == EMBED_DIMS

    calls: dict[str, Callable[[], Any]] = {
        "raw openai.OpenAI embeddings.create": lambda: raw.embeddings.create(model=EMBED_MODEL, input=TEXTS),
        "llmhub hub.embedding": lambda: hub.embedding("llm.embedding", TEXTS),
        "any-llm AnyLLM instance ._embedding": lambda: instance._embedding(EMBED_MODEL, TEXTS),
    }
    missing: dict[str, str] = {}
    try:
        cands = [Candidate(k, c) for k, c in calls.items() if sane(k, c, check, missing)]
        interleave(cands, n, batch=ctx.n(10, 4), warmup=ctx.n(5, 1), budget=ctx.n(20.0, 1.5), rng=ctx.rng)
    finally:
        hub.close()
        raw.close()
        run_async_in_sync(anyllm_close(instance)())

    async def abody() -> tuple[list[Candidate], dict[str, str]]:
        ahub = make_hub(ctx.base)
        araw = openai.AsyncOpenAI(api_key=KEY, base_url=ctx.base, max_retries=0)
        ainst = AnyLLM.create("openai", api_key=KEY, api_base=ctx.base)
        acalls: dict[str, Callable[[], Any]] = {
            "raw openai.AsyncOpenAI embeddings.create": lambda: araw.embeddings.create(model=EMBED_MODEL, input=TEXTS),
            "llmhub hub.aembedding": lambda: ahub.aembedding("llm.embedding", TEXTS),
            "any-llm AnyLLM instance .aembedding": lambda: ainst.aembedding(EMBED_MODEL, TEXTS),
        }
        miss: dict[str, str] = {}
        good = []
        try:
            for k, c in acalls.items():
                try:
                    check(await c())
                    good.append(Candidate(k, c))
                except Exception as exc:
                    miss[k] = why(exc)
            await ainterleave(good, n, batch=ctx.n(10, 4), warmup=ctx.n(5, 1), budget=ctx.n(20.0, 1.5), rng=ctx.rng)
        finally:
            await ahub.aclose()
            await araw.close()
            await anyllm_close(ainst)()
        return good, miss

    acands, amissing = asyncio.run(abody())
    sec.lines = latency_table(cands, missing, [("raw", "raw openai.OpenAI embeddings.create")])
    sec.lines += latency_table(acands, amissing, [("raw", "raw openai.AsyncOpenAI embeddings.create")])[2:]
    sec.data = raw_data(cands) | raw_data(acands)
    return sec
