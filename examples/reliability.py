"""Retries and fallbacks declared in the config, shown against the stand-in server with faults.

    python examples/reliability.py

Starts llmhub's loopback stand-in server, makes the primary target fail (a 503, then a
rate limit with a long Retry-After) and prints each attempt as the hooks see it: the hub
retries the primary, moves to the fallback role, and answers from there. No app code names a
model or says what to do on failure: that is all in examples/reliability/llmhub.yaml.
"""

from __future__ import annotations

import os
from pathlib import Path

from llmhub_runtime import CallEvent, LLMHub
from llmhub_runtime.testing import Fault, StandInServer

CONFIG = Path(__file__).resolve().parent / "reliability" / "llmhub.yaml"


class PrintAttempts:
    """A hook: one line per attempt."""

    def on_error(self, event: CallEvent) -> None:
        then = "give up" if event.final else "next target"
        if event.wait is not None:
            then = f"retry in {event.wait:.2f}s"
        print(f"  attempt {event.attempt} on {event.provider}/{event.model}: {event.error_type} -> {then}")

    def on_end(self, event: CallEvent) -> None:
        print(f"  attempt {event.attempt} on {event.provider}/{event.model}: answered in {event.latency:.3f}s")


def main() -> None:
    with StandInServer() as server:
        os.environ["STANDIN_BASE"] = server.openai_base
        server.enqueue("main-model", Fault(status=503), Fault(status=429, headers={"Retry-After": "60"}))
        with LLMHub(CONFIG, hooks=[PrintAttempts()]) as hub:
            print("llm.inference chain:", " -> ".join(t.label for t in hub.resolve("llm.inference").targets))
            answer = hub.completion("llm.inference", "Hello?")
            print("answer from", answer.model, ":", answer.choices[0].message.content)
            stats = hub.usage().targets
            print("errors per target:", {name: s.errors for name, s in stats.items()})


if __name__ == "__main__":
    main()
