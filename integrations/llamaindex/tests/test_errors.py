"""Hub errors surface unchanged; construction is offline; keys never reach serialized models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.llms.types import ChatMessage

from llama_index.embeddings.llmhub import RoleEmbedding
from llama_index.llms.llmhub import RoleLLM
from llmhub_runtime import (
    ConfigNotFoundError,
    InvalidInputError,
    LLMHub,
    MissingCredentialError,
    ModeMismatchError,
    ProviderServerError,
    RateLimitError,
    StreamInterruptedError,
    UnknownRoleError,
    UsageError,
)
from llmhub_runtime.adapter_core import CONFIG_ONLY_KEYS
from llmhub_runtime.testing import Fault, StandInServer

MESSAGES = [ChatMessage(role="user", content="hello")]
SECRET = "sk-llamaindex-secret-0451"


# --- provider failures --------------------------------------------------------------------------


def test_rate_limit_surfaces_unchanged(config_path: str, server: StandInServer) -> None:
    server.enqueue("standin-chat", Fault(status=429, headers={"Retry-After": "7"}))
    with pytest.raises(RateLimitError) as caught:
        RoleLLM("llm.inference", config_path=config_path).chat(MESSAGES)
    error = caught.value
    assert type(error) is RateLimitError
    assert (error.status_code, error.role, error.model, error.retry_after) == (
        429,
        "llm.inference",
        "standin-chat",
        7.0,
    )


async def test_async_server_error(config_path: str, server: StandInServer) -> None:
    server.enqueue("standin-chat", Fault(status=500))
    with pytest.raises(ProviderServerError) as caught:
        await RoleLLM("llm.inference", config_path=config_path).acomplete("hello")
    assert type(caught.value) is ProviderServerError
    assert caught.value.status_code == 500


def test_failure_before_streaming_raises_at_the_call(config_path: str, server: StandInServer) -> None:
    server.enqueue("standin-chat", Fault(status=429))
    llm = RoleLLM("llm.inference", config_path=config_path)
    with pytest.raises(RateLimitError):
        llm.stream_chat(MESSAGES)


@pytest.mark.parametrize("use_async", [False, True])
async def test_stream_interrupted(config_path: str, server: StandInServer, use_async: bool) -> None:
    server.enqueue("standin-chat", Fault(disconnect_after_chunks=3))
    llm = RoleLLM("llm.inference", config_path=config_path)
    received: list[str] = []
    with pytest.raises(StreamInterruptedError) as caught:
        if use_async:
            async for response in await llm.astream_chat([ChatMessage(role="user", content="say a b c d e f")]):
                received.append(response.delta or "")
        else:
            for response in llm.stream_chat([ChatMessage(role="user", content="say a b c d e f")]):
                received.append(response.delta or "")
    assert type(caught.value) is StreamInterruptedError
    assert caught.value.partial_text == "".join(received) == "a b"


def test_embedding_failure_surfaces_from_indexing(config_path: str, server: StandInServer) -> None:
    server.enqueue("standin-embed", Fault(status=503))
    embed_model = RoleEmbedding("llm.embedding", config_path=config_path)
    with pytest.raises(ProviderServerError) as caught:
        VectorStoreIndex.from_documents([Document(text="x")], embed_model=embed_model)
    assert (caught.value.status_code, caught.value.role) == (503, "llm.embedding")


# --- usage mistakes -----------------------------------------------------------------------------


def test_unknown_role(config_path: str) -> None:
    llm = RoleLLM("llm.inferense", config_path=config_path)
    with pytest.raises(UnknownRoleError, match=r"Did you mean 'llm\.inference'"):
        llm.complete("hello")
    with pytest.raises(UnknownRoleError):
        _ = llm.metadata


def test_mode_mismatch(config_path: str) -> None:
    with pytest.raises(ModeMismatchError):
        RoleLLM("llm.embedding", config_path=config_path).chat(MESSAGES)
    with pytest.raises(ModeMismatchError):
        RoleEmbedding("llm.inference", config_path=config_path).get_text_embedding("x")


async def test_missing_credential(config_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLAMAINDEX_TEST_KEY", raising=False)
    with pytest.raises(MissingCredentialError, match="LLAMAINDEX_TEST_KEY"):
        await RoleLLM("llm.keyed", config_path=config_path).achat(MESSAGES)


def test_both_hub_and_config_path_is_a_usage_error(config_path: str) -> None:
    hub = LLMHub.shared(config_path)
    with pytest.raises(UsageError, match="not both"):
        RoleLLM("llm.inference", hub=hub, config_path=config_path)
    with pytest.raises(UsageError, match="not both"):
        RoleEmbedding("llm.embedding", hub=hub, config_path=config_path)


@pytest.mark.parametrize("key", [*sorted(CONFIG_ONLY_KEYS), "openai_api_key", "azure_api_base"])
@pytest.mark.parametrize("as_param", [False, True])
def test_credentials_and_client_settings_are_refused(key: str, as_param: bool) -> None:
    # The same rule (and message) as langchain-llmhub's, from llmhub_runtime.adapter_core.
    kwargs: dict[str, Any] = {"params_override": {key: SECRET}} if as_param else {key: SECRET}
    for cls, role in ((RoleLLM, "llm.inference"), (RoleEmbedding, "llm.embedding")):
        with pytest.raises(UsageError, match=rf"^{cls.__name__} takes no {key}=: .*llmhub\.yaml") as caught:
            cls(role, **kwargs)
        assert SECRET not in str(caught.value)


@pytest.mark.parametrize("key", ["model", "model_name"])
def test_a_model_is_refused_because_the_role_picks_it(key: str) -> None:
    with pytest.raises(
        UsageError, match=rf"RoleLLM takes no {key}=: the role decides the model.*roles\.llm\.inference"
    ):
        RoleLLM("llm.inference", **{key: "gpt-4o"})
    with pytest.raises(UsageError, match=rf"RoleEmbedding takes no {key}="):
        RoleEmbedding("llm.embedding", **{key: "text-embedding-3-small"})


@pytest.mark.parametrize("kwargs", [{"model": "gpt-4o"}, {"api_key": SECRET}])
def test_per_call_models_and_keys_are_refused_before_any_request(
    config_path: str, server: StandInServer, kwargs: dict[str, Any]
) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path)
    with pytest.raises(InvalidInputError) as caught:
        llm.chat(MESSAGES, **kwargs)
    assert "llmhub.yaml" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert server.requests == []


# --- offline construction -----------------------------------------------------------------------


def test_construction_is_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any, server: StandInServer
) -> None:
    missing = tmp_path / "nowhere" / "llmhub.yaml"
    monkeypatch.setenv("LLMHUB_CONFIG", str(missing))
    shared_before = dict(LLMHub._shared)

    llm = RoleLLM("llm.inference", temperature=0)
    embed_model = RoleEmbedding("llm.embedding")
    in_file = RoleLLM("llm.inference", config_path=missing)
    settings.llm = llm
    settings.embed_model = embed_model
    repr(llm), llm.to_dict(), embed_model.to_dict()

    assert LLMHub._shared == shared_before  # no hub was built
    assert server.requests == []
    with pytest.raises(ConfigNotFoundError):
        in_file.complete("hello")
    with pytest.raises(ConfigNotFoundError):
        _ = llm.metadata
    with pytest.raises(ConfigNotFoundError):
        embed_model.get_query_embedding("hello")


# --- secrets --------------------------------------------------------------------------------------


def test_keys_never_reach_serialized_models(
    config_path: str, server: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLAMAINDEX_TEST_KEY", SECRET)
    llm = RoleLLM("llm.keyed", config_path=config_path)
    assert llm.complete("say ok").text == "ok"
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    embed_model = RoleEmbedding("llm.embedding", config_path=config_path)
    embed_model.get_query_embedding("x")
    for text in (repr(llm), llm.to_json(), str(llm.to_payload()), repr(embed_model), embed_model.to_json()):
        assert SECRET not in text
    assert "hub" not in llm.to_dict()
    assert "hub" not in embed_model.to_dict()


def test_serialization_round_trip(config_path: str) -> None:
    llm = RoleLLM("llm.sized", config_path=config_path, temperature=0.3, context_window=1000)
    again = RoleLLM.from_dict(llm.to_dict())
    assert (again.role, again.config_path, again.params_override, again.context_window) == (
        "llm.sized",
        config_path,
        {"temperature": 0.3},
        1000,
    )
    embed_model = RoleEmbedding("llm.embedding", config_path=config_path, embed_batch_size=4)
    copy = RoleEmbedding.from_dict(embed_model.to_dict())
    assert (copy.role, copy.config_path, copy.embed_batch_size) == ("llm.embedding", config_path, 4)
