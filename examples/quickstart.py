"""llmhub quickstart on a real local model — no API key, no network beyond 127.0.0.1.

Starts SmolLM2-135M-Instruct in llama.cpp's server (xllamacpp), then, all by role name from
``examples/local/llmhub.yaml``:

1. streams an answer from the chat role ``llm.inference``;
2. embeds two sentences with the embedding role ``llm.embedding``;
3. runs a LangChain chain on ``RoleChatModel("llm.inference")``;
4. indexes three documents in LlamaIndex with ``RoleEmbedding`` and queries them with ``RoleLLM``;

then stops the server. The model is tiny: its answers show the plumbing, not quality.

    python examples/quickstart.py          # from any directory; Ctrl-C stops it cleanly
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from llmhub_runtime import LLMHub
from llmhub_runtime.local import LocalModelServer

CONFIG = Path(__file__).resolve().parent / "local" / "llmhub.yaml"


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def direct_calls(hub: LLMHub) -> None:
    step("1. chat role 'llm.inference', streamed")
    call = hub.resolve("llm.inference")
    print(f"   role resolves to {call.provider}/{call.model} ({call.kind}, {call.api_base})")
    started = time.perf_counter()
    usage = None
    print("   > ", end="", flush=True)
    for chunk in hub.completion("llm.inference", "Name three colours of the rainbow.", stream=True):
        for choice in chunk.choices:
            print(choice.delta.content or "", end="", flush=True)
        usage = chunk.usage or usage
    print(
        f"\n   usage: {usage.prompt_tokens if usage else '?'} in, {usage.completion_tokens if usage else '?'} out;"
        f" {time.perf_counter() - started:.2f}s"
    )

    step("2. embedding role 'llm.embedding'")
    response = hub.embedding("llm.embedding", ["The sky is blue.", "Grass is green."])
    vector = response.data[0].embedding
    preview = [round(v, 3) for v in vector[:4]]
    print(f"   {len(response.data)} vectors of dimension {len(vector)}; first values {preview}")

    step("   the same through the async API")
    answer = asyncio.run(hub.acompletion("llm.inference", "Say hello in one word."))
    print(f"   > {answer.choices[0].message.content!r}")


def langchain_chain() -> None:
    step("3. LangChain: prompt | RoleChatModel('llm.inference') | StrOutputParser()")
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_llmhub import RoleChatModel

    prompt = ChatPromptTemplate.from_messages([("system", "You answer briefly."), ("human", "{question}")])
    chain = prompt | RoleChatModel("llm.inference") | StrOutputParser()
    print(f"   > {chain.invoke({'question': 'What is the capital of France?'})!r}")


def llamaindex_query() -> None:
    step("4. LlamaIndex: VectorStoreIndex with RoleEmbedding, query engine with RoleLLM")
    from llama_index.core import Document, Settings, VectorStoreIndex
    from llama_index.embeddings.llmhub import RoleEmbedding
    from llama_index.llms.llmhub import RoleLLM

    Settings.llm = RoleLLM("llm.inference")
    Settings.embed_model = RoleEmbedding("llm.embedding")
    documents = [
        Document(text="llmhub calls language models by role name, from a validated llmhub.yaml."),
        Document(text="Every provider call in llmhub goes through any-llm."),
        Document(text="Paris is the capital of France."),
    ]
    index = VectorStoreIndex.from_documents(documents)
    response = index.as_query_engine(similarity_top_k=2).query("What does llmhub call models by?")
    print(f"   > {str(response).strip()!r}")
    print(f"   sources: {[node.node.get_content()[:40] for node in response.source_nodes]}")


def main() -> None:
    step("0. starting the local model server (llama.cpp via xllamacpp)")
    with LocalModelServer() as server:
        print(f"   serving {server.model_path.name} at {server.base_url}")
        os.environ["LLMHUB_LOCAL_BASE"] = server.base_url
        os.environ["LLMHUB_CONFIG"] = str(CONFIG)
        with LLMHub(CONFIG) as hub:
            direct_calls(hub)
        langchain_chain()
        llamaindex_query()
        step("stopping the local model server")
    print("   done.")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C: the `with` blocks above have closed the hub and stopped the server
        print("\ninterrupted: the local model server is stopped.", file=sys.stderr)
        sys.exit(130)
