"""llmhub.yaml → RuntimeConfig: every problem named with file, line, key path and a suggestion."""

from pathlib import Path

import pytest

from llmhub_runtime import (
    ConfigNotFoundError,
    ConfigSyntaxError,
    ConfigValidationError,
    LLMHub,
    RuntimeConfig,
    config_from_dict,
    load_config,
)

GOOD = """\
project: memory
env: dev
providers:
  openai:
    env_key: OPENAI_API_KEY
  local:
    kind: openai
    api_base: http://127.0.0.1:8080/v1
    env_key: null
roles:
  llm.inference:
    provider: anthropic
    model: claude-3-5-sonnet-20241022
    mode: chat
    params: {temperature: 0.7, max_tokens: 2048}
  llm.embedding:
    provider: local
    model: text-embedding-3-small
    mode: embedding
defaults:
  provider: openai
  mode: chat
"""


def write(tmp_path: Path, text: str, name: str = "llmhub.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> ConfigValidationError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigValidationError) as info:
        load_config(path)
    return info.value


def test_issue_example_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert isinstance(config, RuntimeConfig)
    assert config.project == "memory"
    assert config.providers["local"].api_base == "http://127.0.0.1:8080/v1"
    assert config.roles["llm.inference"].params == {"temperature": 0.7, "max_tokens": 2048}


def test_unknown_key_has_line_path_and_suggestion(tmp_path: Path) -> None:
    error = problems(tmp_path, GOOD.replace("    mode: embedding", "    mdoe: embedding"))
    [problem] = error.problems
    assert problem.key_path == "roles.llm.embedding.mdoe"
    assert problem.line == 19
    assert problem.suggestion == "mode"
    assert f"{tmp_path / 'llmhub.yaml'}:19: roles.llm.embedding.mdoe: unknown key 'mdoe'" in str(error)
    assert "did you mean 'mode'?" in str(error)


def test_unknown_top_level_key(tmp_path: Path) -> None:
    error = problems(tmp_path, GOOD + "role:\n  x: {}\n")
    assert error.problems[0].key_path == "role"
    assert error.problems[0].suggestion == "roles"


def test_unknown_provider_key(tmp_path: Path) -> None:
    error = problems(tmp_path, GOOD.replace("    env_key: OPENAI_API_KEY", "    envkey: OPENAI_API_KEY"))
    assert error.problems[0].key_path == "providers.openai.envkey"
    assert error.problems[0].suggestion == "env_key"
    assert error.problems[0].line == 5


def test_every_problem_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace("    mode: embedding", "    mode: embeding").replace(
        "openai\n  mode: chat\n", "openai\n  mood: chat\n"
    )
    error = problems(tmp_path, text)
    paths = [p.key_path for p in error.problems]
    assert paths == ["roles.llm.embedding.mode", "defaults.mood"]
    assert error.problems[0].suggestion == "embedding"
    assert error.message.startswith("2 problems in ")


def test_undeclared_provider(tmp_path: Path) -> None:
    error = problems(tmp_path, GOOD.replace("provider: local", "provider: locl"))
    [problem] = error.problems
    assert problem.key_path == "roles.llm.embedding.provider"
    assert problem.line == 17
    assert problem.suggestion == "local"
    assert "provider 'locl' is not declared" in problem.message


def test_unknown_any_llm_kind(tmp_path: Path) -> None:
    error = problems(tmp_path, GOOD.replace("kind: openai", "kind: opnai"))
    [problem] = error.problems
    assert problem.key_path == "providers.local.kind"
    assert problem.line == 7
    assert problem.suggestion == "openai"
    assert "'opnai' is not a provider any-llm knows" in problem.message


def test_provider_name_that_is_no_kind_suggests_kind(tmp_path: Path) -> None:
    error = problems(tmp_path, GOOD.replace("  local:\n    kind: openai\n", "  local:\n"))
    assert error.problems[0].key_path == "providers.local"
    assert "add 'kind:'" in error.problems[0].message


def test_yaml_syntax_error_keeps_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "roles:\n  a: {provider: openai\n  b: 1\n")
    with pytest.raises(ConfigSyntaxError) as info:
        load_config(path)
    assert info.value.line == 3
    assert info.value.column is not None
    assert str(info.value).startswith(f"{path}:3:")


def test_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    error = problems(tmp_path, GOOD + "roles:\n  x: {provider: openai, model: m}\n")
    assert error.problems[0].message == "duplicate key 'roles' (first at line 10); keep one"
    assert error.problems[0].line == 23


@pytest.mark.parametrize(("text", "fragment"), [("", "the config is empty"), ("- a\n- b\n", "not a list")])
def test_empty_file_and_list_root(tmp_path: Path, text: str, fragment: str) -> None:
    error = problems(tmp_path, text)
    assert fragment in error.problems[0].message
    assert error.problems[0].key_path == ""


def test_missing_file_names_path_and_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigNotFoundError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(info.value)
    assert "llmhub init" in str(info.value)


def test_default_path_uses_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, GOOD, "custom.yaml")
    monkeypatch.setenv("LLMHUB_CONFIG", str(path))
    assert LLMHub().roles == ("llm.inference", "llm.embedding")
    monkeypatch.delenv("LLMHUB_CONFIG")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigNotFoundError, match="LLMHUB_CONFIG"):
        LLMHub()


def test_env_interpolation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_BASE", "http://127.0.0.1:9999/v1")
    text = GOOD.replace("http://127.0.0.1:8080/v1", "${LOCAL_BASE}").replace(
        "text-embedding-3-small", "${EMBED_MODEL:-embed-default}"
    )
    config = load_config(write(tmp_path, text))
    assert config.providers["local"].api_base == "http://127.0.0.1:9999/v1"
    assert config.roles["llm.embedding"].model == "embed-default"


def test_unset_variable_is_one_problem_naming_it(tmp_path: Path) -> None:
    error = problems(tmp_path, GOOD.replace("http://127.0.0.1:8080/v1", "${NO_SUCH_VAR_LLMHUB}"))
    [problem] = error.problems
    assert problem.key_path == "providers.local.api_base"
    assert "NO_SUCH_VAR_LLMHUB is not set" in problem.message


def test_wrong_type_names_value(tmp_path: Path) -> None:
    error = problems(tmp_path, GOOD.replace("params: {temperature: 0.7, max_tokens: 2048}", "params: hot"))
    assert error.problems[0].key_path == "roles.llm.inference.params"
    assert "expected a mapping, got str" in error.problems[0].message


def test_dict_config_is_validated_the_same_way() -> None:
    with pytest.raises(ConfigValidationError) as info:
        config_from_dict({"roles": {"r": {"provider": "openai", "model": "m", "temprature": 1}}})
    assert info.value.problems[0].key_path == "roles.r.temprature"
    assert info.value.problems[0].line is None


def test_role_without_model_anywhere() -> None:
    with pytest.raises(ConfigValidationError) as info:
        config_from_dict({"roles": {"r": {"provider": "openai"}}})
    assert info.value.problems[0].key_path == "roles.r.model"
    assert "has no model" in info.value.problems[0].message


def test_unset_variable_in_a_typed_field_is_one_problem(tmp_path: Path) -> None:
    text = GOOD.replace("    mode: embedding", "    mode: embedding\n    timeout: ${NO_SUCH_TIMEOUT_LLMHUB}")
    error = problems(tmp_path, text)
    assert [p.key_path for p in error.problems] == ["roles.llm.embedding.timeout"]
    assert "NO_SUCH_TIMEOUT_LLMHUB is not set" in error.problems[0].message
