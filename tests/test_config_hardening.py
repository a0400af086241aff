"""Config loading under odd and hostile input: typed problems with file, line and key path, never a crash.

Issue 12 items 6, 10, 11, 12 and issue 18 items 3, 4, 9, 10, 12.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from llmhub_runtime import (
    ConfigSyntaxError,
    ConfigValidationError,
    LLMHub,
    RuntimeConfig,
    UnknownEnvError,
    UnknownRoleError,
    config_from_dict,
    load_config,
)
from llmhub_runtime.cli import main


def write(tmp_path: Path, text: str, name: str = "llmhub.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[tuple[str, int | None, str]]:
    with pytest.raises(ConfigValidationError) as info:
        load_config(path)
    return [(p.key_path, p.line, p.message) for p in info.value.problems]


# --- issue 12 item 6: a RuntimeConfig built in code ----------------------------------------------


def test_runtime_config_built_in_code_with_undeclared_provider_is_a_validation_error() -> None:
    config = RuntimeConfig.model_validate({"roles": {"a": {"provider": "locl", "model": "m"}}})
    with pytest.raises(ConfigValidationError) as info:
        LLMHub(config=config)
    [problem] = info.value.problems
    assert problem.key_path == "roles.a.provider"
    assert "provider 'locl' is not declared" in problem.message


def test_self_referencing_dict_is_a_problem_not_a_recursion_error() -> None:
    data: dict[str, object] = {"roles": {}}
    data["roles"] = {"a": data}
    with pytest.raises(ConfigValidationError) as info:
        config_from_dict(data)
    assert [(p.key_path, p.message) for p in info.value.problems] == [("roles.a", "the value contains itself")]


# --- issue 12 item 11: every problem at once -------------------------------------------------------

TWO_ROLES = """\
providers:
  local: {kind: openai, api_base: "http://127.0.0.1:8080/v1", env_key: null}
roles:
  a: {provider: openai, model: m, mdoe: chat}
  b: {provider: locl, model: m}
"""


def test_a_typo_in_one_role_does_not_hide_an_undeclared_provider_in_another(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, TWO_ROLES))
    assert [(path, line) for path, line, _ in found] == [("roles.a.mdoe", 4), ("roles.b.provider", 5)]


def test_a_finding_resting_on_a_malformed_part_is_left_out(tmp_path: Path) -> None:
    # `mdoe` means the mode is unknown: no mode check on the role, but its provider is still checked.
    text = "roles:\n  e: {provider: anthropic, model: m, mdoe: embedding, fallbacks: [{role: nope}]}\n"
    found = problems_of(write(tmp_path, text))
    assert [path for path, _, _ in found] == ["roles.e.mdoe", "roles.e.fallbacks[0].role"]


def test_readme_sample_output_is_real(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("**Validation is strict") :]
    yaml_text = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    console = section.split("```console\n", 1)[1].split("```", 1)[0]
    command, *expected = console.splitlines()
    assert command == "$ llmhub check"
    write(tmp_path, yaml_text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLMHUB_CONFIG", raising=False)
    assert main(["check"]) == 1
    assert capsys.readouterr().out.splitlines() == expected


# --- issue 12 item 12 -------------------------------------------------------------------------------


def test_llmhub_env_must_be_known_even_without_envs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path, "env: dev\nroles:\n  a: {provider: openai, model: m}\n", "custom.yaml")
    monkeypatch.setenv("LLMHUB_ENV", "staging")
    with pytest.raises(UnknownEnvError) as info:
        LLMHub(path)
    assert str(info.value) == (
        f"Unknown env 'staging' (from $LLMHUB_ENV). Known envs: 'dev'. Add it under 'envs:' in {path}, "
        "or set LLMHUB_ENV / LLMHub(env=...) to a known one."
    )
    monkeypatch.setenv("LLMHUB_ENV", "dev")
    assert LLMHub(path).env == "dev"


def test_messages_name_the_real_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, "roles:\n  a: {provider: openai, model: m}\n", "team.yaml")
    hub = LLMHub(path, strict=True)
    with pytest.raises(UnknownRoleError, match=f"Add it under 'roles:' in {path}\\."):
        hub.resolve("b")
    path.write_text("roles:\n  a: {provider: openai, model: m}\ndefaults: {provider: openai, model: m, mode: chat}\n")
    with caplog.at_level(logging.WARNING, logger="llmhub_runtime"):
        LLMHub(path).resolve("b")
    assert f"Add the role to {path}," in caplog.text


def test_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    text = "roles:\n  a: {provider: openai, model: m}\n  b: {provider: openai, model: m}\n  a: {provider: openai, model: n}\n"
    assert problems_of(write(tmp_path, text)) == [("roles.a", 4, "duplicate key 'a' (first at line 2); keep one")]


def test_tab_error_hints_at_spaces_and_check_keeps_the_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "roles:\n\tllm.inference: {}\n")
    with pytest.raises(ConfigSyntaxError) as info:
        load_config(path)
    assert (info.value.line, info.value.column) == (2, 1)
    assert "YAML indentation must use spaces, not tabs" in str(info.value)
    assert main(["check", str(path)]) == 1
    assert capsys.readouterr().out.startswith(f"{path}:2:1: invalid YAML: ")


def test_control_character_error_has_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(ConfigSyntaxError) as info:
        load_config(write(tmp_path, "roles:\n  a: {provider: openai, model: 'é\x07'}\n"))
    assert (info.value.line, info.value.column) == (2, 34)  # a character, not a byte, count


# --- issue 12 item 10: param names ------------------------------------------------------------------


def test_param_typo_is_caught_with_a_suggestion() -> None:
    with pytest.raises(ConfigValidationError) as info:
        config_from_dict({"roles": {"a": {"provider": "openai", "model": "m", "params": {"tempreture": 0.2}}}})
    [problem] = info.value.problems
    assert problem.key_path == "roles.a.params.tempreture"
    assert problem.suggestion == "temperature"
    assert "list it in the provider's 'extra_params:'" in problem.message


def test_extra_params_let_provider_specific_names_through() -> None:
    config = config_from_dict(
        {
            "providers": {"anthropic": {"extra_params": ["top_k"]}},
            "roles": {"a": {"provider": "anthropic", "model": "m", "params": {"top_k": 40, "temperature": 0.1}}},
        }
    )
    assert config.roles["a"].params == {"top_k": 40, "temperature": 0.1}


def test_params_of_modes_any_llm_does_not_declare_are_passed() -> None:
    config = config_from_dict(
        {"roles": {"e": {"provider": "openai", "model": "m", "mode": "embedding", "params": {"dimensions": 8}}}}
    )
    assert config.roles["e"].params == {"dimensions": 8}


# --- issue 18 item 10: valid YAML ------------------------------------------------------------------


def test_merge_key_override_and_x_keys(tmp_path: Path) -> None:
    text = "x-base: &b {provider: openai, model: m}\nroles:\n  a:\n    <<: *b\n    model: m2\n"
    config = load_config(write(tmp_path, text))
    assert (config.roles["a"].provider, config.roles["a"].model) == ("openai", "m2")


def test_yaml_11_bool_and_number_keys_stay_strings(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "roles:\n  no: {provider: openai, model: m}\n  1.0: {provider: openai, model: m}\n")
    )
    assert LLMHub(config=config).roles == ("no", "1.0")


# --- issue 18 item 12: references ---------------------------------------------------------------


def test_nested_and_unset_only_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMHUB_T_A", raising=False)
    monkeypatch.setenv("LLMHUB_T_B", "from-b")
    monkeypatch.setenv("LLMHUB_T_EMPTY", "")
    role = {"provider": "openai", "model": "${LLMHUB_T_A:-${LLMHUB_T_B}}", "description": "[${LLMHUB_T_EMPTY-x}] $5 $$"}
    config = config_from_dict({"roles": {"a": role}})
    assert config.roles["a"].model == "from-b"
    assert config.roles["a"].description == "[] $5 $"


# --- issue 18 item 9: fallbacks ------------------------------------------------------------------


def test_a_diamond_tries_each_role_once() -> None:
    roles = {
        "a": {"provider": "openai", "model": "a", "fallbacks": [{"role": "b"}, {"role": "c"}]},
        "b": {"provider": "openai", "model": "b", "fallbacks": [{"role": "d"}]},
        "c": {"provider": "openai", "model": "c", "fallbacks": [{"role": "d"}]},
        "d": {"provider": "openai", "model": "d"},
    }
    hub = LLMHub(config={"roles": roles})
    assert [t.model for t in hub.resolve("a").targets] == ["a", "b", "d", "c"]


# --- issue 18 item 4: `llmhub check` on the corpus ---------------------------------------------------

CORPUS = sorted((Path(__file__).parent / "bad_configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_check_never_prints_unexpected(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(path)]) == 1
    captured = capsys.readouterr()
    assert "unexpected" not in captured.out + captured.err
    assert f"{path}:" in captured.out
