"""A worker process for the cross-process cache tests: build a hub, say ready, call on 'go'.

Usage: python cache_worker.py CONFIG_JSON (prints one JSON line with the answer).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from llmhub_runtime import LLMHub


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    with LLMHub(config=config) as hub:
        hub.resolve("llm.inference")
        import any_llm.providers.openai  # noqa: F401 - imported before 'go', so the race is the calls'

        print("ready", flush=True)  # noqa: T201
        sys.stdin.readline()
        answer = hub.completion("llm.inference", [{"role": "user", "content": "shared question"}])
        stats = hub.cache_stats()["llm.inference"]
        print(json.dumps({"text": answer.choices[0].message.content, "hits": stats.hits}), flush=True)  # noqa: T201


if __name__ == "__main__":
    main()
