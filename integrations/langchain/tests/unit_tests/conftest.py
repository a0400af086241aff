"""Unit tests run with no config anywhere: no $LLMHUB_CONFIG and an empty working directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LLMHUB_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
