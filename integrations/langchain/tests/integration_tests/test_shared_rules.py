"""The rules langchain-llmhub shares with llama-index-llmhub (``llmhub_runtime.adapter_core``), on the wire."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from langchain_core.load import dumpd
from llmhub_runtime import CallEvent, LLMHub
from llmhub_runtime.testing import StandInServer
from llmhub_runtime.testing.embeddings import embed

from langchain_llmhub import RoleChatModel, RoleEmbeddings


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def on_start(self, event: CallEvent) -> None:
        self.events.append((event.kind, event.role, event.model))

    def on_end(self, event: CallEvent) -> None:
        self.events.append((event.kind, event.role, event.model))


def _sent(server: StandInServer, *keys: str) -> list[dict[str, Any]]:
    return [{key: request.body.get(key) for key in keys} for request in server.requests]


def test_none_removes_the_roles_param_and_unset_keeps_it(server: StandInServer) -> None:
    # llm.tuned: temperature 0.7, max_tokens 50, top_p 0.9 (tests/conftest.py)
    RoleChatModel("llm.tuned").invoke("Hello")
    RoleChatModel("llm.tuned", temperature=None, max_tokens=None, top_p=None).invoke("Hello")
    dumped = dumpd(RoleChatModel("llm.tuned", temperature=None))
    assert dumped["kwargs"]["model_kwargs"] == {"temperature": None}
    restored = RoleChatModel(**dumped["kwargs"])  # what load() does with them
    restored.invoke("Hello")
    assert _sent(server, "temperature", "max_completion_tokens", "top_p") == [
        {"temperature": 0.7, "max_completion_tokens": 50, "top_p": 0.9},
        {"temperature": None, "max_completion_tokens": None, "top_p": None},
        {"temperature": None, "max_completion_tokens": 50, "top_p": 0.9},  # the removal survives dumpd/load
    ]


def test_none_in_embedding_params_removes_the_param(server: StandInServer, tmp_path: Path) -> None:
    config = server.chat_config()
    config["roles"]["llm.embedding"]["params"] = {"dimensions": 8}
    with LLMHub(config=config) as hub:
        assert RoleEmbeddings("llm.embedding", hub=hub).embed_query("a") == embed("a", 8)
        assert RoleEmbeddings("llm.embedding", hub=hub, dimensions=None).embed_query("a") == embed("a")
    assert _sent(server, "dimensions") == [{"dimensions": 8}, {"dimensions": None}]


def test_hooks_are_added_to_the_shared_hub(server: StandInServer, config_path: Path) -> None:
    recorder = Recorder()
    chat = RoleChatModel("llm.inference", hooks=[recorder])
    embeddings = RoleEmbeddings("llm.embedding", hooks=[recorder])
    try:
        chat.invoke("Hello")
        embeddings.embed_query("Hello")
    finally:
        LLMHub.shared(config_path).close()  # the next test's shared hub starts without the hook
    assert recorder.events == [
        ("start", "llm.inference", "standin-chat"),
        ("end", "llm.inference", "standin-chat"),
        ("start", "llm.embedding", "standin-embed"),
        ("end", "llm.embedding", "standin-embed"),
    ]
    assert chat._lookup is not None and embeddings._lookup is not None
    assert chat._lookup() is embeddings._lookup()  # one shared hub for both
    assert "hooks" not in str(dumpd(chat))


def test_the_hub_is_found_once_per_instance_and_again_after_close(server: StandInServer, config_path: Path) -> None:
    chat = RoleChatModel("llm.inference")
    first = chat._client
    assert chat._lookup is not None and chat._lookup() is first
    first.close()
    assert chat.invoke("Say reopened").content == "reopened"  # a closed shared hub is replaced
    assert chat._client is LLMHub.shared(config_path) is not first


def test_embed_documents_sends_at_most_1000_texts_per_request(server: StandInServer) -> None:
    texts = [f"text {i}" for i in range(2001)]
    vectors = RoleEmbeddings("llm.embedding").embed_documents(texts)
    assert len(vectors) == 2001 and vectors[2000] == embed("text 2000")
    assert [len(request.body["input"]) for request in server.requests] == [1000, 1000, 1]


def test_models_pickle_after_a_call(server: StandInServer) -> None:
    chat = RoleChatModel("llm.inference", temperature=None)
    chat.invoke("Hello")  # the instance now holds its hub, which is not picklable
    restored = pickle.loads(pickle.dumps(chat))  # noqa: S301 - our own bytes
    assert restored.invoke("Say again").content == "again"
    assert restored.model_kwargs == {"temperature": None}
