"""The in-process sections: sync latency, async throughput, streaming, embeddings, adapters, reliability.

Each takes a ``Ctx`` and returns a ``Section`` (markdown lines, target checks, raw numbers).
"""

from __future__ import annotations

import asyncio
import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.candidates import (
    EMBED_MODEL,
    KEY,
    MESSAGES,
    MODEL,
    PROMPT,
    PROPOSAL,
    TEXTS,
    async_chat,
    chat_content,
    close_thread_loop,
    hub_config,
    iter_on_thread_loop,
    optional,
    reset_loop_bound_caches,
    sync_chat,
)
from benchmarks.harness import Candidate, Check, Ctx, Section, ainterleave, interleave
from benchmarks.server import EMBED_DIMS, REPLY_TEXT, STREAM_CHUNKS

__all__ = [
    "async_throughput",
    "embeddings",
    "framework",
    "ratio",
    "reliability",
    "streaming",
    "sync_latency",
    "us",
]

RAW_SYNC = "raw openai.OpenAI (reused)"
HUB_SYNC = "llmhub hub.completion"
ANY_SYNC = "any-llm AnyLLM instance .completion"
TOP_SYNC = "any_llm.completion (top-level)"
RAW_ASYNC = "raw openai.AsyncOpenAI (reused)"
HUB_ASYNC = "llmhub hub.acompletion"
ANY_ASYNC = "any-llm AnyLLM instance .acompletion"


def us(value: float) -> str:
    """Microseconds (or any number) with thousands separators, 'n/a' for NaN."""
    if math.isnan(value):
        return "n/a"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def ratio(a: float, b: float) -> float:
    return a / b if b and not (math.isnan(a) or math.isnan(b)) else float("nan")


def x(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}x"


def _hub(base: str, **kwargs: Any) -> Any:
    from llmhub_runtime import LLMHub

    return LLMHub(config=hub_config(base), **kwargs)


def _sane(name: str, call: Callable[[], Any], check: Callable[[Any], None], missing: dict[str, str]) -> bool:
    """Run ``call`` once and ``check`` the answer; a failure moves the candidate to ``missing``."""
    try:
        check(call())
        return True
    except Exception as exc:
        missing[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
        return False


def _check_chat(response: Any) -> None:
    assert chat_content(response) == REPLY_TEXT, chat_content(response)


def _latency_table(cands: Sequence[Candidate], missing: dict[str, str], refs: Sequence[tuple[str, str]]) -> list[str]:
    """Markdown rows: n, median, p10-p90, CPU per call, and a ratio column per (label, reference name)."""
    by_name = {c.name: c for c in cands}
    head = (
        "| candidate | n | median µs | p10-p90 µs | CPU µs/call | " + " | ".join(f"x {lbl}" for lbl, _ in refs) + " |"
    )
    lines = [head, "|" + "---|" * (5 + len(refs))]
    for cand in cands:
        s = cand.summary
        cols = []
        for _, ref in refs:
            other = by_name.get(ref)
            cols.append(x(ratio(s.median, other.summary.median)) if other else "n/a")
        lines.append(
            f"| {cand.name} | {s.n} | {us(s.median)} | {s.spread} | {us(cand.cpu_us)} | " + " | ".join(cols) + " |"
        )
    for name, why in missing.items():
        lines.append(f"| {name} | n/a | n/a | | | " + " | ".join("n/a" for _ in refs) + f" |  ← {why}")
    return lines


def _median(cands: Sequence[Candidate], name: str) -> float:
    for cand in cands:
        if cand.name == name:
            return cand.summary.median
    return float("nan")


def _le(target: str, a: float, b: float, limit: float, what: str) -> Check:
    r = ratio(a, b)
    ok = None if math.isnan(r) else r <= limit
    return Check(target, f"{r:.3f}x ({what})" if ok is not None else "n/a", f"≤ {limit:.2f}x", ok)


def _raw_data(cands: Sequence[Candidate]) -> dict[str, Any]:
    return {
        c.name: {"n": c.summary.n, "median_us": c.summary.median, "p10_us": c.summary.p10,
                 "p90_us": c.summary.p90, "cpu_us": c.cpu_us}
        for c in cands
    }  # fmt: skip


# --- 1. sync per-call latency -------------------------------------------------------------------


def sync_latency(ctx: Ctx) -> Section:
    """hub.completion vs raw OpenAI, a reused AnyLLM, top-level any_llm.completion, litellm."""
    sec = Section("sync", "1. Sync per-call latency (chat, JSON answer)")
    hub = _hub(ctx.base)
    try:
        calls, missing = sync_chat(ctx.base, hub, quick=ctx.quick)
        cands = [Candidate(n, c) for n, c in calls.items() if _sane(n, c, _check_chat, missing)]
        n = ctx.n(2000, 40)
        interleave(cands, n, batch=ctx.n(25, 10), warmup=ctx.n(30, 3), budget=ctx.n(75.0, 1.5), rng=ctx.rng)
    finally:
        hub.close()
        close_thread_loop()
    sec.lines = _latency_table(cands, missing, [("raw", RAW_SYNC), ("any-llm instance", ANY_SYNC)])
    hub_m, any_m, raw_m = _median(cands, HUB_SYNC), _median(cands, ANY_SYNC), _median(cands, RAW_SYNC)
    sec.checks = [
        _le("sync: hub ≤ 1.05x reused AnyLLM instance", hub_m, any_m, 1.05, "median"),
        _le("sync: hub ≤ 1.5x raw reused openai.OpenAI", hub_m, raw_m, 1.5, "median"),
        _le("sync: hub ahead of top-level any_llm.completion", hub_m, _median(cands, TOP_SYNC), 1.0, "median"),
        _le("sync: hub ahead of litellm.completion", hub_m, _median(cands, "litellm.completion"), 1.0, "median"),
    ]  # fmt: skip
    bridge = _median(cands, "ref: AsyncOpenAI via any-llm sync runner")
    if not math.isnan(bridge):
        sec.notes.append(
            f"Where the sync time goes (medians): raw sync client {us(raw_m)} µs → the same request through "
            f"AsyncOpenAI on any-llm's sync runner thread {us(bridge)} µs (the sync→async bridge: "
            f"{us(bridge - raw_m)} µs) → AnyLLM instance {us(any_m)} µs (any-llm's conversions: "
            f"{us(any_m - bridge)} µs) → hub {us(hub_m)} µs (llmhub's own layer: {us(hub_m - any_m)} µs)."
        )
    proposal = _median(cands, PROPOSAL)
    if not math.isnan(proposal):
        sec.notes.append(
            f"'{PROPOSAL}' runs `hub.acompletion` with `loop.run_until_complete` on an event loop owned by the "
            f"calling thread (the hub's ClientPool already keeps one client per loop): {us(proposal)} µs, "
            f"{x(ratio(proposal, raw_m))} raw, vs {x(ratio(hub_m, raw_m))} for today's `hub.completion`."
        )
    sec.data = _raw_data(cands)
    return sec


# --- 2. async throughput + 9. peak connections ---------------------------------------------------


def async_throughput(ctx: Ctx) -> Section:
    """``concurrency`` requests at once through each async candidate, in shuffled rounds."""
    concurrency = ctx.n(1000, 100)
    rounds = ctx.n(5, 1)
    sec = Section("async", f"2. Async throughput, {concurrency} concurrent requests (+ 9. peak open connections)")
    hub = _hub(ctx.base)
    results: dict[str, dict[str, list[float]]] = {}
    missing: dict[str, str] = {}

    async def body() -> None:
        calls, miss = async_chat(ctx.base, hub, quick=ctx.quick)
        missing.update(miss)
        good: dict[str, Callable[[], Any]] = {}
        for name, call in calls.items():
            try:
                _check_chat(await call())
                good[name] = call
            except Exception as exc:
                missing[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
        for name in good:
            results[name] = {"wall": [], "cpu": [], "peak": [], "before": [], "accepted": []}
        for warm in (True, *([False] * rounds)):
            order = list(good)
            ctx.rng.shuffle(order)
            for name in order:
                call = good[name]
                gc.collect()
                before = ctx.server.stats(reset=True)["open"]
                cpu0, wall0 = time.process_time_ns(), time.perf_counter_ns()
                answers = await asyncio.gather(*(call() for _ in range(concurrency)))
                wall, cpu = time.perf_counter_ns() - wall0, time.process_time_ns() - cpu0
                stats = ctx.server.stats()
                assert len(answers) == concurrency and chat_content(answers[-1]) == REPLY_TEXT
                if not warm:
                    rec = results[name]
                    rec["wall"].append(wall / 1e6)
                    rec["cpu"].append(cpu / concurrency / 1000)
                    rec["peak"].append(stats["peak"])
                    rec["before"].append(before)
                    rec["accepted"].append(stats["accepted"])

    try:
        asyncio.run(body())
    finally:
        hub.close()

    limits = _pool_limits()
    med = {name: statistics.median(rec["wall"]) for name, rec in results.items()}
    sec.lines = [
        f"| candidate | rounds | median ms per {concurrency} | requests/s | CPU µs/request | x raw "
        "| x any-llm instance | open before | peak open | peak - before | new connections per round |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rec in results.items():
        sec.lines.append(
            f"| {name} | {len(rec['wall'])} | {us(med[name])} | {us(concurrency / med[name] * 1000)} | "
            f"{us(statistics.median(rec['cpu']))} | {x(ratio(med[name], med.get(RAW_ASYNC, math.nan)))} | "
            f"{x(ratio(med[name], med.get(ANY_ASYNC, math.nan)))} | {max(rec['before'])} | {max(rec['peak'])} | "
            f"{max(p - b for p, b in zip(rec['peak'], rec['before'], strict=True))} | "
            f"{statistics.median(rec['accepted']):.0f} |"
        )
    for name, why in missing.items():
        sec.lines.append(f"| {name} | n/a | n/a | n/a | n/a | n/a | n/a | n/a | n/a | n/a |  ← {why}")
    hub_m, any_m, raw_m = (med.get(k, math.nan) for k in (HUB_ASYNC, ANY_ASYNC, RAW_ASYNC))
    sec.checks = [
        _le("async: hub ≤ 1.05x reused AnyLLM instance", hub_m, any_m, 1.05, f"wall per {concurrency}"),
        _le("async: hub ≤ 1.5x raw reused AsyncOpenAI", hub_m, raw_m, 1.5, f"wall per {concurrency}"),
        _le("async: hub ahead of litellm.acompletion", hub_m, med.get("litellm.acompletion", math.nan), 1.0,
            f"wall per {concurrency}"),
    ]  # fmt: skip
    if HUB_ASYNC in results:
        rec = results[HUB_ASYNC]
        peak = max(p - b for p, b in zip(rec["peak"], rec["before"], strict=True))
        sec.checks.append(
            Check(
                f"{concurrency} concurrent hub calls keep open connections bounded",
                f"peak {peak} opened by the hub ({max(rec['peak'])} open on the server in all)",
                f"≤ pool limit {limits['max_connections']}",
                peak <= limits["max_connections"],
            )
        )
    sec.notes.append(
        f"Pool limits of the openai SDK's httpx client (used by the raw client, by any-llm and so by the hub): "
        f"max_connections={limits['max_connections']}, max_keepalive_connections={limits['max_keepalive']}. "
        "Counted by the server: open before = sockets already open when a round starts (idle pools of the "
        "other candidates and earlier sections); peak = most sockets open at once during the round; "
        "new connections = sockets accepted during the round (after the warm-up round the pool is warm)."
    )
    sec.data = {name: {**rec, "median_ms": med[name]} for name, rec in results.items()} | {"limits": limits}
    return sec


def _pool_limits() -> dict[str, int]:
    from openai._constants import DEFAULT_CONNECTION_LIMITS as limits

    return {"max_connections": limits.max_connections or 0, "max_keepalive": limits.max_keepalive_connections or 0}


# --- 3. streaming -------------------------------------------------------------------------------


def _stream_counter(chunks: Any) -> tuple[int, int, Any]:
    """(content chunks, total chunks, last usage) of a finished stream."""
    content = total = 0
    usage = None
    for chunk in chunks:
        total += 1
        if chunk.choices and chunk.choices[0].delta.content:
            content += 1
        usage = chunk.usage or usage
    return content, total, usage


def streaming(ctx: Ctx) -> Section:
    """Time to first chunk and total for a streamed answer: hub vs the raw client (sync and async)."""
    import openai
    from any_llm import AnyLLM

    sec = Section("stream", f"3. Streaming: {STREAM_CHUNKS}-chunk answer, time to first chunk and total")
    n = ctx.n(200, 8)
    hub = _hub(ctx.base)
    raw = openai.OpenAI(api_key=KEY, base_url=ctx.base, max_retries=0)
    instance = AnyLLM.create("openai", api_key=KEY, api_base=ctx.base)
    usage_opt = {"include_usage": True}
    makers: dict[str, Callable[[], Any]] = {
        "raw openai.OpenAI stream": lambda: raw.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            stream=True,
            stream_options=usage_opt,  # type: ignore[arg-type]
        ),
        "llmhub hub.completion(stream=True)": lambda: hub.completion("llm.inference", MESSAGES, stream=True),
        "any-llm AnyLLM instance stream": lambda: instance.completion(
            model=MODEL, messages=MESSAGES, stream=True, stream_options=usage_opt
        ),
        "proposal: hub.acompletion(stream) on a per-thread loop": lambda: iter_on_thread_loop(
            hub.acompletion("llm.inference", MESSAGES, stream=True)
        ),
    }
    firsts: dict[str, list[int]] = {}
    missing: dict[str, str] = {}

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

    def check_stream(make: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            content, _, usage = _stream_counter(make())
            assert content == STREAM_CHUNKS and usage is not None, (content, usage)

        return run

    try:
        cands = [
            Candidate(name, timed(name, make))
            for name, make in makers.items()
            if _sane(name, check_stream(make), lambda _: None, missing)
        ]
        interleave(cands, n, batch=ctx.n(10, 4), warmup=ctx.n(5, 1), budget=ctx.n(40.0, 1.5), rng=ctx.rng)
    finally:
        hub.close()
        raw.close()
        close_thread_loop()

    acands, afirsts, amissing = asyncio.run(_astreams(ctx, n))
    sec.lines = [
        "| candidate | n | first chunk µs (median) | total µs (median) | total p10-p90 µs | CPU µs/stream "
        "| first x raw | total x raw |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for group, fmap, raw_name, miss in (
        (cands, firsts, "raw openai.OpenAI stream", missing),
        (acands, afirsts, "raw openai.AsyncOpenAI stream", amissing),
    ):
        raw_first = statistics.median(fmap[raw_name]) if fmap.get(raw_name) else math.nan
        raw_total = _median(group, raw_name)
        for cand in group:
            f = statistics.median(fmap[cand.name][-len(cand.samples) :]) if fmap.get(cand.name) else math.nan
            s = cand.summary
            sec.lines.append(
                f"| {cand.name} | {s.n} | {us(f / 1000)} | {us(s.median)} | {s.spread} | {us(cand.cpu_us)} | "
                f"{x(ratio(f, raw_first))} | {x(ratio(s.median, raw_total))} |"
            )
            sec.data[cand.name] = {"first_us": f / 1000, "total_us": s.median, "cpu_us": cand.cpu_us, "n": s.n}
        for name, why in miss.items():
            sec.lines.append(f"| {name} | n/a | n/a | n/a | | | n/a | n/a |  ← {why}")
    hub_total = _median(cands, "llmhub hub.completion(stream=True)")
    any_total = _median(cands, "any-llm AnyLLM instance stream")
    sec.notes.append(
        f"Chunks: {STREAM_CHUNKS} content chunks + a finish chunk + a usage chunk, sent by the server in one "
        "write, so 'total' is the client's cost of parsing and handing over every chunk. "
        f"Sync hub vs AnyLLM instance (total): {x(ratio(hub_total, any_total))}."
    )
    return sec


async def _astreams(ctx: Ctx, n: int) -> tuple[list[Candidate], dict[str, list[int]], dict[str, str]]:
    import openai
    from any_llm import AnyLLM

    hub = _hub(ctx.base)
    raw = openai.AsyncOpenAI(api_key=KEY, base_url=ctx.base, max_retries=0)
    instance = AnyLLM.create("openai", api_key=KEY, api_base=ctx.base)
    usage_opt = {"include_usage": True}
    makers: dict[str, Callable[[], Any]] = {
        "raw openai.AsyncOpenAI stream": lambda: raw.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            stream=True,
            stream_options=usage_opt,  # type: ignore[arg-type]
        ),
        "llmhub hub.acompletion(stream=True)": lambda: hub.acompletion("llm.inference", MESSAGES, stream=True),
        "any-llm AnyLLM instance astream": lambda: instance.acompletion(
            model=MODEL, messages=MESSAGES, stream=True, stream_options=usage_opt
        ),
    }
    firsts: dict[str, list[int]] = {}
    missing: dict[str, str] = {}
    cands: list[Candidate] = []
    for name, make in makers.items():
        try:
            content = 0
            usage = None
            async for chunk in await make():
                content += bool(chunk.choices and chunk.choices[0].delta.content)
                usage = chunk.usage or usage
            assert content == STREAM_CHUNKS and usage is not None, (content, usage)
        except Exception as exc:
            missing[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
            continue
        sink = firsts.setdefault(name, [])

        def call(make: Callable[[], Any] = make, sink: list[int] = sink) -> Any:
            async def run() -> None:
                start = time.perf_counter_ns()
                it = aiter(await make())
                await anext(it)
                sink.append(time.perf_counter_ns() - start)
                async for _ in it:
                    pass

            return run()

        cands.append(Candidate(name, call))
    await ainterleave(cands, n, batch=ctx.n(10, 4), warmup=ctx.n(5, 1), budget=ctx.n(40.0, 1.5), rng=ctx.rng)
    await raw.close()
    return cands, firsts, missing


# --- 4. embeddings ------------------------------------------------------------------------------


def embeddings(ctx: Ctx) -> Section:
    """A batch of 256 inputs: hub vs the raw client (sync and async), any-llm for reference."""
    import openai
    from any_llm import AnyLLM

    sec = Section("embed", f"4. Embeddings: batch of {len(TEXTS)} inputs ({EMBED_DIMS} dims)")
    n = ctx.n(300, 8)
    hub = _hub(ctx.base)
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
        cands = [Candidate(k, c) for k, c in calls.items() if _sane(k, c, check, missing)]
        interleave(cands, n, batch=ctx.n(10, 4), warmup=ctx.n(5, 1), budget=ctx.n(30.0, 1.5), rng=ctx.rng)
    finally:
        hub.close()
        raw.close()

    async def abody() -> tuple[list[Candidate], dict[str, str]]:
        ahub = _hub(ctx.base)
        araw = openai.AsyncOpenAI(api_key=KEY, base_url=ctx.base, max_retries=0)
        ainst = AnyLLM.create("openai", api_key=KEY, api_base=ctx.base)
        acalls: dict[str, Callable[[], Any]] = {
            "raw openai.AsyncOpenAI embeddings.create": lambda: araw.embeddings.create(model=EMBED_MODEL, input=TEXTS),
            "llmhub hub.aembedding": lambda: ahub.aembedding("llm.embedding", TEXTS),
            "any-llm AnyLLM instance .aembedding": lambda: ainst.aembedding(EMBED_MODEL, TEXTS),
        }
        miss: dict[str, str] = {}
        good = []
        for k, c in acalls.items():
            try:
                check(await c())
                good.append(Candidate(k, c))
            except Exception as exc:
                miss[k] = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
        await ainterleave(good, n, batch=ctx.n(10, 4), warmup=ctx.n(5, 1), budget=ctx.n(30.0, 1.5), rng=ctx.rng)
        await araw.close()
        return good, miss

    acands, amissing = asyncio.run(abody())
    sec.lines = _latency_table(cands, missing, [("raw", "raw openai.OpenAI embeddings.create")])
    sec.lines += _latency_table(acands, amissing, [("raw", "raw openai.AsyncOpenAI embeddings.create")])[2:]
    sec.data = _raw_data(cands) | _raw_data(acands)
    return sec


# --- 5. framework adapters ----------------------------------------------------------------------


def framework(ctx: Ctx) -> Section:
    """RoleChatModel vs ChatOpenAI, RoleLLM vs LlamaIndex's OpenAI: invoke/chat and ainvoke/achat."""
    sec = Section("framework", "5. Framework layer: role adapters vs the native OpenAI classes")
    n = ctx.n(1000, 30)
    missing: dict[str, str] = {}
    hub = _hub(ctx.base)
    sync_calls, async_makers = _framework_calls(ctx.base, hub, missing)

    def check(resp: Any) -> None:
        if hasattr(resp, "choices"):  # ChatCompletion (the raw client and the hub underneath)
            text = chat_content(resp)
        elif hasattr(resp, "message"):  # LlamaIndex ChatResponse
            text = resp.message.content
        else:  # LangChain AIMessage
            text = resp.content
        assert text == REPLY_TEXT, text

    try:
        cands = [Candidate(k, c) for k, c in sync_calls.items() if _sane(k, c, check, missing)]
        interleave(cands, n, batch=ctx.n(20, 10), warmup=ctx.n(20, 2), budget=ctx.n(40.0, 1.5), rng=ctx.rng)
    finally:
        hub.close()

    async def abody() -> list[Candidate]:
        reset_loop_bound_caches()
        ahub = _hub(ctx.base)
        good = []
        for name, make in async_makers(ahub).items():
            try:
                check(await make())
                good.append(Candidate(name, make))
            except Exception as exc:
                missing[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
        await ainterleave(good, n, batch=ctx.n(20, 10), warmup=ctx.n(20, 2), budget=ctx.n(40.0, 1.5), rng=ctx.rng)
        return good

    acands = asyncio.run(abody())
    pairs = [
        ("RoleChatModel.invoke", "ChatOpenAI.invoke"),
        ("RoleChatModel.ainvoke", "ChatOpenAI.ainvoke"),
        ("RoleLLM.chat", "llama_index OpenAI.chat"),
        ("RoleLLM.achat", "llama_index OpenAI.achat"),
    ]
    every = cands + acands
    by_name = {c.name: c for c in every}
    sec.lines = [
        "| adapter | median µs | CPU µs/call | native class | median µs | CPU µs/call | adapter x native |",
        "|---|---|---|---|---|---|---|",
    ]
    for ours, theirs in pairs:
        a, b = by_name.get(ours), by_name.get(theirs)
        am = a.summary.median if a else math.nan
        bm = b.summary.median if b else math.nan
        sec.lines.append(
            f"| {ours}{'' if a else ' ← ' + missing.get(ours, 'n/a')} | {us(am)} | {us(a.cpu_us) if a else 'n/a'} "
            f"| {theirs}{'' if b else ' ← ' + missing.get(theirs, 'n/a')} | {us(bm)} | {us(b.cpu_us) if b else 'n/a'} "
            f"| {x(ratio(am, bm))} |"
        )
        sec.checks.append(_le(f"adapter: {ours} ≤ 1.05x {theirs}", am, bm, 1.05, "median"))
    sec.lines += ["", "Underneath, same run (n per candidate as above):", ""]
    sec.lines += _latency_table(
        [c for c in every if c.name.startswith(("raw", "llmhub"))], {}, [("raw sync", RAW_SYNC)]
    )
    sec.data = _raw_data(every)
    sec.notes.append(
        "Adapter layer cost = adapter - hub call; native layer cost = native class - raw client. "
        "The adapters sit on the hub, whose sync path runs on any-llm's runner thread; the native classes "
        "call the openai SDK's sync client directly."
    )
    return sec


def _framework_calls(
    base: str, hub: Any, missing: dict[str, str]
) -> tuple[dict[str, Callable[[], Any]], Callable[[Any], dict[str, Callable[[], Any]]]]:
    import openai

    raw = openai.OpenAI(api_key=KEY, base_url=base, max_retries=0)
    sync: dict[str, Callable[[], Any]] = {
        RAW_SYNC: lambda: raw.chat.completions.create(model=MODEL, messages=MESSAGES),  # type: ignore[arg-type]
        HUB_SYNC: lambda: hub.completion("llm.inference", MESSAGES),
    }
    lc_ours, why_ours = optional("langchain_llmhub")
    lc_openai, why_lc = optional("langchain_openai")
    li_ours, why_li = optional("llama_index.llms.llmhub")
    li_openai, why_lio = optional("llama_index.llms.openai")
    li_types, _ = optional("llama_index.core.llms")

    def chat_openai() -> Any:
        assert lc_openai is not None
        return lc_openai.ChatOpenAI(model=MODEL, base_url=base, api_key=KEY, max_retries=0)

    def li_openai_llm() -> Any:
        assert li_openai is not None
        return li_openai.OpenAI(model=MODEL, api_base=base, api_key=KEY, max_retries=0)

    li_messages = [li_types.ChatMessage(role="user", content=PROMPT)] if li_types is not None else []

    def add(target: dict[str, Callable[[], Any]], name: str, module: Any, why: str, build: Callable[[], Any]) -> None:
        if module is None:
            missing[name] = f"n/a ({why})"
            return
        try:
            target[name] = build()
        except Exception as exc:
            missing[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]

    add(
        sync,
        "RoleChatModel.invoke",
        lc_ours,
        why_ours,
        lambda: _bind(lc_ours.RoleChatModel("llm.inference", hub=hub), "invoke", PROMPT),
    )  # type: ignore[union-attr]
    add(sync, "ChatOpenAI.invoke", lc_openai, why_lc, lambda: _bind(chat_openai(), "invoke", PROMPT))
    add(
        sync,
        "RoleLLM.chat",
        li_ours,
        why_li,
        lambda: _bind(li_ours.RoleLLM("llm.inference", hub=hub), "chat", li_messages),
    )  # type: ignore[union-attr]
    add(sync, "llama_index OpenAI.chat", li_openai, why_lio, lambda: _bind(li_openai_llm(), "chat", li_messages))

    def async_makers(ahub: Any) -> dict[str, Callable[[], Any]]:
        araw = openai.AsyncOpenAI(api_key=KEY, base_url=base, max_retries=0)
        out: dict[str, Callable[[], Any]] = {
            RAW_ASYNC: lambda: araw.chat.completions.create(model=MODEL, messages=MESSAGES),  # type: ignore[arg-type]
            HUB_ASYNC: lambda: ahub.acompletion("llm.inference", MESSAGES),
        }
        add(
            out,
            "RoleChatModel.ainvoke",
            lc_ours,
            why_ours,
            lambda: _bind(lc_ours.RoleChatModel("llm.inference", hub=ahub), "ainvoke", PROMPT),
        )  # type: ignore[union-attr]
        add(out, "ChatOpenAI.ainvoke", lc_openai, why_lc, lambda: _bind(chat_openai(), "ainvoke", PROMPT))
        add(
            out,
            "RoleLLM.achat",
            li_ours,
            why_li,
            lambda: _bind(li_ours.RoleLLM("llm.inference", hub=ahub), "achat", li_messages),
        )  # type: ignore[union-attr]
        add(out, "llama_index OpenAI.achat", li_openai, why_lio, lambda: _bind(li_openai_llm(), "achat", li_messages))
        return out

    return sync, async_makers


def _bind(obj: Any, method: str, arg: Any) -> Callable[[], Any]:
    bound = getattr(obj, method)
    return lambda: bound(arg)


# --- 7. reliability overhead ----------------------------------------------------------------------


class _NoopHook:
    def on_start(self, event: Any) -> None:
        pass

    def on_end(self, event: Any) -> None:
        pass


def reliability(ctx: Ctx) -> Section:
    """A role with retries + two fallbacks configured but not triggered vs a plain role (and a hook)."""
    sec = Section("reliability", "7. Reliability overhead: retries/fallbacks configured, not triggered")
    hub = _hub(ctx.base)
    hooked = _hub(ctx.base, hooks=[_NoopHook()])
    calls: dict[str, Callable[[], Any]] = {
        "hub, plain role": lambda: hub.completion("llm.inference", MESSAGES),
        "hub, role with retry(3) + 2 fallbacks": lambda: hub.completion("llm.reliable", MESSAGES),
        "hub with a no-op hook, plain role": lambda: hooked.completion("llm.inference", MESSAGES),
    }
    missing: dict[str, str] = {}
    try:
        cands = [Candidate(k, c) for k, c in calls.items() if _sane(k, c, _check_chat, missing)]
        interleave(
            cands, ctx.n(2000, 40), batch=ctx.n(25, 10), warmup=ctx.n(30, 3), budget=ctx.n(40.0, 1.5), rng=ctx.rng
        )
    finally:
        hub.close()
        hooked.close()
    sec.lines = _latency_table(cands, missing, [("plain role", "hub, plain role")])
    plain = _median(cands, "hub, plain role")
    reliable = _median(cands, "hub, role with retry(3) + 2 fallbacks")
    sec.notes.append(
        f"Configured-but-untriggered retries/fallbacks cost {us(reliable - plain)} µs per call "
        f"({x(ratio(reliable, plain))}); no target was set for this, it is reported only."
    )
    sec.data = _raw_data(cands)
    return sec
