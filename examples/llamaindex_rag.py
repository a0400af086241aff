"""LlamaIndex RAG on llmhub roles: index a few documents with RoleEmbedding, answer with RoleLLM.

    pip install -e integrations/llamaindex
    LLMHUB_CONFIG=path/to/llmhub.yaml python examples/llamaindex_rag.py ["your question"]

The config needs a chat role and an embedding role (``llm.inference`` and ``llm.embedding``
unless ``--llm-role`` / ``--embed-role`` say otherwise); which providers and models answer is
decided by llmhub.yaml: ``$LLMHUB_CONFIG``, else ``local/llmhub.yaml`` next to this file (a local
llama.cpp model; start it with ``llmhub serve-local``). Runs from any directory.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.base.response.schema import StreamingResponse
from llama_index.embeddings.llmhub import RoleEmbedding
from llama_index.llms.llmhub import RoleLLM

os.environ.setdefault("LLMHUB_CONFIG", str(Path(__file__).resolve().parent / "local" / "llmhub.yaml"))

DOCUMENTS = [
    Document(text="llmhub calls language models by role name, as configured in a validated llmhub.yaml."),
    Document(text="Every provider call made by llmhub goes through the any-llm library."),
    Document(text="A role can fall back to other providers when its primary target fails."),
    Document(text="Paris is the capital of France and sits on the river Seine."),
]
DEFAULT_QUESTION = "How does llmhub choose which model to call?"


def build_index(embed_role: str) -> VectorStoreIndex:
    """Embed the documents with the embedding role (one batched call) into an in-memory index."""
    Settings.embed_model = RoleEmbedding(embed_role)
    return VectorStoreIndex.from_documents(DOCUMENTS)


def ask(index: VectorStoreIndex, llm_role: str, question: str) -> str:
    """Retrieve the closest documents and stream the chat role's answer to stdout."""
    Settings.llm = RoleLLM(llm_role)
    response = index.as_query_engine(similarity_top_k=2, streaming=True).query(question)
    assert isinstance(response, StreamingResponse)
    parts: list[str] = []
    print("answer: ", end="", flush=True)
    for token in response.response_gen:
        parts.append(token)
        print(token, end="", flush=True)
    print()
    for node in response.source_nodes:
        print(f"source ({node.score:.3f}): {node.node.get_content()}")
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default=DEFAULT_QUESTION)
    parser.add_argument("--llm-role", default="llm.inference", help="chat role (default: llm.inference)")
    parser.add_argument("--embed-role", default="llm.embedding", help="embedding role (default: llm.embedding)")
    args = parser.parse_args(argv)

    index = build_index(args.embed_role)
    print(f"question: {args.question}")
    answer = ask(index, args.llm_role, args.question)
    return 0 if answer.strip() else 1


if __name__ == "__main__":
    sys.exit(main())
