"""Fresh-process measurements: cold imports, a new hub's first call, a 50-role hub's memory; config load.

``python benchmarks/probes.py import MODULE`` / ``first-call BASE`` / ``memory BASE`` each print one
JSON line; ``cold_start`` runs them in new interpreters and summarizes. ``config_load`` runs in
process (the loader is pure Python on a file written to a temp dir).
"""

from __future__ import annotations

import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.candidates import MESSAGES, TEXTS, hub_config, setup_paths
from benchmarks.harness import Check, Ctx, Section

__all__ = ["DEFAULT_IMPORTS", "ORIENTATION_IMPORTS", "cold_start", "config_load"]

HUB_IMPORT = "from llmhub_runtime import LLMHub"
DEFAULT_IMPORTS = (
    "import llmhub_runtime",
    HUB_IMPORT,
    "import langchain_llmhub",
    "import llama_index.llms.llmhub",
)
ORIENTATION_IMPORTS = (
    "import any_llm",
    "import litellm",
    "import langchain_openai",
    "import llama_index.llms.openai",
)
SDK_MODULES = ("openai", "anthropic", "any_llm", "httpx", "litellm", "langchain_openai", "llama_index.llms.openai")


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


_IMPORT_SNIPPET = """
import sys, time
start = time.perf_counter()
{statement}
seconds = time.perf_counter() - start
import json
print(json.dumps({{"seconds": seconds, "sdks": [m for m in {sdks!r} if m in sys.modules]}}))
"""
"""Nothing but ``sys`` and ``time`` is imported before the measured import."""


def probe_first_call(base: str) -> dict[str, Any]:
    start = time.perf_counter()
    from llmhub_runtime import LLMHub

    imported = time.perf_counter()
    hub = LLMHub(config=hub_config(base))
    built = time.perf_counter()
    sdks_before = [m for m in SDK_MODULES if m in sys.modules]
    hub.completion("llm.inference", MESSAGES)
    first = time.perf_counter()
    hub.completion("llm.inference", MESSAGES)
    second = time.perf_counter()
    hub.close()
    return {
        "import": imported - start,
        "construct": built - imported,
        "first_call": first - built,
        "second_call": second - first,
        "sdks_before_first_call": sdks_before,
    }


def probe_raw_first_call(base: str) -> dict[str, Any]:
    start = time.perf_counter()
    import openai

    client = openai.OpenAI(api_key="sk-bench-not-a-key", base_url=base, max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    first = time.perf_counter()
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    return {"first_call": first - start, "second_call": time.perf_counter() - first}


def probe_memory(base: str) -> dict[str, Any]:
    """RSS added by a 50-role hub, beyond the modules a call imports and any-llm's runner thread."""
    import tracemalloc

    from any_llm import AnyLLM

    from llmhub_runtime import LLMHub

    warm = AnyLLM.create("openai", api_key="sk-bench-not-a-key", api_base=base)  # import what a call imports
    warm.completion(model="gpt-4o-mini", messages=MESSAGES)
    warm._embedding("text-embedding-3-small", TEXTS[:2])
    warm_hub = LLMHub(config=hub_config(base))
    warm_hub.completion("llm.inference", MESSAGES)
    warm_hub.close()
    del warm, warm_hub
    for _ in range(3):
        gc.collect()
    rss0 = _rss_kib()
    config = hub_config(base, extra_roles=50)
    config["roles"] = {k: v for k, v in config["roles"].items() if k.startswith("role.")}
    ends: dict[str, Any] = {}

    class Recorder:
        def on_end(self, event: Any) -> None:
            ends[event.role] = event

    hub = LLMHub(config=config, hooks=[Recorder()])
    gc.collect()
    rss1 = _rss_kib()
    for role in hub.roles:
        if hub.resolve(role).mode == "chat":
            hub.completion(role, MESSAGES)
        else:
            hub.embedding(role, TEXTS[:2])
    gc.collect()
    rss2 = _rss_kib()
    ledger = getattr(hub, "_ledger", None)  # the usage ledger keeps a window of latencies per role and target
    window = 0
    if ledger is not None:
        import dataclasses

        from llmhub_runtime import usage as usage_module

        window = int(getattr(usage_module, "WINDOW", 1024))
        for event in ends.values():
            for i in range(window):
                ledger.record(dataclasses.replace(event, latency=0.001 + i * 1e-6))
    gc.collect()
    rss3 = _rss_kib()
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    hub2 = LLMHub(config=config)
    snap1 = tracemalloc.take_snapshot()
    traced = sum(stat.size_diff for stat in snap1.compare_to(snap0, "filename"))
    tracemalloc.stop()
    hub.close()
    hub2.close()
    return {
        "roles": len(hub.roles),
        "construct_kib": rss1 - rss0,
        "after_calls_kib": rss2 - rss0,
        "ledger_full_kib": rss3 - rss0,
        "window": window,
        "traced_construct_kib": traced / 1024,
        "baseline_kib": rss0,
    }


def _run(args: list[str], timeout: float = 120.0) -> dict[str, Any]:
    if args[0] == "import":
        command = ["-c", _IMPORT_SNIPPET.format(statement=args[1], sdks=SDK_MODULES)]
    else:
        command = [str(Path(__file__).resolve()), *args]
    out = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, *command],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": tail[:200]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def import_breakdown(statement: str, package: str, runs: int) -> tuple[float, list[tuple[str, float]]]:
    """``-X importtime`` of ``statement`` (the fastest of ``runs``): total ms, and where it goes.

    Rows: each module that ``package``'s own code imports (cumulative ms), and each of
    ``package``'s own modules (self ms: its body, e.g. building pydantic model classes).
    """

    def ours(name: str) -> bool:
        return name == package or name.startswith(package + ".")

    best: tuple[float, list[tuple[str, float]]] | None = None
    for _ in range(runs):
        code = f"import sys; sys.stderr.write('--measured--\\n'); {statement}"
        out = subprocess.run(  # noqa: S603 - our own interpreter, a statement from this file
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        rows = []
        measured = False
        for line in out.stderr.splitlines():
            measured = measured or line == "--measured--"
            if not measured or not line.startswith("import time:") or "cumulative" in line:
                continue
            head, cum_text, name = line.split("|", 2)
            rows.append((len(name) - len(name.lstrip()), name.strip(), int(head.split(":")[1]), int(cum_text)))
        top = min((depth for depth, *_ in rows), default=0)
        total = sum(cum for depth, _, _, cum in rows if depth == top) / 1000
        stack: list[tuple[int, str]] = []
        parts: dict[str, float] = {}
        for depth, name, self_us, cum_us in reversed(rows):  # parents come first in reverse order
            while stack and stack[-1][0] >= depth:
                stack.pop()
            if ours(name):
                parts[f"{name} (self)"] = self_us / 1000
            elif all(ours(parent) for _, parent in stack):
                parts[name] = parts.get(name, 0.0) + cum_us / 1000
            stack.append((depth, name))
        result = (total, sorted(parts.items(), key=lambda kv: -kv[1]))
        if best is None or total < best[0]:
            best = result
    assert best is not None
    return best


def cold_start(ctx: Ctx) -> Section:
    """6. Cold imports (best of several fresh processes), a new hub's first call, 50-role memory."""
    setup_paths()
    sec = Section("cold", "6. Cold start: imports, first call of a new hub, memory of a 50-role hub")
    statements = DEFAULT_IMPORTS + (() if ctx.quick else ORIENTATION_IMPORTS)
    sec.lines = [
        "| import (fresh process) | best of | best ms | median ms | SDK / HTTP modules it loads |",
        "|---|---|---|---|---|",
    ]
    imports: dict[str, Any] = {}
    for statement in statements:
        repeats = ctx.n(5 if statement in DEFAULT_IMPORTS else 3, 1)
        runs = [_run(["import", statement]) for _ in range(repeats)]
        good = [r for r in runs if "error" not in r]
        if not good:
            sec.lines.append(f"| `{statement}` | {repeats} | n/a | n/a | ← {runs[0]['error']} |")
            imports[statement] = None
            continue
        times = [r["seconds"] * 1000 for r in good]
        imports[statement] = {"best_ms": min(times), "median_ms": statistics.median(times), "sdks": good[0]["sdks"]}
        sdks = ", ".join(good[0]["sdks"]) or "none"
        sec.lines.append(
            f"| `{statement}` | {len(good)} | {min(times):,.0f} | {statistics.median(times):,.0f} | {sdks} |"
        )
    sec.data["imports"] = imports
    total, parts = import_breakdown(HUB_IMPORT, "llmhub_runtime", ctx.n(3, 1))
    shown = [(name, ms) for name, ms in parts if ms >= 2.0]
    sec.lines += [
        "",
        f"What `{HUB_IMPORT}` spends its time on (`python -X importtime`, fastest of runs: {total:.0f} ms "
        "in all; the tool itself adds overhead):",
        "",
        "| imported by llmhub_runtime's code, or its own module body | ms |",
        "|---|---|",
        *(f"| `{name}` | {ms:.1f} |" for name, ms in shown),
    ]
    sec.data["import_breakdown"] = {"total_ms": total, "parts": parts}
    core = imports.get("import llmhub_runtime")
    hub_import = imports.get(HUB_IMPORT)
    sec.checks.append(
        Check(
            "import llmhub_runtime ≤ 100 ms (fresh process, best of runs)",
            f"{core['best_ms']:.0f} ms" if core else "n/a",
            "≤ 100 ms",
            None if not core else core["best_ms"] <= 100,
        )
    )
    sec.checks.append(
        Check(
            "import llmhub_runtime loads no provider SDK",
            ", ".join(core["sdks"]) or "none loaded" if core else "n/a",
            "none of openai, anthropic, any_llm, httpx",
            None if not core else not core["sdks"],
        )
    )
    if hub_import:
        sec.checks.append(
            Check(
                f"`{HUB_IMPORT}` loads no provider SDK",
                ", ".join(hub_import["sdks"]) or "none loaded",
                "none of openai, anthropic, any_llm, httpx",
                not hub_import["sdks"],
            )
        )
        sec.notes.append(
            f"`{HUB_IMPORT}`, what applications write, takes {hub_import['best_ms']:.0f} ms (best) against "
            f"{core['best_ms'] if core else math.nan:.0f} ms for `import llmhub_runtime`; the breakdown above is "
            "of the former."
        )

    firsts = [_run(["first-call", ctx.base]) for _ in range(ctx.n(3, 1))]
    raws = [_run(["raw-first-call", ctx.base]) for _ in range(ctx.n(3, 0))]
    good = [r for r in firsts if "error" not in r]
    sec.lines += ["", "| new hub in a fresh process (median of runs) | ms |", "|---|---|"]
    if good:
        for key, label in (
            ("import", "from llmhub_runtime import LLMHub"),
            ("construct", "LLMHub(config=...) (validate + resolve roles)"),
            ("first_call", "first hub.completion (lazy import of any-llm + openai, client, connect)"),
            ("second_call", "second hub.completion"),
        ):
            sec.lines.append(f"| {label} | {statistics.median(r[key] for r in good) * 1000:,.1f} |")
        before = good[0]["sdks_before_first_call"]
        sec.checks.append(
            Check(
                "no provider SDK imported before the first call (LLMHub built)",
                ", ".join(before) or "none loaded",
                "none",
                not before,
            )
        )
    else:
        sec.lines.append(f"| first call | n/a ← {firsts[0]['error']} |")
    good_raw = [r for r in raws if "error" not in r]
    if good_raw:
        sec.lines.append(
            f"| for orientation: import openai + client + first call | "
            f"{statistics.median(r['first_call'] for r in good_raw) * 1000:,.1f} |"
        )
    sec.data["first_call"] = good
    sec.data["raw_first_call"] = good_raw

    mems = [_run(["memory", ctx.base]) for _ in range(ctx.n(3, 1))]
    good_mem = [m for m in mems if "error" not in m]
    if good_mem:
        construct = statistics.median(m["construct_kib"] for m in good_mem) / 1024
        after = statistics.median(m["after_calls_kib"] for m in good_mem) / 1024
        traced = statistics.median(m["traced_construct_kib"] for m in good_mem) / 1024
        sec.lines += [
            "",
            f"| hub with {good_mem[0]['roles']} roles, fresh process (median of {len(good_mem)}) | MB |",
            "|---|---|",
            f"| RSS added by constructing it | {construct:.2f} |",
            f"| RSS added after one call on each role (incl. its pooled any-llm client) | {after:.2f} |",
            f"| Python heap of the constructed hub (tracemalloc) | {traced:.2f} |",
        ]
        if good_mem[0].get("window"):
            full = statistics.median(m["ledger_full_kib"] for m in good_mem) / 1024
            sec.lines.append(
                f"| RSS added once `hub.usage()`'s latency windows are full ({good_mem[0]['window']} per role and "
                f"per target; filled by replaying recorded end events into the hub's ledger) | {full:.2f} |"
            )
            sec.checks.append(
                Check("50-role hub ≤ 5 MB with full usage windows", f"{full:.2f} MB", "≤ 5 MB", full <= 5)
            )
        sec.checks.append(
            Check(
                "50-role hub adds ≤ 5 MB resident (after a call on every role)", f"{after:.2f} MB", "≤ 5 MB", after <= 5
            )
        )
        sec.notes.append(
            "Memory baseline: the same process already imported llmhub_runtime, any-llm and openai, made a call "
            "through an AnyLLM instance and a 1-role hub (so modules, any-llm's runner thread and lazily imported "
            "SDK types are not counted). The 50 roles share one provider entry, so one pooled client."
        )
    else:
        sec.lines.append(f"\nmemory probe failed: {mems[0]['error']}")
    sec.data["memory"] = good_mem
    return sec


def _config_yaml(roles: int) -> str:
    lines = [
        "project: bench",
        "env: ${BENCH_ENV:-dev}",
        "providers:",
        "  openai:",
        "    env_key: OPENAI_API_KEY",
        "  anthropic: {}",
        "  local:",
        "    kind: openai",
        "    api_base: ${LOCAL_BASE:-http://127.0.0.1:8080/v1}",
        "    env_key: null",
        "    timeout: 30",
        "    retry: {max_attempts: 3, backoff: 0.5}",
        "defaults:",
        "  provider: openai",
        "  model: gpt-4o-mini",
        "  mode: chat",
        "  params: {temperature: 0.2}",
        "roles:",
    ]
    providers = ("openai", "anthropic", "local")
    for i in range(roles):
        mode = "embedding" if i % 10 == 9 else "chat"
        provider = providers[i % 3] if mode == "chat" else ("openai", "local")[i % 2]
        lines += [
            f"  team{i // 20}.role{i:03d}:",
            f"    provider: {provider}",
            f"    model: model-{i}",
            f"    mode: {mode}",
            f"    description: role number {i}",
        ]
        if mode == "chat":
            lines += ["    params:", "      max_tokens: 256", f"      temperature: 0.{i % 10}"]
            if i % 4 == 0 and i > 0:
                lines += (
                    ["    fallbacks:", f"      - role: team{(i - 1) // 20}.role{i - 1:03d}"]
                    if (i - 1) % 10 != 9
                    else []
                )
            if i % 5 == 0:
                lines += ["    retry: {max_attempts: 2}", "    timeout: 20"]
    return "\n".join(lines) + "\n"


def config_load(ctx: Ctx) -> Section:
    """8. ``load_config`` of a 200-role file: median ms in this process."""
    from llmhub_runtime import load_config

    sec = Section("config", "8. Config load + validation of a 200-role file")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "llmhub.yaml"
        path.write_text(_config_yaml(200), encoding="utf-8")
        config = load_config(path)
        assert len(config.roles) == 200, len(config.roles)
        times = []
        gc.collect()
        gc.freeze()  # keep each run's collection to the loader's own garbage
        try:
            for _ in range(ctx.n(60, 5)):
                gc.collect()
                start = time.perf_counter()
                load_config(path)
                times.append((time.perf_counter() - start) * 1000)
        finally:
            gc.unfreeze()
        size = path.stat().st_size
    med = statistics.median(times)
    sec.lines = [
        "| file | runs | median ms | best ms |",
        "|---|---|---|---|",
        f"| 200 roles, 3 providers, defaults, fallbacks, `${{VAR:-default}}` ({size / 1024:.0f} KiB) | {len(times)} "
        f"| {med:.1f} | {min(times):.1f} |",
    ]
    sec.checks.append(
        Check("config load + validation, 200 roles ≤ 50 ms", f"{med:.1f} ms median", "≤ 50 ms", med <= 50)
    )
    sec.data = {"median_ms": med, "best_ms": min(times), "runs": len(times)}
    return sec


def main(argv: list[str]) -> None:
    kind, arg = argv[0], argv[1]
    setup_paths()
    probes = {
        "first-call": probe_first_call,
        "raw-first-call": probe_raw_first_call,
        "memory": probe_memory,
    }
    print(json.dumps(probes[kind](arg)))


if __name__ == "__main__":
    main(sys.argv[1:])
