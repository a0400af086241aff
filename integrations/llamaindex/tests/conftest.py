"""Fixtures: one stand-in server and one llmhub.yaml per session, scripted models for LlamaIndex.

Every test goes through the real stack: RoleLLM/RoleEmbedding → LLMHub → any-llm → the openai
SDK → HTTP on 127.0.0.1 → ``StandInServer``. Between tests the server's history and queues are
cleared and the scripts below are installed again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from llama_index.core import Settings
from llama_index.core.tools import FunctionTool

from llmhub_runtime import LLMHub
from llmhub_runtime.testing import RecordedRequest, Reply, StandInServer, clean_provider_env

CHAT_MODEL = "standin-chat"
EMBED_MODEL = "standin-embed"
REACT_MODEL = "react-scripted"


def react_model(request: RecordedRequest) -> Reply:
    """A model that speaks LlamaIndex's ReAct text format.

    First turn: "Action: multiply" with the two numbers of the question. After an
    "Observation: ..." message: a final "Answer:" quoting the observation.
    """
    messages: list[dict[str, Any]] = request.body["messages"]
    last = messages[-1]
    text = last.get("content") or ""
    if last["role"] == "user" and text.startswith("Observation:"):
        observation = text.removeprefix("Observation:").strip()
        return Reply(text=f"Thought: I can answer without using any more tools.\nAnswer: The product is {observation}.")
    question = next(m["content"] for m in reversed(messages) if m["role"] == "user")
    a, b = (int(n) for n in re.findall(r"\d+", question)[:2])
    action_input = json.dumps({"a": a, "b": b})
    return Reply(
        text=f"Thought: I need to use a tool to help me answer the question.\nAction: multiply\nAction Input: {action_input}"
    )


def install_scripts(server: StandInServer) -> None:
    server.script(REACT_MODEL, react_model)


@pytest.fixture(scope="session")
def server() -> Iterator[StandInServer]:
    with clean_provider_env(), StandInServer() as running:
        install_scripts(running)
        yield running


@pytest.fixture(autouse=True)
def _fresh_server(server: StandInServer) -> None:
    server.reset()
    install_scripts(server)


def hub_config(server: StandInServer) -> dict[str, Any]:
    """The llmhub config every test uses: the stand-in as an OpenAI-compatible provider, no key."""
    return {
        "providers": {
            "standin": {"kind": "openai", "api_base": server.openai_base, "env_key": None},
            "keyed": {"kind": "openai", "api_base": server.openai_base, "env_key": "LLAMAINDEX_TEST_KEY"},
        },
        "roles": {
            "llm.inference": {"provider": "standin", "model": CHAT_MODEL, "mode": "chat"},
            "llm.embedding": {"provider": "standin", "model": EMBED_MODEL, "mode": "embedding"},
            "llm.react": {"provider": "standin", "model": REACT_MODEL, "mode": "chat"},
            "llm.sized": {
                "provider": "standin",
                "model": "sized-model",
                "mode": "chat",
                "context_window": 8192,
                "params": {"max_tokens": 512, "temperature": 0.9},
            },
            "llm.keyed": {"provider": "keyed", "model": CHAT_MODEL, "mode": "chat"},
        },
        # one attempt: the tests inject single faults, which llmhub's default retry (3 attempts) would absorb
        "defaults": {"retry": {"max_attempts": 1}},
    }


@pytest.fixture(scope="session")
def config_path(server: StandInServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("llmhub") / "llmhub.yaml"
    path.write_text(yaml.safe_dump(hub_config(server)), encoding="utf-8")
    yield str(path)
    LLMHub.shared(path).close()


@pytest.fixture
def use_config(config_path: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``$LLMHUB_CONFIG`` pointing at the session config (for code that relies on the default)."""
    monkeypatch.setenv("LLMHUB_CONFIG", config_path)
    return config_path


@pytest.fixture
def settings() -> Iterator[Any]:
    """LlamaIndex's global ``Settings``, restored after the test."""
    saved = (Settings._llm, Settings._embed_model, Settings._callback_manager)
    yield Settings
    Settings._llm, Settings._embed_model, Settings._callback_manager = saved


class Multiplier:
    """A tool that records how it was called."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def multiply(self, a: int, b: int) -> int:
        """Multiply two integers and return the product."""
        self.calls.append((a, b))
        return a * b

    def tool(self) -> FunctionTool:
        return FunctionTool.from_defaults(fn=self.multiply, name="multiply")


@pytest.fixture
def multiplier() -> Multiplier:
    return Multiplier()
