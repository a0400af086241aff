"""CLI fixtures: run ``main([...])`` in-process, and write configs pointing at the stand-in server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from llmhub_runtime.cli import main
from llmhub_runtime.testing.env import clean_provider_env
from llmhub_runtime.testing.server import StandInServer

SECRET = "sk-cli-secret-4242"
"""The key the tests export; it must never appear in any output."""


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No real provider key, no $LLMHUB_CONFIG / $LLMHUB_DEBUG, and the cwd is tmp_path."""
    for name in ("LLMHUB_CONFIG", "LLMHUB_DEBUG", "LLMHUB_LOCAL_BASE", "STANDIN_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    with clean_provider_env():
        yield


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``run("check", "x.yaml")`` → exit code, stdout and stderr of ``llmhub check x.yaml``."""

    def invoke(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        assert SECRET not in captured.out + captured.err
        return Result(code, captured.out, captured.err)

    return invoke


def standin_yaml(server: StandInServer) -> str:
    """Two roles on the stand-in (keyed by $STANDIN_KEY), a fallback and a keyless provider."""
    return f"""\
project: cli-tests
providers:
  standin:
    kind: openai
    api_base: {server.openai_base}
    env_key: STANDIN_KEY
    timeout: 30
  open:
    kind: openai
    api_base: {server.openai_base}
    env_key: null
defaults:
  timeout: 45
roles:
  llm.inference:
    description: chat
    provider: standin
    model: gpt-test
    mode: chat
    params:
      temperature: 0.2
      max_tokens: 64
    retry:
      max_attempts: 1
    fallbacks:
      - role: llm.backup
  llm.backup:
    provider: open
    model: gpt-backup
    retry:
      max_attempts: 1   # one attempt: the default (3) would retry the injected faults
  llm.embedding:
    provider: standin
    model: embed-test
    mode: embedding
"""


@pytest.fixture
def config_file(server: StandInServer, tmp_path: Path) -> Path:
    path = tmp_path / "llmhub.yaml"
    path.write_text(standin_yaml(server), encoding="utf-8")
    return path


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Export the stand-in's key."""
    monkeypatch.setenv("STANDIN_KEY", SECRET)
