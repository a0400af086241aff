"""Direct hub calls by role: sync, async, streaming, embeddings, and what a role resolves to.

    python examples/hub_calls.py                                   # the local model (llmhub serve-local)
    LLMHUB_CONFIG=path/to/llmhub.yaml python examples/hub_calls.py

Needs a chat role ``llm.inference`` and an embedding role ``llm.embedding`` in the config:
``$LLMHUB_CONFIG``, else ``local/llmhub.yaml`` next to this file (the local model; start it with
``llmhub serve-local``). Runs from any directory.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from llmhub_runtime import LLMHub, LLMHubError

# The config: $LLMHUB_CONFIG, else the local-model config next to this file (not the working directory's).
os.environ.setdefault("LLMHUB_CONFIG", str(Path(__file__).resolve().parent / "local" / "llmhub.yaml"))


def main() -> None:
    with LLMHub() as hub:  # $LLMHUB_CONFIG
        # What does the role call? Provider, model and merged params, without any network.
        call = hub.resolve("llm.inference")
        print(f"llm.inference -> {call.provider}/{call.model} params={dict(call.params)}")

        # 1. A plain call: any-llm's ChatCompletion (OpenAI types).
        answer = hub.completion("llm.inference", [{"role": "user", "content": "Say hello."}])
        print("sync:", answer.choices[0].message.content)

        # 2. Streaming: chunks as they arrive; the last one carries usage.
        print("stream: ", end="")
        for chunk in hub.completion("llm.inference", "Count to three.", stream=True, max_tokens=30):
            for choice in chunk.choices:
                print(choice.delta.content or "", end="", flush=True)
        print()

        # 3. Async, many at once, on one pooled HTTP client.
        async def several() -> list[str]:
            answers = await asyncio.gather(*(hub.acompletion("llm.inference", f"Say {w}.") for w in ("a", "b", "c")))
            return [a.choices[0].message.content or "" for a in answers]

        print("async:", asyncio.run(several()))

        # 4. Embeddings.
        vectors = hub.embedding("llm.embedding", ["first text", "second text"])
        print("embedding dims:", [len(d.embedding) for d in vectors.data])

        # 5. Errors are typed and say how to fix them.
        try:
            hub.completion("llm.inferense", "hi")
        except LLMHubError as error:
            print(f"{type(error).__name__}: {error}")

        # 6. Usage so far, per role.
        for role, stats in hub.usage().roles.items():
            print(f"usage {role}: {stats.calls} calls, {stats.input_tokens} in / {stats.output_tokens} out")


if __name__ == "__main__":
    main()
