"""The console script, ``--help`` everywhere, and the error contract of ``main``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from llmhub_runtime.cli import build_parser, main

from .conftest import Result

COMMANDS = ["check", "roles", "explain", "call", "embed", "init", "schema", "serve-local", "doctor", "cache"]


def _console_script() -> Path:
    script = Path(sys.executable).with_name("llmhub")
    if not script.exists():
        pytest.skip("the llmhub console script is not installed next to this Python")
    return script


def test_installed_console_script_checks_a_config(config_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("roles:\n  r:\n    provider: openai\n    model: m\n    mode: chatt\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("LLMHUB_CONFIG", "LLMHUB_DEBUG")}
    good = subprocess.run(
        [_console_script(), "check", str(config_file)], capture_output=True, text=True, env=env, timeout=60
    )
    assert (good.returncode, good.stderr) == (0, "")
    assert good.stdout.startswith(f"{config_file}: ok (3 roles")
    failed = subprocess.run(
        [_console_script(), "--config", str(bad), "roles"], capture_output=True, text=True, env=env, timeout=60
    )
    assert failed.returncode == 1
    assert failed.stdout == ""
    head, problem = failed.stderr.splitlines()
    assert head == f"llmhub: error: 1 problem in {bad}"
    assert problem.startswith(f"  {bad}:5: roles.r.mode: 'chatt' is not one of 'chat', ")
    assert problem.endswith(" (did you mean 'chat'?)")


def test_root_help_is_a_quickstart(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "Quick start:" in text
    assert "llmhub init" in text and "llmhub call llm.inference" in text
    assert "Run 'llmhub COMMAND --help' for examples" in text
    for command in COMMANDS:
        assert f"    {command}" in text


def test_no_command_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "Quick start:" in capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_teaches_with_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: llmhub {command}")
    assert "Examples:" in text
    assert f"llmhub {command}" in text.split("Examples:", 1)[1]


def test_parser_knows_exactly_the_documented_commands() -> None:
    parser = build_parser()
    actions = [a for a in parser._actions if a.dest == "command"]
    assert len(actions) == 1
    assert list(actions[0].choices) == COMMANDS  # type: ignore[arg-type]


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chek"]) == 2
    err = capsys.readouterr().err
    assert "llmhub: error: argument COMMAND: invalid choice: 'chek'" in err


def test_unexpected_errors_are_one_line_without_debug(
    run: Callable[..., Result], config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmhub_runtime.cli import _config

    def broken(*args: object) -> int:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(_config, "load_config", broken)
    result = run("check", str(config_file))
    assert result.code == 1
    assert result.err == "llmhub: error: unexpected ZeroDivisionError: boom (set LLMHUB_DEBUG=1 for the traceback)\n"


def test_keyboard_interrupt_exits_130(
    run: Callable[..., Result], config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmhub_runtime.cli import _config

    def interrupted(*args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(_config, "load_config", interrupted)
    result = run("check", str(config_file))
    assert (result.code, result.err) == (130, "llmhub: interrupted\n")
