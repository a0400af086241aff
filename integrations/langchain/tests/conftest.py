"""Fixtures for the langchain-llmhub suites: one loopback stand-in server and an llmhub.yaml pointing at it.

Unit tests may open no connection at all and integration tests only to 127.0.0.1 (pytest-socket),
so both suites are offline by proof.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from llmhub_runtime import LLMHub
from llmhub_runtime.testing import StandInServer

HERE = Path(__file__).parent
ONCE = {"max_attempts": 1}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Unit tests may connect nowhere; integration tests to the loopback stand-in only."""
    for item in items:
        path = Path(item.path)
        if HERE / "unit_tests" in path.parents:
            item.add_marker(pytest.mark.allow_hosts([]))
        elif HERE in path.parents:
            item.add_marker(pytest.mark.allow_hosts(["127.0.0.1"]))


def llmhub_config(server: StandInServer) -> dict[str, Any]:
    """The stand-in's config plus roles the suites need (all with ``env_key: null`` providers)."""
    config = server.chat_config(model="standin-chat", embedding_model="standin-embed")
    config["roles"]["llm.embedding"]["retry"] = ONCE
    config["roles"].update(
        {
            "llm.alt": {"provider": "standin", "model": "standin-alt", "mode": "chat"},
            "llm.anthropic": {
                "provider": "standin-anthropic",
                "model": "claude-standin",
                "mode": "chat",
                "params": {"max_tokens": 256},
            },
            # one attempt each: the suites inject single faults, which llmhub's default retry (3) would absorb
            "llm.scripted": {"provider": "standin", "model": "standin-scripted", "mode": "chat", "retry": ONCE},
            "llm.fallback": {
                "provider": "standin",
                "model": "standin-primary",
                "mode": "chat",
                "retry": ONCE,
                "fallbacks": [{"provider": "standin", "model": "standin-backup"}],
            },
            "llm.tuned": {
                "provider": "standin",
                "model": "standin-tuned",
                "mode": "chat",
                "params": {"temperature": 0.7, "max_tokens": 50, "top_p": 0.9},
            },
        }
    )
    return config


@pytest.fixture(scope="session")
def standin() -> Iterator[StandInServer]:
    """The stand-in server, for the whole session."""
    with StandInServer() as server:
        yield server


@pytest.fixture(scope="session")
def config_path(standin: StandInServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An llmhub.yaml whose roles point at the stand-in; its shared hub is closed at the end."""
    path = tmp_path_factory.mktemp("llmhub") / "llmhub.yaml"
    path.write_text(yaml.safe_dump(llmhub_config(standin), sort_keys=False), encoding="utf-8")
    yield path
    LLMHub.shared(path).close()
