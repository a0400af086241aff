"""``llmhub doctor``: credential, any-llm package and (--ping) endpoint, per provider in use."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from llmhub_runtime.testing.env import unused_port
from llmhub_runtime.testing.server import StandInServer

from .conftest import Result, standin_yaml


def test_doctor_offline_passes_with_keys_set(run: Callable[..., Result], config_file: Path, keyed: None) -> None:
    result = run("doctor", str(config_file))
    assert result.code == 0
    lines = [line.strip() for line in result.out.splitlines()]
    assert lines[0] == f"llmhub doctor: {config_file} (3 roles, 2 providers in use)"
    assert "standin  (any-llm kind 'openai'; used by llm.inference, llm.embedding)" in lines
    assert "open  (any-llm kind 'openai'; used by llm.inference, llm.backup)" in lines
    assert "[ok]   credential  STANDIN_KEY is set" in lines
    assert "[ok]   credential  not needed" in lines
    assert lines.count("[ok]   package     any-llm provider 'openai' is installed") == 2
    assert lines[-1] == "All checks passed (add --ping to contact the endpoints)."


def test_doctor_ping_reaches_the_stand_in(
    run: Callable[..., Result], config_file: Path, server: StandInServer, keyed: None
) -> None:
    result = run("doctor", str(config_file), "--ping")
    assert result.code == 0
    endpoint = [line.strip() for line in result.out.splitlines() if "endpoint" in line]
    assert len(endpoint) == 2
    assert all(line.startswith(f"[ok]   endpoint    {server.openai_base} answered (") for line in endpoint)
    assert result.out.rstrip().endswith("All checks passed.")
    assert [r.path for r in server.requests] == []  # listing models is a GET, not a model request


def test_doctor_reports_a_missing_key_with_advice(run: Callable[..., Result], config_file: Path) -> None:
    result = run("doctor", str(config_file), "--ping")
    assert result.code == 1
    lines = [line.strip() for line in result.out.splitlines()]
    assert "[fail] credential  STANDIN_KEY is not set" in lines
    assert "-> export STANDIN_KEY=... (or change providers.standin.env_key in the config)" in lines
    assert "[skip] endpoint    not checked: no credential" in lines
    assert lines[-1] == "1 problem found."


def test_doctor_reports_an_unreachable_endpoint(
    run: Callable[..., Result], tmp_path: Path, server: StandInServer, keyed: None
) -> None:
    dead = f"http://127.0.0.1:{unused_port()}/v1"
    path = tmp_path / "dead.yaml"
    path.write_text(standin_yaml(server).replace(server.openai_base, dead), encoding="utf-8")
    result = run("doctor", str(path), "--ping", "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["ok"] is False
    endpoints = [c for p in report["providers"] for c in p["checks"] if c["name"] == "endpoint"]
    assert [c["status"] for c in endpoints] == ["fail", "fail"]
    assert all(c["detail"].startswith(f"{dead} is unreachable") for c in endpoints)
    assert endpoints[0]["advice"] == "check providers.standin.api_base"


def test_doctor_on_an_invalid_config(run: Callable[..., Result], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("roles:\n  r:\n    provider: openai\n    model: m\n    mdoe: chat\n", encoding="utf-8")
    result = run("doctor", str(bad))
    assert result.code == 1
    assert result.out.splitlines()[0].startswith(f"{bad}:5: roles.r.mdoe: unknown key 'mdoe'")
    assert (
        result.out.splitlines()[-1] == f"llmhub doctor: fix the config first ('llmhub check {bad}' lists the problems)"
    )


def test_doctor_names_the_extra_for_a_missing_sdk(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "anthropic", None)  # as if the anthropic SDK were not installed
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    path = tmp_path / "claude.yaml"
    path.write_text("roles:\n  r:\n    provider: anthropic\n    model: claude-3-5-haiku-latest\n", encoding="utf-8")
    result = run("doctor", str(path), "--ping")
    assert result.code == 1
    lines = [line.strip() for line in result.out.splitlines()]
    assert "[fail] package     any-llm provider 'anthropic' needs anthropic, not installed here" in lines
    assert "-> pip install 'any-llm-sdk[anthropic]'" in lines
    assert "[skip] endpoint    not checked: the provider package is missing" in lines


def test_doctor_on_an_unreachable_local_model_says_how_to_start_it(
    run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("init", "--local").code == 0
    monkeypatch.setenv("LLMHUB_LOCAL_BASE", f"http://127.0.0.1:{unused_port()}/v1")
    result = run("doctor", "--ping")
    assert result.code == 1
    assert (
        "-> start the local model with 'llmhub serve-local' (it serves at http://127.0.0.1:8484/v1; when that "
        "port is taken it prints an 'export LLMHUB_LOCAL_BASE=...' line to run here; needs pip install "
        "'xllamacpp>=0.2')"
    ) in [line.strip() for line in result.out.splitlines()]
