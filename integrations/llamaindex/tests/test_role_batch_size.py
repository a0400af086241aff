"""A role's ``batch_size`` also caps what RoleEmbedding sends per request (LlamaIndex batches 100)."""

from __future__ import annotations

from llama_index.embeddings.llmhub import RoleEmbedding
from llmhub_runtime import LLMHub
from llmhub_runtime.testing import StandInServer


def test_role_batch_size_caps_requests(server: StandInServer) -> None:
    config = server.chat_config()
    config["roles"]["llm.embedding"]["batch_size"] = 40
    with LLMHub(config=config) as hub:
        vectors = RoleEmbedding("llm.embedding", hub=hub).get_text_embedding_batch([f"doc {i}" for i in range(120)])
    assert len(vectors) == 120
    sizes = [len(r.body["input"]) for r in server.requests if r.api == "openai-embeddings"]
    assert sizes == [40, 40, 20, 20]  # LlamaIndex's batches of 100, each split by the role into 40s
