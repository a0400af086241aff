"""Run llmhub's benchmark suite against a loopback OpenAI-compatible server; write RESULTS.md.

    python benchmarks/run.py                 # full run (a few minutes on 2 cores)
    python benchmarks/run.py --quick         # smoke run, small samples (< 60 s)
    python benchmarks/run.py --quick --no-write
    python benchmarks/run.py --only sync,async

Everything talks to 127.0.0.1 only; every loop is bounded by a count and a time budget.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.candidates import setup_paths  # noqa: E402

setup_paths()

from benchmarks import report  # noqa: E402
from benchmarks.adapters import framework  # noqa: E402
from benchmarks.attribution import attribution  # noqa: E402
from benchmarks.chat import async_throughput, reliability, sync_latency  # noqa: E402
from benchmarks.harness import Ctx, Section, ServerProcess  # noqa: E402
from benchmarks.load import under_load  # noqa: E402
from benchmarks.payloads import embeddings, streaming  # noqa: E402
from benchmarks.probes import cold_start, config_load  # noqa: E402

SECTIONS: dict[str, Callable[[Ctx], Section]] = {
    "sync": sync_latency,
    "async": async_throughput,
    "stream": streaming,
    "embed": embeddings,
    "framework": framework,
    "cold": cold_start,
    "reliability": reliability,
    "config": config_load,
    "profile": attribution,
    "load": under_load,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small samples; a smoke run under 60 s")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write RESULTS.md")
    parser.add_argument("--only", default="", help=f"comma-separated sections: {','.join(SECTIONS)}")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "RESULTS.md"))
    parser.add_argument("--json", default="", help="also write the raw numbers to this JSON file")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)

    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")

    header = report.machine()
    started = time.perf_counter()
    sections: list[Section] = []
    failed = False
    with ServerProcess() as server:
        ctx = Ctx(server=server, quick=args.quick, rng=random.Random(args.seed))
        for key in chosen:
            t0 = time.perf_counter()
            print(f"[{time.perf_counter() - started:6.1f}s] {key} ...", file=sys.stderr, flush=True)
            try:
                sec = SECTIONS[key](ctx)
            except Exception as exc:  # one broken section must not hide the others
                failed = True
                traceback.print_exc()
                sec = Section(key, f"{key}: failed", lines=[f"`{type(exc).__name__}: {exc}`"])
            sec.seconds = time.perf_counter() - t0
            sections.append(sec)
    seconds = time.perf_counter() - started
    end_load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    text = report.render(sections, header, quick=args.quick, seconds=seconds, end_load=end_load)
    print(text)
    if not args.no_write:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({s.key: s.data for s in sections}, indent=1, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
