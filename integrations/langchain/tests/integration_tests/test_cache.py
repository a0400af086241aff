"""LangChain's real caches over RoleChatModel: an answer is reused only for the same resolved role.

The cache key includes what the role resolves to (``llmhub_runtime.adapter_core.fingerprint_key``):
each target's provider, kind, model, api_base and merged params, and the env. A model changed in
llmhub.yaml, or a second config with the same role name, reaches the provider again.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.caches import BaseCache, InMemoryCache
from llmhub_runtime import LLMHub
from llmhub_runtime.errors import UnknownRoleError
from llmhub_runtime.testing import Reply, StandInServer

from langchain_llmhub import RoleChatModel

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # "langchain-community is being sunset"
    from langchain_community.cache import SQLiteCache


def _sqlite(tmp_path: Path) -> BaseCache:
    return SQLiteCache(database_path=str(tmp_path / "langchain.db"))


def _memory(tmp_path: Path) -> BaseCache:
    return InMemoryCache()


@pytest.fixture(params=[_memory, _sqlite], ids=["InMemoryCache", "SQLiteCache"])
def make_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], BaseCache]:
    """A factory of one cache: SQLiteCache reopens the same file each time, as a new process would."""
    maker: Callable[[Path], BaseCache] = request.param
    made = maker(tmp_path)
    return (lambda: _sqlite(tmp_path)) if maker is _sqlite else (lambda: made)


@pytest.fixture
def write_config(server: StandInServer, tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Write ``tmp/llmhub.yaml`` with ``llm.inference`` on ``model`` (and ``params``); close its shared hub after."""
    path = tmp_path / "llmhub.yaml"

    def write(model: str, embedding_model: str = "standin-embed", **role: Any) -> Path:
        config = server.chat_config(model=model, embedding_model=embedding_model)
        config["roles"]["llm.inference"].update(role)
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        LLMHub.shared(path).close()  # as a restarted process: the next lookup reads the file again
        return path

    yield write
    LLMHub.shared(path).close()


def test_a_model_changed_in_llmhub_yaml_is_not_answered_from_the_cache(
    server: StandInServer, make_cache: Callable[[], BaseCache], write_config: Callable[..., Path]
) -> None:
    server.enqueue("model-a", Reply(text="answer from model a"))
    server.enqueue("model-b", Reply(text="answer from model b"))
    path = write_config("model-a")
    first = RoleChatModel("llm.inference", config_path=path, cache=make_cache()).invoke("Hello")
    again = RoleChatModel("llm.inference", config_path=path, cache=make_cache()).invoke("Hello")
    assert (first.content, again.content) == ("answer from model a", "answer from model a")
    assert len(server.requests) == 1  # the second answer came from the cache

    write_config("model-b")
    changed = RoleChatModel("llm.inference", config_path=path, cache=make_cache()).invoke("Hello")
    assert changed.content == "answer from model b"
    assert [request.model for request in server.requests] == ["model-a", "model-b"]


def test_changed_role_params_are_not_answered_from_the_cache(
    server: StandInServer, make_cache: Callable[[], BaseCache], write_config: Callable[..., Path]
) -> None:
    path = write_config("model-a", params={"temperature": 0.1})
    RoleChatModel("llm.inference", config_path=path, cache=make_cache()).invoke("Hello")
    write_config("model-a", params={"temperature": 0.9})
    RoleChatModel("llm.inference", config_path=path, cache=make_cache()).invoke("Hello")
    assert [request.body["temperature"] for request in server.requests] == [0.1, 0.9]


def test_two_configs_with_the_same_role_name_do_not_share_answers(
    server: StandInServer, make_cache: Callable[[], BaseCache]
) -> None:
    server.enqueue("model-a", Reply(text="from a"))
    server.enqueue("model-b", Reply(text="from b"))
    cache = make_cache()
    with (
        LLMHub(config=server.chat_config(model="model-a")) as hub_a,
        LLMHub(config=server.chat_config(model="model-b")) as hub_b,
    ):
        answer_a = RoleChatModel("llm.inference", hub=hub_a, cache=cache).invoke("Hello")
        answer_b = RoleChatModel("llm.inference", hub=hub_b, cache=cache).invoke("Hello")
        assert (answer_a.content, answer_b.content) == ("from a", "from b")
        assert len(server.requests) == 2
        # the same hub, role and prompt is a hit
        assert RoleChatModel("llm.inference", hub=hub_b, cache=cache).invoke("Hello").content == "from b"
        assert len(server.requests) == 2


def test_instance_params_and_none_are_part_of_the_key(server: StandInServer) -> None:
    cache = InMemoryCache()
    config = server.chat_config(model="model-a")
    config["roles"]["llm.inference"]["params"] = {"temperature": 0.5}
    with LLMHub(config=config) as hub:
        RoleChatModel("llm.inference", hub=hub, cache=cache).invoke("Hello")
        RoleChatModel("llm.inference", hub=hub, cache=cache, temperature=None).invoke("Hello")
        RoleChatModel("llm.inference", hub=hub, cache=cache, temperature=None).invoke("Hello")  # hit
    assert [request.body.get("temperature") for request in server.requests] == [0.5, None]


async def test_async_calls_use_the_same_key(server: StandInServer, write_config: Callable[..., Path]) -> None:
    cache = InMemoryCache()
    path = write_config("model-a")
    await RoleChatModel("llm.inference", config_path=path, cache=cache).ainvoke("Hello")
    RoleChatModel("llm.inference", config_path=path, cache=cache).invoke("Hello")  # hit across sync/async
    write_config("model-b")
    await RoleChatModel("llm.inference", config_path=path, cache=cache).ainvoke("Hello")
    assert [request.model for request in server.requests] == ["model-a", "model-b"]


def test_an_unknown_role_raises_its_error_even_with_a_cache(server: StandInServer) -> None:
    with pytest.raises(UnknownRoleError, match=r"llm\.nope"):
        RoleChatModel("llm.nope", cache=InMemoryCache()).invoke("Hello")
    assert server.requests == []


def test_cache_backed_embeddings_with_the_cache_namespace(
    server: StandInServer, write_config: Callable[..., Path]
) -> None:
    from langchain_classic.embeddings import CacheBackedEmbeddings
    from langchain_core.stores import InMemoryByteStore

    from langchain_llmhub import RoleEmbeddings

    store = InMemoryByteStore()

    def cached(path: Path) -> CacheBackedEmbeddings:
        embeddings = RoleEmbeddings("llm.embedding", config_path=path)
        return CacheBackedEmbeddings.from_bytes_store(embeddings, store, namespace=embeddings.cache_namespace)

    server.enqueue("embed-b", Reply(embedding=[1.0, 0.0]))
    path = write_config("model-a", embedding_model="embed-a")
    first = cached(path).embed_documents(["alpha"])
    assert cached(path).embed_documents(["alpha"]) == first  # from the store
    write_config("model-a", embedding_model="embed-b")
    assert cached(path).embed_documents(["alpha"]) == [[1.0, 0.0]]
    assert [request.model for request in server.requests] == ["embed-a", "embed-b"]
    assert RoleEmbeddings("llm.embedding", config_path=path).cache_namespace.startswith("llmhub:llm.embedding:")
