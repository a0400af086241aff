"""A worker process of the multi-process traffic tests (and of benchmarks/traffic.py).

Serves jobs until stdin closes. Per job: reads a JSON spec line ({"config", "role", "calls",
"prompt"}), builds a fresh hub, prints "ready", waits for a "go" line, makes the calls one after
another and prints one JSON line: each call's outcome ("ok:<model>" or the error type), when it
started and ended, and the hub's traffic metrics.
"""

from __future__ import annotations

import json
import sys
import time


def run(spec: dict[str, object]) -> None:
    from llmhub_runtime import LLMHub

    hub = LLMHub(config=spec["config"])  # type: ignore[arg-type]
    messages = [{"role": "user", "content": spec.get("prompt", "hi")}]
    print("ready", flush=True)
    sys.stdin.readline()
    outcomes = []
    started = time.time()
    for _ in range(int(spec["calls"])):  # type: ignore[call-overload]
        try:
            answer = hub.completion(str(spec["role"]), messages)
            outcomes.append(f"ok:{answer.model}")
        except Exception as exc:
            outcomes.append(type(exc).__name__)
    report = {"outcomes": outcomes, "started": started, "ended": time.time(),
              "metrics": hub.traffic.metrics if hub.traffic else {}}  # fmt: skip
    hub.close()
    print(json.dumps(report), flush=True)


def main() -> None:
    import any_llm.providers.openai  # noqa: F401 - imported before any clock starts

    print("up", flush=True)

    for line in sys.stdin:
        if line.strip():
            run(json.loads(line))


if __name__ == "__main__":
    main()
