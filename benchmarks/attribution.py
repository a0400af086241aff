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
from collections.abc import Callable
from typing import Any

from benchmarks.candidates import KEY, MESSAGES, MODEL, PROMPT, hub_config, optional, reset_loop_bound_caches
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


def _profile(calls: dict[str, Callable[[], Any]], n: int) -> dict[str, dict[_FuncKey, Any]]:
    out: dict[str, dict[_FuncKey, Any]] = {}

    async def body() -> None:
        reset_loop_bound_caches()
        for name, call in calls.items():
            for _ in range(10):
                await call()
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(n):
                await call()
            profiler.disable()
            out[name] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    asyncio.run(body())
    return out


def attribution(ctx: Ctx) -> Section:
    """Profiles of the async chat call for raw, any-llm and hub, and of the role adapters."""
    import openai
    from any_llm import AnyLLM

    from llmhub_runtime import LLMHub

    sec = Section("profile", "Profile: where one call's time goes (cProfile, sequential async calls)")
    n = ctx.n(300, 20)
    made: dict[str, Any] = {}

    def lazily(key: str, build: Callable[[], Any]) -> Any:
        if key not in made:
            made[key] = build()
        return made[key]

    hub = lambda: lazily("hub", lambda: LLMHub(config=hub_config(ctx.base)))  # noqa: E731
    calls: dict[str, Callable[[], Any]] = {
        "raw AsyncOpenAI": lambda: lazily(
            "raw", lambda: openai.AsyncOpenAI(api_key=KEY, base_url=ctx.base, max_retries=0)
        ).chat.completions.create(model=MODEL, messages=MESSAGES),
        "AnyLLM instance": lambda: lazily(
            "any", lambda: AnyLLM.create("openai", api_key=KEY, api_base=ctx.base)
        ).acompletion(model=MODEL, messages=MESSAGES),
        "hub.acompletion": lambda: hub().acompletion("llm.inference", MESSAGES),
    }
    lc, _ = optional("langchain_llmhub")
    lco, _ = optional("langchain_openai")
    if lc is not None and lco is not None:
        calls["RoleChatModel.ainvoke"] = lambda: lazily(
            "lc", lambda: lc.RoleChatModel("llm.inference", hub=hub())
        ).ainvoke(PROMPT)
        calls["ChatOpenAI.ainvoke"] = lambda: lazily(
            "lco", lambda: lco.ChatOpenAI(model=MODEL, base_url=ctx.base, api_key=KEY, max_retries=0)
        ).ainvoke(PROMPT)
    li, _ = optional("llama_index.llms.llmhub")
    lio, _ = optional("llama_index.llms.openai")
    if li is not None and lio is not None:
        from llama_index.core.llms import ChatMessage

        msgs = [ChatMessage(role="user", content=PROMPT)]
        calls["RoleLLM.achat"] = lambda: lazily("li", lambda: li.RoleLLM("llm.inference", hub=hub())).achat(msgs)
        calls["llama_index OpenAI.achat"] = lambda: lazily(
            "lio", lambda: lio.OpenAI(model=MODEL, api_base=ctx.base, api_key=KEY, max_retries=0)
        ).achat(msgs)
    try:
        profiles = _profile(calls, n)
    except Exception as exc:
        traceback.print_exc()
        sec.lines = [f"profile failed: {type(exc).__name__}: {exc}"]
        return sec
    finally:
        if "hub" in made:
            made["hub"].close()

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
    for name in ("AnyLLM instance", "hub.acompletion"):
        stats = profiles.get(name)
        if stats is None:
            continue
        total = sum(row[2] for row in stats.values()) / n * 1e6
        sdk = _cum(stats, "openai/resources/chat/completions/completions.py", ("create",)) / n * 1e6
        anyllm = _cum(stats, "any_llm/utils/exception_handler.py", ("wrapper", "streaming_wrapper")) / n * 1e6
        line = f"{name}: total {total:,.0f} µs/call; openai SDK `AsyncCompletions.create` (inclusive) {sdk:,.0f}"
        line += f"; any-llm layer (its entry point - SDK) {anyllm - sdk:,.0f} ({(anyllm - sdk) / total:.0%})"
        if name == "hub.acompletion":
            hubcum = _cum(stats, "llmhub_runtime/hub.py", ("acompletion",)) / n * 1e6
            own = hubcum - anyllm
            line += f"; llmhub layer (`LLMHub.acompletion` - any-llm entry) {own:,.0f} ({own / total:.0%})"
        layers.append(line)
        sec.data[name] = {"total_us": total, "sdk_us": sdk, "any_llm_us": anyllm}
    sec.lines += ["", "Layers (inclusive time, µs/call under the profiler):", ""] + [f"- {line}" for line in layers]

    hub_stats = profiles.get("hub.acompletion")
    if hub_stats:
        own = sorted(
            ((k, r) for k, r in hub_stats.items() if package_of(k) == "llmhub_runtime"), key=lambda kr: -kr[1][3]
        )[:8]
        sec.lines += ["", "llmhub_runtime functions by inclusive time (hub.acompletion profile):", "",
                      "| function | calls/call | own µs/call | inclusive µs/call |", "|---|---|---|---|"]  # fmt: skip
        for (filename, line_no, func), row in own:
            short = filename.replace("\\", "/").split("/llmhub_runtime/")[-1]
            sec.lines.append(
                f"| `{short}:{line_no} {func}` | {row[1] / n:.1f} | {row[2] / n * 1e6:,.1f} | {row[3] / n * 1e6:,.1f} |"
            )
    sec.data["per_call_by_package"] = per_call
    return sec
