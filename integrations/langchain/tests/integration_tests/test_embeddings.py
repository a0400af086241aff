"""RoleEmbeddings end to end against the stand-in (deterministic SHA-256 vectors)."""

from __future__ import annotations

import pytest
from langchain_core.vectorstores import InMemoryVectorStore
from llmhub_runtime.errors import ModeMismatchError, ProviderServerError
from llmhub_runtime.testing import Fault, StandInServer
from llmhub_runtime.testing.embeddings import embed

from langchain_llmhub import RoleEmbeddings

TEXTS = ["cats purr", "dogs bark", "fish swim", "birds sing", "cows moo"]


def inputs(server: StandInServer) -> list[list[str]]:
    return [request.body["input"] for request in server.requests if request.api == "openai-embeddings"]


def test_embed_documents_batches_by_chunk_size_and_keeps_order(server: StandInServer) -> None:
    vectors = RoleEmbeddings("llm.embedding", chunk_size=2).embed_documents(TEXTS)
    assert vectors == [embed(text) for text in TEXTS]
    assert inputs(server) == [TEXTS[0:2], TEXTS[2:4], TEXTS[4:5]]
    assert all(type(value) is float for value in vectors[0])


async def test_async_embeddings_batch_the_same_way(server: StandInServer) -> None:
    embeddings = RoleEmbeddings("llm.embedding", chunk_size=3)
    assert await embeddings.aembed_documents(TEXTS) == [embed(text) for text in TEXTS]
    assert await embeddings.aembed_query("dogs bark") == embed("dogs bark")
    assert inputs(server) == [TEXTS[0:3], TEXTS[3:5], ["dogs bark"]]


def test_model_kwargs_reach_the_provider(server: StandInServer) -> None:
    vector = RoleEmbeddings("llm.embedding", dimensions=8).embed_query("hello")
    assert vector == embed("hello", dimensions=8)
    assert server.requests[0].body["dimensions"] == 8


async def test_works_in_an_in_memory_vector_store(server: StandInServer) -> None:
    store = InMemoryVectorStore.from_texts(TEXTS, RoleEmbeddings("llm.embedding"))
    assert [doc.page_content for doc in store.similarity_search("fish swim", k=1)] == ["fish swim"]
    found = await store.asimilarity_search("birds sing", k=2)
    assert found[0].page_content == "birds sing"
    assert len(found) == 2


def test_errors_surface_unchanged(server: StandInServer) -> None:
    server.enqueue("standin-embed", Fault(status=500))
    with pytest.raises(ProviderServerError) as caught:
        RoleEmbeddings("llm.embedding").embed_documents(["a"])
    assert (caught.value.status_code, caught.value.role) == (500, "llm.embedding")
    with pytest.raises(ModeMismatchError):
        RoleEmbeddings("llm.inference").embed_query("a")
