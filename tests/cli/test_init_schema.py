"""``llmhub init`` (starter configs, never overwriting by accident) and ``llmhub schema``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from llmhub_runtime import load_config
from llmhub_runtime.cli._schema import SHIPPED_SCHEMA, config_schema, schema_text
from llmhub_runtime.models import RuntimeConfig

from .conftest import SECRET, Result

SCHEMA_LINE = f"# yaml-language-server: $schema={SHIPPED_SCHEMA.as_uri()}"


def test_init_writes_a_valid_config_for_the_keys_set(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    result = run("init")
    assert result.code == 0
    written = tmp_path / "llmhub.yaml"
    text = written.read_text(encoding="utf-8")
    assert text.splitlines()[0] == SCHEMA_LINE
    assert SECRET not in text
    config = load_config(written)
    inference, embedding = config.roles["llm.inference"], config.roles["llm.embedding"]
    assert (inference.provider, inference.model, inference.mode) == ("openai", "gpt-4o-mini", "chat")
    assert [(f.provider, f.model) for f in inference.fallbacks] == [("anthropic", "claude-3-5-haiku-latest")]
    assert (embedding.provider, embedding.model, embedding.mode) == ("openai", "text-embedding-3-small", "embedding")
    assert config.providers["openai"].env_key == "OPENAI_API_KEY"
    assert result.out.splitlines()[0] == (
        "Wrote llmhub.yaml: llm.inference (openai/gpt-4o-mini), llm.embedding (openai/text-embedding-3-small)"
    )
    assert run("check").code == 0


def test_init_without_an_embedding_provider_uses_the_local_model(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    result = run("init", "conf/dev.yaml")
    assert result.code == 0
    config = load_config(tmp_path / "conf" / "dev.yaml")
    assert config.roles["llm.inference"].provider == "anthropic"
    assert config.roles["llm.embedding"].provider == "local"
    assert config.providers["local"].kind == "llamacpp"
    assert "llmhub serve-local" in result.out


def test_init_local(run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMHUB_LOCAL_BASE", "http://127.0.0.1:9999/v1")
    result = run("init", "--local")
    assert result.code == 0
    text = (tmp_path / "llmhub.yaml").read_text(encoding="utf-8")
    assert text.startswith(SCHEMA_LINE + "\n")
    assert "api_base: ${LLMHUB_LOCAL_BASE:-http://127.0.0.1:8484/v1}" in text  # where serve-local serves
    config = load_config(tmp_path / "llmhub.yaml")
    assert config.providers["local"].api_base == "http://127.0.0.1:9999/v1"
    assert config.providers["local"].env_key is None
    assert {name: role.mode for name, role in config.roles.items()} == {
        "llm.inference": "chat",
        "llm.embedding": "embedding",
    }
    assert config.roles["llm.embedding"].params == {}


def test_init_without_any_key_explains_the_choices(run: Callable[..., Result], tmp_path: Path) -> None:
    result = run("init")
    assert result.code == 1
    assert result.err.startswith("llmhub: error: no provider API key in the environment (looked for OPENAI_API_KEY,")
    assert "llmhub init --local" in result.err
    assert not (tmp_path / "llmhub.yaml").exists()


def test_init_refuses_to_overwrite_without_force(run: Callable[..., Result], tmp_path: Path) -> None:
    existing = tmp_path / "llmhub.yaml"
    existing.write_text("# mine\n", encoding="utf-8")
    result = run("init", "--local")
    assert result.code == 1
    assert result.err == "llmhub: error: llmhub.yaml already exists; pass --force to overwrite it\n"
    assert existing.read_text(encoding="utf-8") == "# mine\n"
    forced = run("init", "--local", "--force")
    assert forced.code == 0
    assert existing.read_text(encoding="utf-8").startswith(SCHEMA_LINE)


def test_schema_prints_the_generated_json_schema(run: Callable[..., Result]) -> None:
    result = run("schema")
    assert result.code == 0
    schema = json.loads(result.out)
    assert schema == config_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "llmhub.yaml"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(RuntimeConfig.model_fields)


def test_the_shipped_schema_file_is_up_to_date() -> None:
    assert SHIPPED_SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        "llmhub_runtime/schema/llmhub.schema.json is stale; regenerate it with: "
        "python -m llmhub_runtime.cli schema > llmhub_runtime/schema/llmhub.schema.json"
    )


def test_init_warns_when_a_chosen_provider_has_no_sdk_installed(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "anthropic", None)  # as if the anthropic SDK were not installed
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    result = run("init")
    assert result.code == 0
    assert (
        "warning: provider 'anthropic' needs anthropic, not installed here (used by llm.inference); "
        "calls will fail until you run: pip install 'any-llm-sdk[anthropic]'"
    ) in result.out.splitlines()
