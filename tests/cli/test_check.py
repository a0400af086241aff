"""``llmhub check``: offline validation, every problem as FILE:LINE: KEY.PATH: MESSAGE."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Result


def test_a_good_config_passes(run: Callable[..., Result], config_file: Path, keyed: None) -> None:
    result = run("check", str(config_file))
    assert result.code == 0
    assert result.out == f"{config_file}: ok (3 roles: llm.inference, llm.backup, llm.embedding)\n"
    assert result.err == ""


def test_default_path_is_the_working_directory_file(run: Callable[..., Result], config_file: Path, keyed: None) -> None:
    assert config_file == Path.cwd() / "llmhub.yaml"
    result = run("check")
    assert result.code == 0
    assert result.out.startswith("llmhub.yaml: ok (3 roles")


def test_llmhub_config_env_var_and_global_option_choose_the_file(
    run: Callable[..., Result], config_file: Path, monkeypatch: pytest.MonkeyPatch, keyed: None
) -> None:
    moved = config_file.rename(config_file.with_name("other.yaml"))
    assert run("check").code == 1  # ./llmhub.yaml is gone
    assert run("--config", str(moved), "check").code == 0
    monkeypatch.setenv("LLMHUB_CONFIG", str(moved))
    assert run("check").out.startswith(f"{moved}: ok")


def test_a_missing_credential_is_a_note_not_a_failure(run: Callable[..., Result], config_file: Path) -> None:
    result = run("check", str(config_file))
    assert result.code == 0
    assert result.out.splitlines()[1:] == [
        "note: STANDIN_KEY is not set (needed by llm.inference, llm.embedding); calls will fail until it is"
    ]


def test_typos_are_listed_in_line_order_with_suggestions(run: Callable[..., Result], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "roles:\n"
        "  llm.inference:\n"
        "    provider: openai\n"
        "    model: gpt-4o-mini\n"
        "    descripton: chat\n"
        "    mode: chatt\n",
        encoding="utf-8",
    )
    result = run("check", str(bad))
    assert result.code == 1
    lines = result.out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{bad}:5: roles.llm.inference.descripton: unknown key 'descripton' (allowed: ")
    assert lines[0].endswith(" (did you mean 'description'?)")
    assert lines[1].startswith(f"{bad}:6: roles.llm.inference.mode: 'chatt' is not one of 'chat', ")
    assert lines[1].endswith(" (did you mean 'chat'?)")
    assert lines[2] == f"{bad}: 2 problems"
    assert result.err == ""


def test_an_unknown_provider_id_suggests_the_right_one(run: Callable[..., Result], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "providers:\n  main:\n    kind: opnai\nroles:\n  r:\n    provider: main\n    model: m\n", encoding="utf-8"
    )
    result = run("check", str(bad))
    assert result.code == 1
    assert result.out.splitlines()[0] == (
        f"{bad}:3: providers.main.kind: 'opnai' is not a provider any-llm knows (did you mean 'openai'?)"
    )


def test_yaml_syntax_error_reports_the_line_and_column(run: Callable[..., Result], tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("roles:\n  llm.inference:\n    provider: [openai\n    model: x\n", encoding="utf-8")
    result = run("check", str(bad))
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{bad}:4:10: invalid YAML: while parsing a flow sequence did not find expected ',' or ']'",
        f"{bad}: 1 problem",
    ]
    report = json.loads(run("check", str(bad), "--json").out)
    assert [(p["line"], p["column"]) for p in report["problems"]] == [(4, 10)]


def test_a_missing_file_is_one_problem(run: Callable[..., Result], tmp_path: Path) -> None:
    result = run("check", str(tmp_path / "nope.yaml"))
    assert result.code == 1
    assert "No llmhub config at" in result.out
    assert "llmhub init" in result.out


def test_json_output_lists_problems(run: Callable[..., Result], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("roles:\n  r:\n    provider: openai\n    model: m\n    temprature: 1\n", encoding="utf-8")
    result = run("check", str(bad), "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["ok"] is False
    assert report["problems"] == [
        {
            "path": str(bad),
            "line": 5,
            "column": None,
            "key_path": "roles.r.temprature",
            "message": report["problems"][0]["message"],
            "suggestion": None,
        }
    ]
    assert report["problems"][0]["message"].startswith("unknown key 'temprature'")


def test_json_output_for_a_good_config(run: Callable[..., Result], config_file: Path) -> None:
    result = run("check", str(config_file), "--json")
    assert result.code == 0
    report = json.loads(result.out)
    assert report["ok"] is True
    assert report["roles"] == ["llm.inference", "llm.backup", "llm.embedding"]
    assert report["notes"] == [
        "STANDIN_KEY is not set (needed by llm.inference, llm.embedding); calls will fail until it is"
    ]


def _installed(distribution: str) -> bool:
    import importlib.metadata

    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


needs_no_gemini_sdk = pytest.mark.skipif(_installed("google-genai"), reason="google-genai is installed here")

GEMINI_CONFIG = """\
providers:
  google:
    kind: gemini
roles:
  llm.inference:
    provider: google
    model: gemini-2.0-flash
    fallbacks:
      - provider: openai
        model: gpt-4o-mini
"""


@needs_no_gemini_sdk
def test_a_provider_whose_sdk_is_missing_is_a_warning_naming_the_extra(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    path = tmp_path / "gemini.yaml"
    path.write_text(GEMINI_CONFIG, encoding="utf-8")
    result = run("check", str(path))
    assert result.code == 0  # the config is right; this environment lacks a package
    assert result.out.splitlines() == [
        f"{path}: ok (1 role: llm.inference)",
        "warning: provider 'google' (any-llm 'gemini') needs google-genai, google-cloud-storage, not installed here "
        "(used by llm.inference); calls will fail until you run: pip install 'any-llm-sdk[gemini]'",
    ]
    report = json.loads(run("check", str(path), "--json").out)
    assert report["ok"] is True
    assert report["warnings"] == [result.out.splitlines()[1].removeprefix("warning: ")]


def test_the_sdk_check_does_not_import_any_llm(tmp_path: Path) -> None:
    import subprocess

    path = tmp_path / "gemini.yaml"
    path.write_text(GEMINI_CONFIG, encoding="utf-8")
    code = (
        "import sys; from llmhub_runtime.cli import main; main(['check', sys.argv[1]]); "
        "print('any_llm' in sys.modules, 'openai' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines()[-1] == "False False"


def test_an_sdk_module_that_cannot_be_found_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmhub_runtime.cli._sdks import missing_sdk

    assert missing_sdk("anthropic") is None
    monkeypatch.setitem(sys.modules, "anthropic", None)  # find_spec() now finds nothing
    missing = missing_sdk("anthropic")
    assert missing is not None
    assert (missing.packages, missing.install) == (("anthropic",), "pip install 'any-llm-sdk[anthropic]'")
    assert missing_sdk("openai") is None
    assert missing_sdk("llamacpp") is None  # OpenAI-compatible: nothing beyond the openai SDK
