"""Integration tests: ``$LLMHUB_CONFIG`` points at the stand-in's config, as a user's would."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _llmhub_config_env(monkeypatch: pytest.MonkeyPatch, config_path: Path) -> None:
    monkeypatch.setenv("LLMHUB_CONFIG", str(config_path))
