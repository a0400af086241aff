"""One worker process of benchmarks/traffic.py's LiteLLM Router run (same protocol as tests/traffic/worker.py).

Spec: {"base", "redis_port", "rpm", "calls"}. A Router with one deployment on the stand-in, ``rpm`` on
the deployment, usage-based routing v2 shared through Redis, no retries (so every failure is visible).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time


def run(spec: dict[str, object]) -> None:
    from litellm import Router

    router = Router(
        model_list=[
            {
                "model_name": "chat",
                "litellm_params": {
                    "model": "openai/bench-chat",
                    "api_base": spec["base"],
                    "api_key": "unused",
                    "rpm": spec["rpm"],
                },
            }
        ],
        redis_host="127.0.0.1",
        redis_port=spec["redis_port"],
        routing_strategy="usage-based-routing-v2",
        num_retries=0,
    )
    print("ready", flush=True)
    sys.stdin.readline()
    outcomes = []
    started = time.time()
    for _ in range(int(spec["calls"])):  # type: ignore[call-overload]
        try:
            router.completion(model="chat", messages=[{"role": "user", "content": "hi"}])
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(type(exc).__name__ + ("/429" if getattr(exc, "status_code", None) == 429 else ""))
    print(json.dumps({"outcomes": outcomes, "started": started, "ended": time.time()}), flush=True)


def main() -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network: use the bundled price map
    import litellm  # noqa: F401 - imported before any clock starts

    logging.disable(logging.WARNING)
    print("up", flush=True)
    for line in sys.stdin:
        if line.strip():
            run(json.loads(line))


if __name__ == "__main__":
    main()
