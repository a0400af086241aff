"""examples/langchain_chain.py runs against the config in $LLMHUB_CONFIG (here: the stand-in's)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from llmhub_runtime.testing import StandInServer

EXAMPLE = Path(__file__).parents[4] / "examples" / "langchain_chain.py"


def test_the_example_runs_its_chain_and_tool_loop(server: StandInServer, capsys: pytest.CaptureFixture[str]) -> None:
    namespace = runpy.run_path(str(EXAMPLE))  # not as __main__: main() is called below
    namespace["main"]()
    assert capsys.readouterr().out.splitlines() == ["chain: hello from llmhub", "tools: Tool result: 42"]
    bodies = [request.body for request in server.requests]
    assert [body["model"] for body in bodies] == ["standin-chat"] * 3
    assert bodies[1]["tools"][0]["function"]["name"] == "multiply"
    assert bodies[2]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": bodies[2]["messages"][-2]["tool_calls"][0]["id"],
        "content": "42",
    }
