"""A real index over RoleEmbedding, answered by RoleLLM: query engines (sync/async/stream), chat engine."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.response.schema import Response, StreamingResponse
from llama_index.core.chat_engine.types import AgentChatResponse

from llama_index.embeddings.llmhub import RoleEmbedding
from llama_index.llms.llmhub import RoleLLM
from llmhub_runtime.testing import StandInServer
from llmhub_runtime.testing.embeddings import embed

DOCS = [
    "The lighthouse keeper Ada logs the tides every morning.",
    "Invoices are paid within thirty days of receipt.",
    "The staff canteen serves soup on Thursdays.",
]


@pytest.fixture
def index(config_path: str, server: StandInServer) -> VectorStoreIndex:
    embed_model = RoleEmbedding("llm.embedding", config_path=config_path)
    built = VectorStoreIndex.from_documents(
        [Document(text=t, id_=f"doc{i}") for i, t in enumerate(DOCS)], embed_model=embed_model
    )
    server.reset()
    return built


def test_index_holds_the_role_vectors(config_path: str, server: StandInServer) -> None:
    embed_model = RoleEmbedding("llm.embedding", config_path=config_path)
    index = VectorStoreIndex.from_documents([Document(text=t) for t in DOCS], embed_model=embed_model)
    stored = index.vector_store.to_dict()["embedding_dict"]
    assert sorted(map(tuple, stored.values())) == sorted(tuple(embed(t)) for t in DOCS)
    embed_requests = [r for r in server.requests if r.model == "standin-embed"]
    assert len(embed_requests) == 1  # three nodes, one batch
    assert sorted(embed_requests[0].body["input"]) == sorted(DOCS)


def _query_engine(index: VectorStoreIndex, config_path: str, **kwargs: Any) -> Any:
    llm = RoleLLM("llm.inference", config_path=config_path)
    return index.as_query_engine(llm=llm, similarity_top_k=1, **kwargs)


def _assert_answer(answer: str, server: StandInServer, *, stream: bool) -> None:
    """The query was embedded, the matching node retrieved, and the LLM saw it in its prompt."""
    query_embeds = [r for r in server.requests if r.model == "standin-embed"]
    chats = [r for r in server.requests if r.model == "standin-chat"]
    assert [r.body["input"] for r in query_embeds] == [[DOCS[1]]]
    assert len(chats) == 1
    assert chats[0].stream is stream
    prompt = chats[0].body["messages"][-1]["content"]
    assert DOCS[1] in prompt
    assert DOCS[0] not in prompt
    # The stand-in echoes the prompt, so the answer carries the retrieved context and the query.
    assert answer.startswith("Stand-in reply to: Context information is below.")
    assert DOCS[1] in answer


def test_query_engine(index: VectorStoreIndex, config_path: str, server: StandInServer) -> None:
    # The stand-in's vectors are hashes, so a query equal to a document's text retrieves exactly it.
    response = _query_engine(index, config_path).query(DOCS[1])
    assert type(response) is Response
    assert [n.node.ref_doc_id for n in response.source_nodes] == ["doc1"]
    assert response.source_nodes[0].score == pytest.approx(1.0, abs=1e-6)
    _assert_answer(str(response), server, stream=False)


async def test_query_engine_async(index: VectorStoreIndex, config_path: str, server: StandInServer) -> None:
    response = await _query_engine(index, config_path).aquery(DOCS[1])
    assert [n.node.ref_doc_id for n in response.source_nodes] == ["doc1"]
    _assert_answer(str(response), server, stream=False)


def test_query_engine_streaming(index: VectorStoreIndex, config_path: str, server: StandInServer) -> None:
    response = _query_engine(index, config_path, streaming=True).query(DOCS[1])
    assert type(response) is StreamingResponse
    pieces = list(response.response_gen)
    assert len(pieces) > 3
    _assert_answer("".join(pieces), server, stream=True)


async def test_query_engine_async_streaming(index: VectorStoreIndex, config_path: str, server: StandInServer) -> None:
    response = await _query_engine(index, config_path, streaming=True).aquery(DOCS[1])
    pieces = [piece async for piece in response.async_response_gen()]
    _assert_answer("".join(pieces), server, stream=True)


def test_settings_wiring(settings: Any, use_config: str, server: StandInServer) -> None:
    """The README's four lines: Settings.llm / Settings.embed_model by role, default config."""
    settings.llm = RoleLLM("llm.inference")
    settings.embed_model = RoleEmbedding("llm.embedding")
    index = VectorStoreIndex.from_documents([Document(text=t) for t in DOCS])
    answer = str(index.as_query_engine(similarity_top_k=1).query(DOCS[2]))
    assert DOCS[2] in answer
    assert {r.model for r in server.requests} == {"standin-embed", "standin-chat"}


def test_chat_engine_keeps_history(index: VectorStoreIndex, config_path: str, server: StandInServer) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path)
    engine = index.as_chat_engine(chat_mode="context", llm=llm, similarity_top_k=1)
    first = engine.chat(DOCS[0])
    second = engine.chat("say thanks")
    assert type(first) is AgentChatResponse
    assert DOCS[0] in first.response
    assert second.response == "thanks"
    chats = [r for r in server.requests if r.model == "standin-chat"]
    assert len(chats) == 2
    messages = chats[1].body["messages"]
    assert messages[0]["role"] == "system"
    assert [m["role"] for m in messages[1:]] == ["user", "assistant", "user"]
    assert messages[1]["content"] == DOCS[0]
    assert messages[2]["content"] == first.response
    assert messages[3]["content"] == "say thanks"


async def test_chat_engine_async_streaming(index: VectorStoreIndex, config_path: str, server: StandInServer) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path)
    engine = index.as_chat_engine(chat_mode="context", llm=llm, similarity_top_k=1)
    response = await engine.astream_chat("say streamed words")
    tokens = [token async for token in response.async_response_gen()]
    assert "".join(tokens) == "streamed words"
    assert [r.stream for r in server.requests if r.model == "standin-chat"] == [True]
