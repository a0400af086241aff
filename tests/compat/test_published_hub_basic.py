"""llmhub-runtime 1.0.3's tests/test_hub_basic.py (6 tests), over real HTTP to the stand-in server.

1.x patched ``llmhub_runtime.hub.any_llm`` with a MagicMock and asserted on its call arguments; here
any-llm and the OpenAI SDK really run, and the assertions are on the request the server received and
the real response. ``test_hooks`` sends one user message: llmhub refuses an empty ``messages`` list
before any network (``InvalidInputError``), where 1.x handed it to the mock.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmhub_runtime.errors import EnvVarMissingError
from llmhub_runtime.hub import LLMHub
from llmhub_runtime.models import LLMMode, ProviderConfig, RuntimeConfig
from llmhub_runtime.testing import StandInServer

from .conftest import FIXTURE_PATH  # type: ignore[import-not-found]


def test_llmhub_init_file() -> None:
    hub = LLMHub(config_path=FIXTURE_PATH)
    assert hub.config.project == "memory"


def test_llmhub_init_object() -> None:
    config = RuntimeConfig(project="test", env="dev", providers={}, roles={}, defaults=None)
    hub = LLMHub(config_obj=config)
    assert hub.config.project == "test"


def test_llmhub_env_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISSING_KEY", raising=False)
    config = RuntimeConfig(
        project="test",
        env="dev",
        providers={"openai": ProviderConfig(env_key="MISSING_KEY")},
        roles={},
        defaults=None,
    )
    # Should raise error if key is missing and strict_env is True
    with pytest.raises(EnvVarMissingError) as excinfo:
        LLMHub(config_obj=config, strict_env=True)
    assert (excinfo.value.env_key, excinfo.value.provider) == ("MISSING_KEY", "openai")

    # Should not raise if strict_env is False
    LLMHub(config_obj=config, strict_env=False)


def test_completion_call(published_env: StandInServer) -> None:
    hub = LLMHub(config_path=FIXTURE_PATH)
    response = hub.completion("llm.inference", messages=[{"role": "user", "content": "hi"}])

    assert response.choices[0].message.content == "Stand-in reply to: hi"
    [request] = published_env.requests
    assert (request.api, request.path, request.model) == ("openai-chat", "/v1/chat/completions", "gpt-4")
    assert request.headers["authorization"] == "Bearer sk-test-openai"  # providers.openai.env_key
    assert request.body["messages"] == [{"role": "user", "content": "hi"}]
    assert (request.body["temperature"], request.body["max_completion_tokens"]) == (0.7, 2048)  # any-llm renames it


def test_embedding_call(published_env: StandInServer) -> None:
    hub = LLMHub(config_path=FIXTURE_PATH)
    response = hub.embedding("llm.embedding", input="hello")

    assert len(response.data) == 1
    assert len(response.data[0].embedding) == 16
    [request] = published_env.requests
    assert (request.path, request.model) == ("/v1/embeddings", "text-embedding-3-small")
    assert request.body["input"] == "hello"


def test_hooks(published_env: StandInServer) -> None:
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []

    hub = LLMHub(config_path=FIXTURE_PATH, on_before_call=before.append, on_after_call=after.append)
    messages = [{"role": "user", "content": "hi"}]
    response = hub.completion("llm.inference", messages=messages)

    assert before == [
        {
            "role": "llm.inference",
            "provider": "openai",
            "model": "gpt-4",
            "mode": LLMMode.chat,
            "params": {"temperature": 0.7, "max_tokens": 2048},
            "messages": messages,
        }
    ]
    assert after == [
        {
            "role": "llm.inference",
            "provider": "openai",
            "model": "gpt-4",
            "mode": LLMMode.chat,
            "success": True,
            "error": None,
            "response": response,
        }
    ]
