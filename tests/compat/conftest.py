"""Fixtures for the llmhub-runtime 1.x compatibility tests.

The 1.x fixture files name no ``api_base`` (1.x had none): ``published_env`` points the real SDKs at the
stand-in server the way a user's environment would, with ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL``,
and sets the keys the files name. Nothing is patched: every call goes over HTTP to the stand-in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmhub_runtime.testing import StandInServer, clean_provider_env

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_PATH = str(FIXTURES / "llmhub.yaml")
"""The shape of llmhub-runtime 1.0.x's own tests/fixtures/llmhub.yaml."""

KEYS = {"OPENAI_API_KEY": "sk-test-openai", "ANTHROPIC_API_KEY": "sk-ant-test", "MISTRAL_API_KEY": "mistral-test"}


@pytest.fixture
def published_env(server: StandInServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInServer]:
    """Provider keys set and the SDKs' base URLs pointing at the stand-in; other provider variables removed."""
    with clean_provider_env():
        for name, value in KEYS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.anthropic_base)
        monkeypatch.delenv("LLMHUB_ENV", raising=False)
        yield server
