"""``examples/llamaindex_rag.py`` runs end to end against the config in ``$LLMHUB_CONFIG``."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

from llmhub_runtime.testing import StandInServer

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "llamaindex_rag.py"


def test_rag_example(use_config: str, settings: Any, server: StandInServer, capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(EXAMPLE), run_name="llamaindex_rag_example")
    question = module["DOCUMENTS"][1].text  # equal text → the hashed stand-in vectors retrieve it first
    assert module["main"]([question]) == 0

    out = capsys.readouterr().out
    assert f"question: {question}" in out
    assert "answer: Stand-in reply to: Context information is below." in out
    assert f"source (1.000): {question}" in out
    embeds = [r for r in server.requests if r.model == "standin-embed"]
    chats = [r for r in server.requests if r.model == "standin-chat"]
    assert [len(r.body["input"]) for r in embeds] == [4, 1]  # the documents in one batch, then the query
    assert [r.stream for r in chats] == [True]
