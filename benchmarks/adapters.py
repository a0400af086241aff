"""5. Framework layer: ``RoleChatModel`` vs ``ChatOpenAI``, ``RoleLLM`` vs LlamaIndex's ``OpenAI``."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from benchmarks.candidates import (
    AIOHTTP,
    KEY,
    MESSAGES,
    MODEL,
    NO_AIOHTTP,
    PROMPT,
    aclose_native_clients,
    make_hub,
    optional,
    reset_loop_bound_caches,
)
from benchmarks.common import (
    HUB_ASYNC,
    HUB_SYNC,
    RAW_ASYNC,
    RAW_SYNC,
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
from benchmarks.harness import Candidate, Ctx, Section, ainterleave, interleave

__all__ = ["framework"]

PAIRS = (
    ("RoleChatModel.invoke", "ChatOpenAI.invoke"),
    ("RoleChatModel.ainvoke", "ChatOpenAI.ainvoke"),
    ("RoleLLM.chat", "llama_index OpenAI.chat"),
    ("RoleLLM.achat", "llama_index OpenAI.achat"),
)
AIO_SUFFIX = " (hub on httpx)"


class _Libraries:
    """The four framework classes, or why each is missing."""

    def __init__(self) -> None:
        self.lc_ours, self.why_lc_ours = optional("langchain_llmhub")
        self.lc_openai, self.why_lc_openai = optional("langchain_openai")
        self.li_ours, self.why_li_ours = optional("llama_index.llms.llmhub")
        self.li_openai, self.why_li_openai = optional("llama_index.llms.openai")
        li_core, _ = optional("llama_index.core.llms")
        self.li_messages = [li_core.ChatMessage(role="user", content=PROMPT)] if li_core is not None else []
        self.natives: list[Any] = []

    def chat_openai(self, base: str) -> Any:
        model = self.lc_openai.ChatOpenAI(model=MODEL, base_url=base, api_key=KEY, max_retries=0)
        self.natives.append(model)
        return model

    def llama_openai(self, base: str) -> Any:
        model = self.li_openai.OpenAI(model=MODEL, api_base=base, api_key=KEY, max_retries=0)
        self.natives.append(model)
        return model

    async def aclose_natives(self) -> None:
        """Close the async clients the native classes opened, on this loop (they outlive it otherwise)."""
        await aclose_native_clients(self.natives)
        self.natives.clear()

    def calls(self, base: str, hub: Any, suffix: str = "", *, run: str = "sync") -> dict[str, Callable[[], Any]]:
        """Name -> call for the adapters on ``hub`` and (without ``suffix``) the native classes."""
        lc_m, li_m = ("invoke", "chat") if run == "sync" else ("ainvoke", "achat")
        out: dict[str, Callable[[], Any]] = {}
        if self.lc_ours is not None:
            out[f"RoleChatModel.{lc_m}{suffix}"] = _bind(
                self.lc_ours.RoleChatModel("llm.inference", hub=hub), lc_m, PROMPT
            )
        if self.li_ours is not None:
            out[f"RoleLLM.{li_m}{suffix}"] = _bind(
                self.li_ours.RoleLLM("llm.inference", hub=hub), li_m, self.li_messages
            )
        if not suffix and self.lc_openai is not None:
            out[f"ChatOpenAI.{lc_m}"] = _bind(self.chat_openai(base), lc_m, PROMPT)
        if not suffix and self.li_openai is not None:
            out[f"llama_index OpenAI.{li_m}"] = _bind(self.llama_openai(base), li_m, self.li_messages)
        return out

    def missing(self) -> dict[str, str]:
        out = {}
        for (ours, theirs), module_why in zip(
            PAIRS,
            (
                (self.why_lc_ours, self.why_lc_openai),
                (self.why_lc_ours, self.why_lc_openai),
                (self.why_li_ours, self.why_li_openai),
                (self.why_li_ours, self.why_li_openai),
            ),
            strict=True,
        ):
            for name, reason in zip((ours, theirs), module_why, strict=True):
                if reason:
                    out[name] = f"n/a ({reason})"
        return out


def _bind(obj: Any, method: str, arg: Any) -> Callable[[], Any]:
    bound = getattr(obj, method)
    return lambda: bound(arg)


def framework(ctx: Ctx) -> Section:
    """RoleChatModel vs ChatOpenAI, RoleLLM vs LlamaIndex's OpenAI: invoke/chat and ainvoke/achat."""
    import openai

    sec = Section("framework", "5. Framework layer: role adapters vs the native OpenAI classes")
    n = ctx.n(800, 30)
    libs = _Libraries()
    missing = libs.missing()
    hub, alt_hub = make_hub(ctx.base), make_hub(ctx.base, transport="httpx")
    raw = openai.OpenAI(api_key=KEY, base_url=ctx.base, max_retries=0)
    calls: dict[str, Callable[[], Any]] = {
        RAW_SYNC: lambda: raw.chat.completions.create(model=MODEL, messages=MESSAGES),
        HUB_SYNC: lambda: hub.completion("llm.inference", MESSAGES),
    }
    try:
        calls |= libs.calls(ctx.base, hub)
        if alt_hub is not None:
            calls |= libs.calls(ctx.base, alt_hub, AIO_SUFFIX)
        else:
            missing[f"adapters{AIO_SUFFIX}"] = NO_AIOHTTP
        cands = [Candidate(k, c) for k, c in calls.items() if sane(k, c, check_chat, missing)]
        interleave(cands, n, batch=ctx.n(20, 10), warmup=ctx.n(20, 2), budget=ctx.n(20.0, 1.5), rng=ctx.rng)
    except Exception as exc:  # an adapter that fails to build: report it, keep the rest of the run
        missing["sync adapters"] = why(exc)
        cands = []
    finally:
        for hub_ in (hub, alt_hub):
            if hub_ is not None:
                hub_.close()
        raw.close()

    async def abody() -> list[Candidate]:
        reset_loop_bound_caches()
        ahub = make_hub(ctx.base)
        alt_ahub = make_hub(ctx.base, transport="httpx")
        araw = openai.AsyncOpenAI(api_key=KEY, base_url=ctx.base, max_retries=0)
        acalls: dict[str, Callable[[], Any]] = {
            RAW_ASYNC: lambda: araw.chat.completions.create(model=MODEL, messages=MESSAGES),
            HUB_ASYNC: lambda: ahub.acompletion("llm.inference", MESSAGES),
        }
        good = []
        try:
            acalls |= libs.calls(ctx.base, ahub, run="async")
            if alt_ahub is not None:
                acalls |= libs.calls(ctx.base, alt_ahub, AIO_SUFFIX, run="async")
            for name, call in acalls.items():
                try:
                    check_chat(await call())
                    good.append(Candidate(name, call))
                except Exception as exc:
                    missing[name] = why(exc)
            await ainterleave(good, n, batch=ctx.n(20, 10), warmup=ctx.n(20, 2), budget=ctx.n(20.0, 1.5), rng=ctx.rng)
        finally:
            await ahub.aclose()
            if alt_ahub is not None:
                await alt_ahub.aclose()
            await araw.close()
            await libs.aclose_natives()
        return good

    acands = asyncio.run(abody())
    every = cands + acands
    by_name = {c.name: c for c in every}
    sec.lines = [
        "| adapter | median µs | CPU µs/call | native class | median µs | CPU µs/call | adapter x native |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [*PAIRS, *((ours + AIO_SUFFIX, theirs) for ours, theirs in PAIRS)]
    for ours, theirs in rows:
        a, b = by_name.get(ours), by_name.get(theirs)
        if a is None and ours.endswith(AIO_SUFFIX) and ours not in missing:
            continue
        am = a.summary.median if a else math.nan
        bm = b.summary.median if b else math.nan
        left = ours if a else f"{ours} ← {missing.get(ours, 'n/a')}"
        right = theirs if b else f"{theirs} ← {missing.get(theirs, 'n/a')}"
        sec.lines.append(
            f"| {left} | {us(am)} | {us(a.cpu_us) if a else 'n/a'} | {right} | {us(bm)} | "
            f"{us(b.cpu_us) if b else 'n/a'} | {x(ratio(am, bm))} |"
        )
        if not ours.endswith(AIO_SUFFIX):
            sec.checks.append(le(f"adapter: {ours} ≤ 1.05x {theirs}", am, bm, 1.05, "median"))
    sec.lines += ["", "Underneath, same runs:", ""]
    sec.lines += latency_table([c for c in every if c.name in (RAW_SYNC, HUB_SYNC, RAW_ASYNC, HUB_ASYNC)], {}, [])
    layer_notes = []
    for ours, theirs, base_ours, base_theirs in (
        ("RoleChatModel.invoke", "ChatOpenAI.invoke", HUB_SYNC, RAW_SYNC),
        ("RoleLLM.chat", "llama_index OpenAI.chat", HUB_SYNC, RAW_SYNC),
        ("RoleChatModel.ainvoke", "ChatOpenAI.ainvoke", HUB_ASYNC, RAW_ASYNC),
        ("RoleLLM.achat", "llama_index OpenAI.achat", HUB_ASYNC, RAW_ASYNC),
    ):
        mine, native = median_of(every, ours), median_of(every, theirs)
        under_mine, under_native = median_of(every, base_ours), median_of(every, base_theirs)
        if not any(math.isnan(v) for v in (mine, native, under_mine, under_native)):
            layer_notes.append(
                f"{ours} adds {us(mine - under_mine)} µs over the hub call; "
                f"{theirs} adds {us(native - under_native)} µs over the raw client"
            )
    if layer_notes:
        sec.notes.append(
            "Framework layer alone (adapter - hub call vs native class - raw client, medians): "
            + "; ".join(layer_notes)
            + ". So the gap between adapter and native class is the gap between the hub and the raw SDK client "
            "underneath, not the adapters' own code."
        )
    sec.notes.append(
        f"Rows '{AIO_SUFFIX.strip()}' are the same adapters on a hub whose provider opts out to httpx ({AIOHTTP}); "
        "the other rows use the default transport (aiohttp when installed)."
    )
    sec.data = raw_data(every)
    return sec
