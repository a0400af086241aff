"""The rules llama-index-llmhub shares with langchain-llmhub (``llmhub_runtime.adapter_core``), on the wire.

Batch sizes, caches keyed by ``to_dict()`` (``IngestionPipeline``), one meaning for ``None``,
``hooks=`` and the hub found once per instance.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from llama_index.core import Document
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.ingestion import IngestionCache, IngestionPipeline
from llama_index.core.storage.kvstore import SimpleKVStore

from llama_index.embeddings.llmhub import RoleEmbedding
from llama_index.llms.llmhub import RoleLLM
from llmhub_runtime import CallEvent, LLMHub
from llmhub_runtime.testing import Reply, StandInServer
from llmhub_runtime.testing.embeddings import embed

USER = [ChatMessage(role="user", content="hello")]


def _embedding_requests(server: StandInServer) -> list[int]:
    return [len(request.body["input"]) for request in server.requests if request.api == "openai-embeddings"]


# --- batches ------------------------------------------------------------------------------------


def test_500_texts_are_5_requests_by_default(config_path: str, server: StandInServer) -> None:
    texts = [f"document {i}" for i in range(500)]
    model = RoleEmbedding("llm.embedding", config_path=config_path)
    assert model.embed_batch_size == 100  # as OpenAIEmbedding; LlamaIndex's own default is 10
    vectors = model.get_text_embedding_batch(texts)
    assert vectors[499] == embed("document 499")
    assert _embedding_requests(server) == [100] * 5


async def test_async_batches_use_the_same_default(config_path: str, server: StandInServer) -> None:
    vectors = await RoleEmbedding("llm.embedding", config_path=config_path).aget_text_embedding_batch(
        [f"d{i}" for i in range(250)]
    )
    assert len(vectors) == 250
    assert sorted(_embedding_requests(server)) == [50, 100, 100]


def test_the_batch_size_is_an_argument(config_path: str, server: StandInServer) -> None:
    RoleEmbedding("llm.embedding", config_path=config_path, embed_batch_size=250).get_text_embedding_batch(
        [f"d{i}" for i in range(500)]
    )
    assert _embedding_requests(server) == [250, 250]


# --- caches keyed by to_dict() --------------------------------------------------------------------


@pytest.fixture
def write_config(server: StandInServer, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Write ``tmp/llmhub.yaml`` with ``llm.embedding`` on ``model``; its shared hub closed (a new process)."""
    path = tmp_path / "llmhub.yaml"

    def write(model: str, **role: Any) -> str:
        config = server.chat_config(embedding_model=model)
        config["roles"]["llm.embedding"].update(role)
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        LLMHub.shared(path).close()
        return str(path)

    yield write
    LLMHub.shared(path).close()


def _pipeline(cache: IngestionCache, **kwargs: Any) -> IngestionPipeline:
    return IngestionPipeline(transformations=[RoleEmbedding("llm.embedding", **kwargs)], cache=cache)


def test_ingestion_cache_sees_a_model_changed_in_llmhub_yaml(
    server: StandInServer, write_config: Callable[..., str]
) -> None:
    cache = IngestionCache()
    documents = [Document(text="alpha", id_="a")]
    server.enqueue("embed-b", Reply(embedding=[1.0, 0.0]))
    path = write_config("embed-a")
    first = _pipeline(cache, config_path=path).run(documents=documents)
    again = _pipeline(cache, config_path=path).run(documents=documents)
    assert first[0].embedding == again[0].embedding == embed("alpha")
    assert [request.model for request in server.requests] == ["embed-a"]  # the second run was a cache hit

    write_config("embed-b")
    changed = _pipeline(cache, config_path=path).run(documents=documents)
    assert changed[0].embedding == [1.0, 0.0]
    assert [request.model for request in server.requests] == ["embed-a", "embed-b"]


def test_ingestion_cache_is_not_shared_by_two_configs_with_the_same_role(server: StandInServer) -> None:
    cache = IngestionCache()
    documents = [Document(text="alpha", id_="a")]
    with (
        LLMHub(config=server.chat_config(embedding_model="embed-a")) as hub_a,
        LLMHub(config=server.chat_config(embedding_model="embed-b")) as hub_b,
    ):
        _pipeline(cache, hub=hub_a).run(documents=documents)
        _pipeline(cache, hub=hub_b).run(documents=documents)
        _pipeline(cache, hub=hub_b).run(documents=documents)  # hit
    assert [request.model for request in server.requests] == ["embed-a", "embed-b"]


@pytest.mark.parametrize("query", [False, True], ids=["text batch", "query"])
async def test_embeddings_cache_keeps_vectors_per_resolved_role(
    server: StandInServer, write_config: Callable[..., str], query: bool
) -> None:
    store = SimpleKVStore()  # LlamaIndex keys it by the text alone

    async def vectors(path: str) -> list[list[float]]:
        model = RoleEmbedding("llm.embedding", config_path=path, embeddings_cache=store)
        if query:
            return [model.get_query_embedding("alpha"), await model.aget_query_embedding("alpha")]
        return [*model.get_text_embedding_batch(["alpha", "beta"]), *await model.aget_text_embedding_batch(["alpha"])]

    server.enqueue("embed-b", Reply(embedding=[1.0, 0.0]), Reply(embedding=[1.0, 0.0]))
    path = write_config("embed-a")
    first = await vectors(path)
    assert first[0] == embed("alpha")
    assert await vectors(path) == first  # all from the cache
    assert [request.model for request in server.requests] == ["embed-a"]

    write_config("embed-b")
    changed = await vectors(path)
    assert changed[0] == [1.0, 0.0]
    assert [request.model for request in server.requests] == ["embed-a", "embed-b"]


def test_to_dict_names_the_resolved_target_and_from_dict_ignores_it(config_path: str) -> None:
    model = RoleEmbedding("llm.embedding", config_path=config_path, dimensions=8)
    data = model.to_dict()
    target = data["llmhub_target"]
    assert (target["role"], target["mode"]) == ("llm.embedding", "embedding")
    assert [(t["provider"], t["model"], t["params"]) for t in target["targets"]] == [
        ("standin", "standin-embed", {"dimensions": 8})
    ]
    again = RoleEmbedding.from_dict(data)
    assert (again.role, again.params_override, again.model_name) == (
        "llm.embedding",
        {"dimensions": 8},
        "llm.embedding",
    )
    llm_target = RoleLLM("llm.sized", config_path=config_path, temperature=None).to_dict()["llmhub_target"]
    assert llm_target["targets"][0]["params"] == {"max_tokens": 512}  # None removed the role's temperature


def test_to_dict_of_an_unreadable_config_has_no_target(tmp_path: Path) -> None:
    assert RoleLLM("llm.inference", config_path=tmp_path / "missing.yaml").to_dict()["llmhub_target"] is None


# --- None, hooks, the hub ---------------------------------------------------------------------


def test_none_removes_the_roles_param_and_unset_keeps_it(config_path: str, server: StandInServer) -> None:
    # llm.sized: max_tokens 512, temperature 0.9 (tests/conftest.py)
    RoleLLM("llm.sized", config_path=config_path).chat(USER)
    RoleLLM("llm.sized", config_path=config_path, temperature=None).chat(USER)
    RoleLLM("llm.sized", config_path=config_path).chat(USER, temperature=None)
    assert [request.body.get("temperature") for request in server.requests] == [0.9, None, None]
    assert RoleLLM("llm.sized", config_path=config_path, max_tokens=None).metadata.num_output == 256  # the default


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def on_start(self, event: CallEvent) -> None:
        self.events.append((event.kind, event.role))

    def on_end(self, event: CallEvent) -> None:
        self.events.append((event.kind, event.role))


def test_hooks_are_added_to_the_hub(server: StandInServer) -> None:
    recorder = Recorder()
    with LLMHub(config=server.chat_config()) as hub:
        RoleLLM("llm.inference", hub=hub, hooks=[recorder]).chat(USER)
        RoleEmbedding("llm.embedding", hub=hub, hooks=[recorder]).get_query_embedding("q")
    assert recorder.events == [
        ("start", "llm.inference"),
        ("end", "llm.inference"),
        ("start", "llm.embedding"),
        ("end", "llm.embedding"),
    ]


def test_the_hub_is_found_once_and_again_after_close(config_path: str, server: StandInServer) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path)
    first = llm.hub
    assert llm.hub is first
    first.close()
    assert llm.complete("say reopened").text == "reopened"
    assert llm.hub is LLMHub.shared(config_path) is not first


def test_config_path_defaults_to_llmhub_config_read_at_construction(
    use_config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm = RoleLLM("llm.inference")
    monkeypatch.delenv("LLMHUB_CONFIG")
    assert llm.config_path == use_config  # as langchain-llmhub: the path is part of the model
    assert RoleLLM.from_dict(llm.to_dict()).config_path == use_config


def test_models_pickle_after_a_call(config_path: str, server: StandInServer, caplog: pytest.LogCaptureFixture) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path, temperature=None)
    llm.complete("hello")  # the instance now holds its hub, which is not picklable
    restored = pickle.loads(pickle.dumps(llm))
    assert restored.complete("say again").text == "again"
    assert restored.params_override == {"temperature": None}
    assert "unpickleable" not in caplog.text
