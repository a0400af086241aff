"""A role's ``batch_size`` caps the texts in one embeddings request; the hub splits larger inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from llmhub_runtime import ConfigValidationError, LLMHub
from llmhub_runtime.testing import StandInServer


def batched_config(server: StandInServer, size: int) -> dict[str, Any]:
    config = server.chat_config()
    config["roles"]["llm.embedding"]["batch_size"] = size
    return config


def sent(server: StandInServer) -> list[list[str]]:
    return [r.body["input"] for r in server.requests if r.api == "openai-embeddings"]


def test_a_larger_input_is_split_and_joined_in_order(server: StandInServer, make_hub: Callable[..., LLMHub]) -> None:
    texts = [f"text {i}" for i in range(7)]
    whole = make_hub().embedding("llm.embedding", texts)
    server.reset()
    split = make_hub(batched_config(server, 3)).embedding("llm.embedding", texts)
    assert sent(server) == [texts[0:3], texts[3:6], texts[6:7]]
    assert [d.index for d in split.data] == list(range(7))
    assert [d.embedding for d in split.data] == [d.embedding for d in whole.data]
    assert split.usage.prompt_tokens == whole.usage.prompt_tokens == 14


async def test_async_splits_too(server: StandInServer, make_hub: Callable[..., LLMHub]) -> None:
    hub = make_hub(batched_config(server, 2))
    answer = await hub.aembedding("llm.embedding", ["a", "b", "c"])
    assert sent(server) == [["a", "b"], ["c"]]
    assert [d.index for d in answer.data] == [0, 1, 2]


def test_an_input_that_fits_is_one_request(server: StandInServer, make_hub: Callable[..., LLMHub]) -> None:
    make_hub(batched_config(server, 3)).embedding("llm.embedding", ["a", "b", "c"])
    assert sent(server) == [["a", "b", "c"]]


def test_batch_size_is_only_for_embedding_roles(server: StandInServer) -> None:
    config = server.chat_config()
    config["roles"]["llm.inference"]["batch_size"] = 10
    with pytest.raises(ConfigValidationError) as info:
        LLMHub(config=config)
    [problem] = info.value.problems
    assert problem.key_path == "roles.llm.inference.batch_size"
    assert "only for embedding roles" in problem.message
