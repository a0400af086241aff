"""RoleChatModel and RoleEmbeddings on a role with ``cache:``: llmhub's response cache answers repeats."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llmhub_runtime import LLMHub
from llmhub_runtime.testing import Reply, StandInServer

from langchain_llmhub import RoleChatModel, RoleEmbeddings


@pytest.fixture
def cached_hub(standin: StandInServer) -> Iterator[LLMHub]:
    standin.reset()
    config = standin.chat_config()
    for role in config["roles"].values():
        role["cache"] = {"ttl": 60}
    with LLMHub(config=config) as hub:
        yield hub


def requests(server: StandInServer, api: str) -> list[object]:
    return [r.body.get("input") for r in server.requests if r.api == api]


def test_repeat_invoke_and_stream_are_cache_hits(cached_hub: LLMHub, standin: StandInServer) -> None:
    model = RoleChatModel("llm.inference", hub=cached_hub)
    standin.enqueue("standin-chat", Reply(text="cached answer"))
    assert model.invoke("same question").content == "cached answer"
    assert model.invoke("same question").content == "cached answer"
    assert "".join(str(chunk.content) for chunk in model.stream("same question")) == "cached answer"
    assert len(requests(standin, "openai-chat")) == 1
    assert cached_hub.usage().roles["llm.inference"].cache_hits == 2


async def test_async_repeat_is_a_hit(cached_hub: LLMHub, standin: StandInServer) -> None:
    model = RoleChatModel("llm.inference", hub=cached_hub)
    first = await model.ainvoke("async question")
    second = await model.ainvoke("async question")
    assert first.content == second.content
    assert len(requests(standin, "openai-chat")) == 1


def test_embeddings_send_only_new_texts(cached_hub: LLMHub, standin: StandInServer) -> None:
    embeddings = RoleEmbeddings("llm.embedding", hub=cached_hub)
    first = embeddings.embed_documents(["a", "b"])
    again = embeddings.embed_documents(["b", "c", "a"])
    assert again[0] == first[1] and again[2] == first[0]
    assert requests(standin, "openai-embeddings") == [["a", "b"], ["c"]]
