"""``llmhub roles`` and ``llmhub explain``: what each role calls, where values come from, key status."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from llmhub_runtime.testing.server import StandInServer

from .conftest import Result


def test_roles_table_shows_targets_and_credential_status(
    run: Callable[..., Result], config_file: Path, keyed: None
) -> None:
    result = run("roles", str(config_file))
    assert result.code == 0
    rows = [line.split() for line in result.out.splitlines()]
    assert rows == [
        ["ROLE", "MODE", "PROVIDER", "MODEL", "FALLBACKS", "CREDENTIAL"],
        ["llm.inference", "chat", "standin", "gpt-test", "open/gpt-backup", "set", "(STANDIN_KEY)"],
        ["llm.backup", "chat", "open", "gpt-backup", "-", "not", "needed"],
        ["llm.embedding", "embedding", "standin", "embed-test", "-", "set", "(STANDIN_KEY)"],
    ]


def test_roles_reports_a_missing_key(run: Callable[..., Result], config_file: Path) -> None:
    result = run("roles", str(config_file), "--json")
    assert result.code == 0
    rows = json.loads(result.out)
    assert [(r["role"], r["credential"], r["env_key"]) for r in rows] == [
        ("llm.inference", "missing", "STANDIN_KEY"),
        ("llm.backup", "not needed", None),
        ("llm.embedding", "missing", "STANDIN_KEY"),
    ]
    assert rows[0]["fallbacks"] == ["open/gpt-backup"]


def test_roles_on_a_bad_config_is_one_error(run: Callable[..., Result], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("roles:\n  r:\n    provider: openai\n", encoding="utf-8")
    result = run("roles", str(bad))
    assert result.code == 1
    assert result.out == ""
    assert result.err.splitlines() == [
        f"llmhub: error: 1 problem in {bad}",
        f"  {bad}:2: roles.r.model: role 'r' has no model; set it on the role or under 'defaults:'",
    ]


def test_explain_shows_every_target_with_sources(
    run: Callable[..., Result], config_file: Path, server: StandInServer, keyed: None
) -> None:
    result = run("explain", "llm.inference", "--config", str(config_file))
    assert result.code == 0
    lines = [line.rstrip() for line in result.out.splitlines()]
    assert lines[0] == f"role llm.inference  (chat, configured in {config_file})"
    assert "target 1 of 2 (primary): standin/gpt-test" in lines
    assert "target 2 of 2 (fallback via role llm.backup): open/gpt-backup" in lines
    text = result.out
    assert f"api_base    {server.openai_base}" in text
    assert "credential  set (STANDIN_KEY)" in text
    assert "credential  not needed" in text
    assert "temperature = 0.2   from roles.llm.inference.params" in text
    assert "max_tokens = 64     from roles.llm.inference.params" in text
    assert "timeout     30s   from providers.standin.timeout" in text
    assert "timeout     45s   from defaults.timeout" in text
    assert "1 attempt, backoff 0.5s doubling up to 20s" in text
    assert "from roles.llm.inference.retry" in text
    assert "from roles.llm.backup.retry" in text  # one attempt, set in the conftest (the default is 3)


def test_explain_json(run: Callable[..., Result], config_file: Path) -> None:
    result = run("--config", str(config_file), "explain", "llm.inference", "--json")
    assert result.code == 0
    report = json.loads(result.out)
    assert report["role"] == "llm.inference" and report["mode"] == "chat" and report["source"] == "role"
    first, second = report["targets"]
    assert first["params"] == {"temperature": 0.2, "max_tokens": 64}
    assert first["param_sources"] == {
        "temperature": "roles.llm.inference.params",
        "max_tokens": "roles.llm.inference.params",
    }
    assert (first["timeout"], first["timeout_source"]) == (30.0, "providers.standin.timeout")
    assert first["credential"] == "missing"
    assert (second["label"], second["via_role"], second["timeout_source"]) == (
        "open/gpt-backup",
        "llm.backup",
        "defaults.timeout",
    )


def test_explain_unknown_role_suggests_and_exits_1(run: Callable[..., Result], config_file: Path) -> None:
    result = run("explain", "llm.infrence", "--config", str(config_file))
    assert result.code == 1
    assert result.out == ""
    assert result.err == (
        "llmhub: error: Unknown role 'llm.infrence'. Did you mean 'llm.inference'? Known roles: "
        f"'llm.inference', 'llm.backup', 'llm.embedding'. Add it under 'roles:' in {config_file}.\n"
    )
    assert "Traceback" not in result.err


@pytest.mark.parametrize("flag", ["--debug", "env"])
def test_debug_shows_the_traceback(
    run: Callable[..., Result], config_file: Path, monkeypatch: pytest.MonkeyPatch, flag: str
) -> None:
    argv = ["explain", "nope", "--config", str(config_file)]
    if flag == "env":
        monkeypatch.setenv("LLMHUB_DEBUG", "1")
    else:
        argv.append("--debug")
    result = run(*argv)
    assert result.code == 1
    assert "Traceback (most recent call last)" in result.err
    assert result.err.rstrip().endswith(f"Add it under 'roles:' in {config_file}.")
