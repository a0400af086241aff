"""Response-cache benchmark: hit latency against a miss, and re-embedding 10,000 documents.

Run ``python benchmarks/cache.py`` (``--quick`` for a smoke run); it writes benchmarks/CACHE.md.
The loopback server is ``benchmarks/server.py`` in its own process, as in ``run.py``. Three
measurements, each side by side in the same run:

1. chat: a hit (the same request again) vs a miss (a new prompt each time) vs the same call on a
   role without a cache, per backend (memory, sqlite, and redis when ``redis-server`` exists);
2. embeddings: 10,000 documents in batches of 100, embedded once, then again with 1 % of the
   texts changed: requests, texts sent and time, with and without the cache.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import ServerProcess
from llmhub_runtime import LLMHub
from llmhub_runtime.testing.redis import RedisServer, redis_server_available

HERE = Path(__file__).resolve().parent


def config(base: str, cache: dict[str, Any] | None) -> dict[str, Any]:
    roles: dict[str, Any] = {
        "chat": {"provider": "bench", "model": "bench-chat", "mode": "chat"},
        "embed": {"provider": "bench", "model": "bench-embed", "mode": "embedding"},
    }
    if cache is not None:
        for role in roles.values():
            role["cache"] = cache
    return {"providers": {"bench": {"kind": "openai", "api_base": base, "env_key": None}}, "roles": roles}


def times(value: float, digits: int = 2) -> str:
    """A ratio as ``0.25x``."""
    return f"{value:.{digits}f}x"


def median_us(call: Callable[[int], Any], n: int) -> float:
    samples = []
    for i in range(n):
        start = time.perf_counter_ns()
        call(i)
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def chat_section(server: ServerProcess, backends: dict[str, dict[str, Any]], n: int) -> list[str]:
    lines = [
        "## Chat: hit vs miss (median µs per call)",
        "",
        "| backend | hit | miss (new prompt) | no cache | hit / no cache | miss / no cache |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    with LLMHub(config=config(server.base, None)) as plain:
        plain.completion("chat", "warm up")
        baseline = median_us(lambda i: plain.completion("chat", "same question"), n)
    for name, cache in backends.items():
        with LLMHub(config=config(server.base, cache)) as hub:
            hub.completion("chat", "same question", cache="refresh")
            hit = median_us(lambda i: hub.completion("chat", "same question"), n)
            tag = f"{name}-{time.time_ns()}"
            miss = median_us(lambda i, tag=tag: hub.completion("chat", f"question {tag} {i}"), n)  # type: ignore[misc]
        lines.append(
            f"| {name} | {hit:,.0f} | {miss:,.0f} | {baseline:,.0f} "
            f"| {times(hit / baseline, 3)} | {times(miss / baseline)} |"
        )
    return [*lines, ""]


def embed_section(server: ServerProcess, backends: dict[str, dict[str, Any]], docs: int) -> list[str]:
    batch = 100
    texts = [f"document number {i} about topic {i % 37}" for i in range(docs)]
    changed = list(texts)
    for i in range(0, docs, 100):  # 1 %
        changed[i] = texts[i] + " (edited)"
    lines = [
        f"## Embeddings: {docs:,} documents in batches of {batch}, then again with 1 % changed",
        "",
        "| backend | first pass: requests | s | second pass: requests | texts sent | s | second pass vs no cache |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def run_pass(hub: LLMHub, items: list[str]) -> tuple[int, float]:
        server.stats(reset=True)
        start = time.perf_counter()
        for i in range(0, len(items), batch):
            hub.embedding("embed", items[i : i + batch])
        elapsed = time.perf_counter() - start
        return server.stats()["requests"] - 1, elapsed  # less the stats request itself

    with LLMHub(config=config(server.base, None)) as plain:
        plain.embedding("embed", ["warm up"])
        first_n, first_s = run_pass(plain, texts)
        second_n, second_s = run_pass(plain, changed)
    lines.append(f"| no cache | {first_n} | {first_s:.2f} | {second_n} | {docs:,} | {second_s:.2f} | {times(1.0)} |")
    for name, cache in backends.items():
        with LLMHub(config=config(server.base, {**cache, "max_entries": docs * 2})) as hub:
            hub.embedding("embed", ["warm up"])
            first_n, first_s = run_pass(hub, texts)
            requests, seconds = run_pass(hub, changed)
            sent = hub.cache_stats()["embed"].misses - docs - 1
        lines.append(
            f"| {name} | {first_n} | {first_s:.2f} | {requests} | {sent:,} | {seconds:.2f} "
            f"| {times(seconds / second_s)} |"
        )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer calls and documents (a smoke run)")
    args = parser.parse_args()
    n, docs = (100, 1_000) if args.quick else (1_000, 10_000)
    with tempfile.TemporaryDirectory() as tmp, ServerProcess() as server:
        backends: dict[str, dict[str, Any]] = {
            "memory": {"backend": "memory"},
            "sqlite": {"backend": "sqlite", "path": str(Path(tmp) / "bench.sqlite")},
        }
        redis = RedisServer() if redis_server_available() else None
        if redis is not None:
            redis.start()
            backends["redis"] = {"backend": "redis", "url": redis.url}
        try:
            body = [*chat_section(server, backends, n), *embed_section(server, backends, docs)]
        finally:
            if redis is not None:
                redis.stop()
    head = [
        "# Response cache benchmark",
        "",
        f"`python benchmarks/cache.py{' --quick' if args.quick else ''}` on {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}, {time.strftime('%Y-%m-%d')}; "
        "loopback server in its own process; medians.",
        "",
    ]
    report = "\n".join([*head, *body])
    (HERE / "CACHE.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
