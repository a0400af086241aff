"""Embeddings are cached per input text: only the new texts of a batch are sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llmhub_runtime import LLMHub
from llmhub_runtime.testing import StandInServer


def embedding_inputs(server: StandInServer) -> list[list[str]]:
    return [r.body["input"] for r in server.requests if r.api == "openai-embeddings"]


def test_only_new_texts_are_sent_and_vectors_match(
    server: StandInServer, make_hub: Callable[..., LLMHub], cached_config: Callable[..., dict[str, Any]], recorder: Any
) -> None:
    plain = make_hub()
    hub = make_hub(cached_config(), hooks=[recorder])
    first = [f"doc {i}" for i in range(5)]
    hub.embedding("llm.embedding", first)
    texts = ["doc 9", *first, "doc 8"]
    cached = hub.embedding("llm.embedding", texts)
    assert embedding_inputs(server) == [first, ["doc 9", "doc 8"]]
    fresh = plain.embedding("llm.embedding", texts)
    assert [d.embedding for d in cached.data] == [d.embedding for d in fresh.data]
    assert [d.index for d in cached.data] == list(range(7))
    again = hub.embedding("llm.embedding", texts)
    assert len(embedding_inputs(server)) == 3  # 2 hub calls + 1 plain, none for the full hit
    assert again.usage.prompt_tokens == 0
    assert [e.cache for e in recorder.events if e.kind == "end"] == ["miss", "miss", "hit"]
    stats = hub.cache_stats()["llm.embedding"]
    assert (stats.hits, stats.misses, stats.stored) == (5 + 7, 5 + 2, 7)


def test_duplicates_in_one_batch_are_sent_once(
    server: StandInServer, make_hub: Callable[..., LLMHub], cached_config: Callable[..., dict[str, Any]]
) -> None:
    hub = make_hub(cached_config())
    answer = hub.embedding("llm.embedding", ["same", "other", "same"])
    assert embedding_inputs(server) == [["same", "other"]]
    assert answer.data[0].embedding == answer.data[2].embedding != answer.data[1].embedding


def test_a_string_input_and_dimensions_are_part_of_the_key(
    server: StandInServer, make_hub: Callable[..., LLMHub], cached_config: Callable[..., dict[str, Any]]
) -> None:
    hub = make_hub(cached_config())
    one = hub.embedding("llm.embedding", "solo")
    assert len(one.data) == 1
    hub.embedding("llm.embedding", ["solo"])
    short = hub.embedding("llm.embedding", ["solo"], dimensions=8)
    assert len(short.data[0].embedding) == 8
    assert embedding_inputs(server) == [["solo"], ["solo"]]  # the second: dimensions=8


async def test_async_embeddings_share_the_cache(
    server: StandInServer, cached_config: Callable[..., dict[str, Any]]
) -> None:
    async with LLMHub(config=cached_config()) as hub:
        await hub.aembedding("llm.embedding", ["a", "b"])
        answer = await hub.aembedding("llm.embedding", ["b", "c", "a"])
    assert embedding_inputs(server) == [["a", "b"], ["c"]]
    assert [d.index for d in answer.data] == [0, 1, 2]
