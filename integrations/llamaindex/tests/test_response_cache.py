"""RoleLLM and RoleEmbedding on a role with ``cache:``: llmhub's response cache answers repeats."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llama_index.core.llms import ChatMessage

from llama_index.embeddings.llmhub import RoleEmbedding
from llama_index.llms.llmhub import RoleLLM
from llmhub_runtime import LLMHub
from llmhub_runtime.testing import Reply, StandInServer


@pytest.fixture
def cached_hub(server: StandInServer) -> Iterator[LLMHub]:
    config = server.chat_config()
    for role in config["roles"].values():
        role["cache"] = {"ttl": 60}
    with LLMHub(config=config) as hub:
        yield hub


def test_repeat_chat_and_stream_are_cache_hits(cached_hub: LLMHub, server: StandInServer) -> None:
    llm = RoleLLM("llm.inference", hub=cached_hub)
    server.enqueue("standin-chat", Reply(text="cached answer"))
    question = [ChatMessage(role="user", content="same question")]
    assert llm.chat(question).message.content == "cached answer"
    assert llm.chat(question).message.content == "cached answer"
    assert list(llm.stream_chat(question))[-1].message.content == "cached answer"
    assert sum(1 for r in server.requests if r.api == "openai-chat") == 1


def test_embedding_batches_send_only_new_texts(cached_hub: LLMHub, server: StandInServer) -> None:
    embed = RoleEmbedding("llm.embedding", hub=cached_hub)
    first = embed.get_text_embedding_batch(["a", "b"])
    again = embed.get_text_embedding_batch(["b", "c", "a"])
    assert again[0] == first[1] and again[2] == first[0]
    assert [r.body["input"] for r in server.requests if r.api == "openai-embeddings"] == [["a", "b"], ["c"]]
