"""Every example runs, so none of them rots: against the stand-in, or the real local model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from llmhub_runtime.testing import StandInServer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _env(config: Path | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("LLMHUB_")}
    if config is not None:
        env["LLMHUB_CONFIG"] = str(config)
    return {**env, **extra}


def run(script: str, config: Path | None, *args: str, timeout: float = 120, **env: str) -> str:
    """Run an example from a directory that is not the repo's: examples must not depend on the cwd."""
    elsewhere = Path(tempfile.gettempdir())
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        env=_env(config, **env),
        timeout=timeout,
        cwd=elsewhere,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def config(server: StandInServer, tmp_path: Path) -> Path:
    path = tmp_path / "llmhub.yaml"
    path.write_text(yaml.safe_dump(server.chat_config()))
    return path


def test_hub_calls(config: Path) -> None:
    out = run("hub_calls.py", config)
    assert "llm.inference -> standin/standin-chat" in out
    assert "sync: hello\n" in out
    assert "stream: Stand-in reply to: Count to three." in out
    assert "async: ['a', 'b', 'c']" in out
    assert "embedding dims: [16, 16]" in out
    assert "UnknownRoleError: Unknown role 'llm.inferense'. Did you mean 'llm.inference'?" in out
    assert "usage llm.inference: 5 calls" in out


def test_without_llmhub_config_the_examples_use_the_local_config_next_to_them(server: StandInServer) -> None:
    # examples/local/llmhub.yaml reads $LLMHUB_LOCAL_BASE: here the stand-in plays the local server.
    out = run("hub_calls.py", None, LLMHUB_LOCAL_BASE=server.openai_base)
    assert "llm.inference -> local/smollm2-135m-instruct" in out
    assert "embedding dims: [16, 16]" in out
    assert {r.model for r in server.requests} == {"smollm2-135m-instruct"}


def test_reliability() -> None:
    out = run("reliability.py", None)
    assert "attempt 1 on primary/main-model: ProviderServerError -> retry in" in out
    assert "attempt 2 on primary/main-model: RateLimitError -> next target" in out
    assert "answer from backup-model : Stand-in reply to: Hello?" in out


def test_langchain_chain(config: Path) -> None:
    assert run("langchain_chain.py", config) == "chain: hello from llmhub\ntools: Tool result: 42\n"


def test_llamaindex_rag(config: Path) -> None:
    assert run("llamaindex_rag.py", config, "What does llmhub do?").strip()


def test_llamaindex_agent(config: Path) -> None:
    out = run("llamaindex_agent.py", config)
    assert "tool multiply({'a': 6, 'b': 7}) -> 42" in out
    assert "answer: Tool result: 42" in out


@pytest.mark.local_model
@pytest.mark.timeout(600)
def test_quickstart_on_the_local_model() -> None:
    out = run("quickstart.py", None, timeout=600)
    for marker in ("1. chat role", "2. embedding role", "3. LangChain", "4. LlamaIndex", "done."):
        assert marker in out


@pytest.mark.local_model
@pytest.mark.timeout(300)
def test_ctrl_c_in_the_quickstart_stops_cleanly() -> None:
    # Mid-run: the hub is in use and the server serving; what follows (an async call, importing
    # LangChain and LlamaIndex, their calls) takes seconds, so the signal lands before the end.
    marker = "2. embedding role"
    with subprocess.Popen(
        [sys.executable, "-u", str(EXAMPLES / "quickstart.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(None),
        cwd=tempfile.gettempdir(),
    ) as process:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:  # bounded by the test timeout
            seen.append(line)
            if marker in line:
                break
        assert any(marker in line for line in seen), "".join(seen)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "interrupted: the local model server is stopped."
