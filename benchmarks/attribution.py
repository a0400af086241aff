"""Where the time of one call goes: cProfile of sequential async calls, grouped by package and layer.

Async calls run on one thread, so the profiler sees all of a call's work (the sync API hands each
call to any-llm's runner thread, which cProfile would not follow). For each candidate:

- own time (``tottime``) per call grouped by package (C functions are grouped by what they are);
- layer costs from inclusive time: hub = ``LLMHub.acompletion`` - any-llm's entry point;
  any-llm = its entry point - ``AsyncCompletions.create`` of the openai SDK.

Profiling slows everything down about 2x; read the numbers as shares, not as latencies.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import traceback
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.candidates import (
    KEY,
    MESSAGES,
    MODEL,
    PROMPT,
    aclose_native_clients,
    anyllm_close,
    make_hub,
    optional,
    reset_loop_bound_caches,
)
from benchmarks.harness import Ctx, Section

__all__ = ["attribution", "package_of"]

_GROUPS = {
    "httpx": "httpx/httpcore/h11/anyio",
    "httpcore": "httpx/httpcore/h11/anyio",
    "h11": "httpx/httpcore/h11/anyio",
    "anyio": "httpx/httpcore/h11/anyio",
    "sniffio": "httpx/httpcore/h11/anyio",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "typing_extensions": "typing",
}
_FuncKey = tuple[str, int, str]


def package_of(key: _FuncKey) -> str:
    """The package a profiled function belongs to (C functions: by their kind)."""
    filename, _, name = key
    if filename == "~":
        if "pydantic_core" in name:
            return "pydantic"
        if any(word in name for word in ("socket", "select", "epoll", "_ssl", "poll")):
            return "socket/epoll (C)"
        if "json" in name or "scanner" in name or "encode" in name:
            return "json (C)"
        return "C builtins"
    path = filename.replace("\\", "/")
    if "site-packages/" in path:
        parts = path.split("site-packages/", 1)[1].split("/")
        if parts[0] == "llama_index":
            top = ".".join(parts[:2] if parts[1] == "core" else parts[:3])
        else:
            top = parts[0].removesuffix(".py")
        return _GROUPS.get(top, top)
    for marker in (
        "/llmhub_runtime/",
        "/langchain_llmhub/",
        "/llama_index/llms/llmhub/",
        "/llama_index/embeddings/llmhub/",
    ):
        if marker in path:
            return marker.strip("/").replace("/", ".")
    if "/asyncio/" in path:
        return "asyncio (stdlib)"
    if path.endswith(("/typing.py", "/abc.py")):
        return "typing"
    return "stdlib (other)"


def _cum(stats: dict[_FuncKey, Any], file_suffix: str, names: tuple[str, ...]) -> float:
    """Largest inclusive time among functions named ``names`` in a file ending with ``file_suffix``."""
    best = 0.0
    for (filename, _, name), row in stats.items():
        if name in names and filename.replace("\\", "/").endswith(file_suffix):
            best = max(best, row[3])
    return best


_Build = Callable[[], tuple[dict[str, Callable[[], Any]], list[Callable[[], Awaitable[Any]]]]]


def _profile(build: _Build, n: int) -> dict[str, dict[_FuncKey, Any]]:
    """Build the calls inside a fresh loop, profile ``n`` sequential calls of each, then close them."""
    out: dict[str, dict[_FuncKey, Any]] = {}

    async def body() -> None:
        reset_loop_bound_caches()
        calls, closers = build()
        try:
            for name, call in calls.items():
                for _ in range(10):
                    await call()
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(n):
                    await call()
                profiler.disable()
                out[name] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        finally:
            for close in closers:
                await close()

    asyncio.run(body())
    return out


def _build(base: str) -> tuple[dict[str, Callable[[], Any]], list[Callable[[], Awaitable[Any]]]]:
    import openai
    from any_llm import AnyLLM

    hub, alt_hub = make_hub(base), make_hub(base, transport="httpx")
    raw = openai.AsyncOpenAI(api_key=KEY, base_url=base, max_retries=0)
    instance = AnyLLM.create("openai", api_key=KEY, api_base=base)
    calls: dict[str, Callable[[], Any]] = {
        "raw AsyncOpenAI": lambda: raw.chat.completions.create(model=MODEL, messages=MESSAGES),
        "AnyLLM instance": lambda: instance.acompletion(model=MODEL, messages=MESSAGES),
        "hub.acompletion": lambda: hub.acompletion("llm.inference", MESSAGES),
    }
    if alt_hub is not None:
        calls["hub, transport: httpx"] = lambda: alt_hub.acompletion("llm.inference", MESSAGES)
    natives: list[Any] = []
    lc, _ = optional("langchain_llmhub")
    lco, _ = optional("langchain_openai")
    if lc is not None and lco is not None:
        lc_model = lc.RoleChatModel("llm.inference", hub=hub)
        lco_model = lco.ChatOpenAI(model=MODEL, base_url=base, api_key=KEY, max_retries=0)
        natives.append(lco_model)
        calls["RoleChatModel.ainvoke"] = lambda: lc_model.ainvoke(PROMPT)
        calls["ChatOpenAI.ainvoke"] = lambda: lco_model.ainvoke(PROMPT)
    li, _ = optional("llama_index.llms.llmhub")
    lio, _ = optional("llama_index.llms.openai")
    if li is not None and lio is not None:
        from llama_index.core.llms import ChatMessage

        msgs = [ChatMessage(role="user", content=PROMPT)]
        li_model = li.RoleLLM("llm.inference", hub=hub)
        lio_model = lio.OpenAI(model=MODEL, api_base=base, api_key=KEY, max_retries=0)
        natives.append(lio_model)
        calls["RoleLLM.achat"] = lambda: li_model.achat(msgs)
        calls["llama_index OpenAI.achat"] = lambda: lio_model.achat(msgs)
    closers: list[Callable[[], Awaitable[Any]]] = [
        hub.aclose,
        raw.close,
        anyllm_close(instance),
        lambda: aclose_native_clients(natives),
    ]
    if alt_hub is not None:
        closers.append(alt_hub.aclose)
    return calls, closers


def _usage_probe() -> dict[str, float]:
    """µs (unprofiled) of reading usage off a chat answer, as the hub does on every call."""
    import timeit

    from any_llm.types.completion import CompletionUsage

    from llmhub_runtime.hooks import Usage

    usage = CompletionUsage(prompt_tokens=9, completion_tokens=7, total_tokens=16)
    answer = type("Answer", (), {"usage": usage})()
    runs = 20_000
    return {
        "from_response_us": timeit.timeit(lambda: Usage.from_response(answer), number=runs) / runs * 1e6,
        "getattr_hit_us": timeit.timeit(lambda: getattr(usage, "prompt_tokens", None), number=runs) / runs * 1e6,
        "getattr_miss_us": timeit.timeit(lambda: getattr(usage, "input_tokens", None), number=runs) / runs * 1e6,
    }


def attribution(ctx: Ctx) -> Section:
    """Profiles of the async chat call for raw, any-llm and hub, and of the role adapters."""
    sec = Section("profile", "Profile: where one call's time goes (cProfile, sequential async calls)")
    n = ctx.n(300, 20)
    try:
        profiles = _profile(lambda: _build(ctx.base), n)
    except Exception as exc:
        traceback.print_exc()
        sec.lines = [f"profile failed: {type(exc).__name__}: {exc}"]
        return sec

    per_call: dict[str, dict[str, float]] = {}
    for name, stats in profiles.items():
        groups: dict[str, float] = defaultdict(float)
        for key, row in stats.items():
            groups[package_of(key)] += row[2]
        per_call[name] = {g: t / n * 1e6 for g, t in groups.items()}
    packages = sorted(
        {g for d in per_call.values() for g in d}, key=lambda g: -max(d.get(g, 0) for d in per_call.values())
    )
    shown = [g for g in packages if max(d.get(g, 0) for d in per_call.values()) >= 3.0]
    sec.lines = [
        f"Own time per call, µs under the profiler ({n} calls each), by package:",
        "",
        "| package | " + " | ".join(per_call) + " |",
        "|---|" + "---|" * len(per_call),
    ]
    for group in shown:
        sec.lines.append(f"| {group} | " + " | ".join(f"{d.get(group, 0):,.0f}" for d in per_call.values()) + " |")
    sec.lines.append("| **total** | " + " | ".join(f"**{sum(d.values()):,.0f}**" for d in per_call.values()) + " |")

    layers: list[str] = []
    for name in ("AnyLLM instance", "hub.acompletion", "hub, transport: httpx"):
        if name not in profiles:
            continue
        stats = profiles[name]
        total = sum(row[2] for row in stats.values()) / n * 1e6
        sdk = _cum(stats, "openai/resources/chat/completions/completions.py", ("create",)) / n * 1e6
        anyllm = _cum(stats, "any_llm/utils/exception_handler.py", ("wrapper", "streaming_wrapper")) / n * 1e6
        line = f"{name}: total {total:,.0f} µs/call; openai SDK `AsyncCompletions.create` (inclusive) {sdk:,.0f}"
        line += f"; any-llm layer (its entry point - SDK) {anyllm - sdk:,.0f} ({(anyllm - sdk) / total:.0%})"
        sec.data[name] = {"total_us": total, "sdk_us": sdk, "any_llm_us": anyllm - sdk}
        if name.startswith("hub"):
            hubcum = _cum(stats, "llmhub_runtime/hub.py", ("acompletion",)) / n * 1e6
            own = hubcum - anyllm
            line += f"; llmhub layer (`LLMHub.acompletion` - any-llm entry) {own:,.0f} ({own / total:.0%})"
            sec.data[name]["llmhub_us"] = own
        layers.append(line)
    sec.lines += ["", "Layers (inclusive time, µs/call under the profiler):", ""] + [f"- {line}" for line in layers]

    hub_stats = profiles.get("hub.acompletion")
    if hub_stats and "hub.acompletion" in sec.data:
        end = _cum(hub_stats, "llmhub_runtime/hub.py", ("_aemit_end",)) / n * 1e6
        sec.data["hub.acompletion"]["end_event_us"] = end
        sec.data["usage_probe"] = _usage_probe()
    if hub_stats:
        top = sorted(
            ((k, r) for k, r in hub_stats.items() if package_of(k) == "llmhub_runtime"), key=lambda kr: -kr[1][3]
        )[:8]
        sec.lines += ["", "llmhub_runtime functions by inclusive time (hub.acompletion profile):", "",
                      "| function | calls/call | own µs/call | inclusive µs/call |", "|---|---|---|---|"]  # fmt: skip
        for (filename, line_no, func), row in top:
            short = filename.replace("\\", "/").split("/llmhub_runtime/")[-1]
            sec.lines.append(
                f"| `{short}:{line_no} {func}` | {row[1] / n:.1f} | {row[2] / n * 1e6:,.1f} | {row[3] / n * 1e6:,.1f} |"
            )
    sec.data["per_call_by_package"] = per_call
    return sec
