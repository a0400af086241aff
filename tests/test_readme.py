"""The README's test command is the one CI runs, and CI fails when pytest or a linter fails."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / ".ci" / "run"
CHECKS = ["ruff check .", "ruff format --check .", "mypy --strict"]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci_lines = [line for line in CI.read_text().splitlines() if line.startswith("python3 -m venv .venv &&")]
    assert len(ci_lines) == 1
    assert ci_lines[0] in readme
    assert "python -m pytest" in ci_lines[0]
    redis = [line for line in CI.read_text().splitlines() if line.startswith("command -v redis-server")]
    assert len(redis) == 1 and redis[0] in readme  # the tests of shared state need a real redis-server


def test_ci_runs_the_linters_after_the_tests() -> None:
    lines = CI.read_text().splitlines()
    test_line = next(n for n, line in enumerate(lines) if line.startswith("python3 -m venv .venv &&"))
    for check in CHECKS:
        assert lines.index(f".venv/bin/{check} || failed=1") > test_line


def _fake_checkout(tmp_path: Path, failing: set[str]) -> Path:
    """A copy of .ci/run whose tools (python3, pip, pytest, ruff, mypy; redis-server is found, so no apt-get)
    are stubs exiting 1 if named in ``failing``."""
    checkout = tmp_path / "checkout"
    (checkout / ".ci").mkdir(parents=True)
    shutil.copy(CI, checkout / ".ci" / "run")
    bin_dir = checkout / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    log = tmp_path / "calls.log"
    app_dir = checkout / ".venv-app" / "bin"  # the app environment's smoke run
    app_dir.mkdir(parents=True)
    for tool in ("python", "pip", "ruff", "mypy", "python3", "redis-server", "app/python", "app/pip"):
        where = tmp_path / "path" if tool in ("python3", "redis-server") else app_dir if "/" in tool else bin_dir
        where.mkdir(exist_ok=True)
        script = where / tool.split("/")[-1]
        # A check is named by the tool and its first argument: "python -m" (pytest), "ruff format", ...
        script.write_text(
            "#!/bin/sh\n"
            f'echo "{tool} $*" >> {log}\n'
            f'case "{tool} $1 $2" in\n'
            + "".join(f'  "{name}"*) exit 1 ;;\n' for name in sorted(failing))
            + "esac\nexit 0\n"
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return checkout


def _run_ci(tmp_path: Path, failing: set[str]) -> tuple[int, list[str]]:
    checkout = _fake_checkout(tmp_path, failing)
    env = {**os.environ, "PATH": f"{tmp_path / 'path'}{os.pathsep}{os.environ['PATH']}"}
    bash = shutil.which("bash") or "/bin/bash"
    result = subprocess.run([bash, str(checkout / ".ci" / "run")], env=env, capture_output=True, timeout=30)
    calls = (tmp_path / "calls.log").read_text().splitlines()
    return result.returncode, calls


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_ci_passes_when_every_check_passes(tmp_path: Path) -> None:
    code, calls = _run_ci(tmp_path, set())
    assert code == 0
    assert calls[-3:] == ["ruff check .", "ruff format --check .", "mypy --strict"]
    assert "python -m pytest" in calls


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("failing", ["ruff check", "ruff format", "mypy --strict", "python -m", "app/python examples"])
def test_ci_fails_when_one_check_fails(tmp_path: Path, failing: str) -> None:
    code, calls = _run_ci(tmp_path, {failing})
    assert code == 1
    if failing != "python -m":  # a linter failing does not stop the others: one run lists every failure
        assert calls[-3:] == ["ruff check .", "ruff format --check .", "mypy --strict"]
    else:  # failing tests stop the script at once
        assert calls[-1] == "python -m pytest"
