"""RoleEmbeddings without a server: construction stays offline, params, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from llmhub_runtime.errors import ConfigNotFoundError, UsageError
from pydantic import ValidationError

from langchain_llmhub import RoleEmbeddings


def test_construction_reads_nothing_and_the_first_call_raises_config_not_found(tmp_path: Path) -> None:
    embeddings = RoleEmbeddings("llm.embedding")
    assert (embeddings.role, embeddings.config_path, embeddings.hub) == ("llm.embedding", None, None)
    with pytest.raises(ConfigNotFoundError) as caught:
        embeddings.embed_query("hello")
    assert caught.value.path == str(tmp_path / "llmhub.yaml")


async def test_async_calls_raise_config_not_found_too() -> None:
    with pytest.raises(ConfigNotFoundError):
        await RoleEmbeddings("llm.embedding").aembed_documents(["a"])


def test_embedding_nothing_makes_no_call() -> None:
    embeddings = RoleEmbeddings("llm.embedding")  # no config anywhere: any call would raise
    assert embeddings.embed_documents([]) == []


def test_unknown_kwargs_become_model_kwargs() -> None:
    embeddings = RoleEmbeddings(role="llm.embedding", dimensions=8, chunk_size=2)
    assert embeddings.model_kwargs == {"dimensions": 8}
    assert embeddings.chunk_size == 2
    # None is kept: the hub then sends no dimensions, even if the role sets some (one rule for None).
    assert RoleEmbeddings("llm.embedding", dimensions=None).model_kwargs == {"dimensions": None}


def test_refusals() -> None:
    with pytest.raises(UsageError, match="takes no api_key="):
        RoleEmbeddings("llm.embedding", api_key="sk-x")
    with pytest.raises(UsageError, match="takes no model="):
        RoleEmbeddings("llm.embedding", model="text-embedding-3-small")
    with pytest.raises(UsageError, match="role twice"):
        RoleEmbeddings("llm.embedding", role="llm.other")
    with pytest.raises(ValidationError, match="chunk_size"):
        RoleEmbeddings("llm.embedding", chunk_size=0)


def test_config_path_defaults_to_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMHUB_CONFIG", "/etc/app/llmhub.yaml")
    assert RoleEmbeddings("llm.embedding").config_path == "/etc/app/llmhub.yaml"
