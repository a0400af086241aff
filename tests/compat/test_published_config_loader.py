"""llmhub-runtime 1.0.3's tests/test_config_loader.py (3 tests), run against llmhub.

Unchanged but for: ``{"project": "test"}`` is a valid (empty) llmhub config — project, env and providers
are optional and bare any-llm provider ids need no entry — so the invalid-data test leaves out what llmhub
does require (a role's model); messages are llmhub's (file, key path, fix), so they are asserted instead
of 1.x's "Failed to load config" / "Invalid runtime configuration" prefixes.
"""

from __future__ import annotations

import pytest

from llmhub_runtime.config_loader import load_runtime_config, parse_runtime_config
from llmhub_runtime.errors import ConfigError, ConfigNotFoundError, ConfigValidationError

from .conftest import FIXTURE_PATH  # type: ignore[import-not-found]


def test_load_runtime_config_success() -> None:
    config = load_runtime_config(FIXTURE_PATH)
    assert config.project == "memory"
    assert config.env == "dev"
    assert "openai" in config.providers
    assert config.roles["llm.inference"].model == "gpt-4"


def test_load_runtime_config_file_not_found() -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_runtime_config("non_existent_file.yaml")
    assert type(excinfo.value) is ConfigNotFoundError
    assert "No llmhub config at 'non_existent_file.yaml'" in str(excinfo.value)


def test_parse_runtime_config_invalid_data() -> None:
    invalid_data = {"project": "test", "roles": {"llm.inference": {"provider": "openai"}}}  # no model
    with pytest.raises(ConfigError) as excinfo:
        parse_runtime_config(invalid_data)
    assert type(excinfo.value) is ConfigValidationError
    [problem] = excinfo.value.problems
    assert (problem.key_path, problem.message) == (
        "roles.llm.inference.model",
        "role 'llm.inference' has no model; set it on the role or under 'defaults:'",
    )
