"""RoleEmbedding: query, text, batch and async embeddings, one hub call per batch."""

from __future__ import annotations

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from llama_index.embeddings.llmhub import RoleEmbedding
from llmhub_runtime import ProviderServerError
from llmhub_runtime.testing import Reply, StandInServer
from llmhub_runtime.testing.embeddings import embed

TEXTS = ["alpha", "beta", "gamma", "delta", "epsilon"]


def test_is_a_base_embedding(config_path: str) -> None:
    model = RoleEmbedding("llm.embedding", config_path=config_path)
    assert isinstance(model, BaseEmbedding)
    assert model.model_name == "llm.embedding"
    assert RoleEmbedding.class_name() == "llmhub_role_embedding"


def test_query_and_text_embedding(config_path: str, server: StandInServer) -> None:
    model = RoleEmbedding("llm.embedding", config_path=config_path)
    assert model.get_query_embedding("what is alpha?") == embed("what is alpha?")
    assert model.get_text_embedding("alpha") == embed("alpha")
    assert [r.model for r in server.requests] == ["standin-embed", "standin-embed"]
    assert [r.body["input"] for r in server.requests] == [["what is alpha?"], ["alpha"]]


def test_batches_are_one_call_each(config_path: str, server: StandInServer) -> None:
    model = RoleEmbedding("llm.embedding", config_path=config_path, embed_batch_size=2)
    vectors = model.get_text_embedding_batch(TEXTS)
    assert vectors == [embed(text) for text in TEXTS]
    assert [r.body["input"] for r in server.requests] == [["alpha", "beta"], ["gamma", "delta"], ["epsilon"]]


async def test_async_batches(config_path: str, server: StandInServer) -> None:
    model = RoleEmbedding("llm.embedding", config_path=config_path, embed_batch_size=3)
    vectors = await model.aget_text_embedding_batch(TEXTS)
    assert vectors == [embed(text) for text in TEXTS]
    assert sorted(len(r.body["input"]) for r in server.requests) == [2, 3]
    assert await model.aget_query_embedding("q") == embed("q")
    assert await model.aget_text_embedding("t") == embed("t")


def test_overrides_are_params(config_path: str, server: StandInServer) -> None:
    model = RoleEmbedding("llm.embedding", config_path=config_path, dimensions=8)
    assert model.params_override == {"dimensions": 8}
    vector = model.get_text_embedding("alpha")
    assert vector == embed("alpha", 8)
    assert server.requests[0].body["dimensions"] == 8


def test_empty_batch_makes_no_call(config_path: str, server: StandInServer) -> None:
    assert RoleEmbedding("llm.embedding", config_path=config_path)._get_text_embeddings([]) == []
    assert server.requests == []


def test_scripted_vectors_pass_through(config_path: str, server: StandInServer) -> None:
    server.enqueue("standin-embed", Reply(embedding=[1.0, 0.0]))
    vectors = RoleEmbedding("llm.embedding", config_path=config_path).get_text_embedding_batch(["a", "b"])
    assert vectors == [[1.0, 0.0], [1.0, 0.0]]


def test_vector_count_mismatch_is_an_error() -> None:
    from openai.types import CreateEmbeddingResponse

    from llmhub_runtime.adapter_core import embedding_vectors

    response = CreateEmbeddingResponse.model_validate(
        {
            "data": [{"embedding": [0.5], "index": 0, "object": "embedding"}],
            "model": "m",
            "object": "list",
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
    )
    with pytest.raises(ProviderServerError, match=r"returned 1 embedding\(s\) for 2 input\(s\)") as caught:
        embedding_vectors(response, 2, role="llm.embedding")
    assert (caught.value.role, caught.value.model) == ("llm.embedding", "m")
