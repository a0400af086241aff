"""Sockets, pool entries and memory over many ``asyncio.run(hub.acompletion(...))`` calls.

Each ``asyncio.run`` is a new event loop, so each call builds a client (an async HTTP client is
bound to its loop). Those clients must go with their loops: this prints the open file
descriptors, the hub's pool entries and the process's RSS before and after, and the time per call.

    python benchmarks/loops.py              # 1,000 calls on the OpenAI wire
    python benchmarks/loops.py --runs 300 --wire anthropic
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time

from llmhub_runtime import LLMHub
from llmhub_runtime.testing import StandInServer


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--wire", choices=["openai", "anthropic"], default="openai")
    options = parser.parse_args()
    with StandInServer() as server:
        cfg = server.chat_config()
        cfg["roles"]["llm.inference"]["provider"] = "standin" if options.wire == "openai" else "standin-anthropic"
        hub = LLMHub(config=cfg)
        asyncio.run(hub.acompletion("llm.inference", "warm up"))
        fds, pool, rss = len(os.listdir("/proc/self/fd")), len(hub._clients), rss_mb()
        start = time.perf_counter()
        for index in range(options.runs):
            asyncio.run(hub.acompletion("llm.inference", f"call {index}"))
            if index % 100 == 99:
                server.reset()  # the stand-in records every request (~3 KB each): not the client's memory
        seconds = time.perf_counter() - start
        print(f"{options.runs} x asyncio.run(hub.acompletion(...)) on the {options.wire} wire")
        print(f"  open fds:     {fds} -> {len(os.listdir('/proc/self/fd'))}")
        print(f"  pool entries: {pool} -> {len(hub._clients)}")
        print(f"  RSS:          {rss:.1f} MB -> {rss_mb():.1f} MB")
        print(f"  time:         {seconds:.2f} s ({seconds / options.runs * 1000:.1f} ms per call)")
        hub.close()


if __name__ == "__main__":
    main()
