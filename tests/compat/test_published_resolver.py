"""llmhub-runtime 1.0.3's tests/test_resolver.py (5 tests), run against llmhub unchanged but for imports.

1.x built its config in code with these models; llmhub's accept the same arguments (``defaults=None``
included), and ``resolve_role`` returns llmhub's ``ResolvedCall``, which has 1.x's attributes.
"""

from __future__ import annotations

import pytest

from llmhub_runtime.errors import ConfigValidationError, UnknownProviderError, UnknownRoleError
from llmhub_runtime.models import LLMMode, ProviderConfig, RoleConfig, RoleDefaultsConfig, RuntimeConfig
from llmhub_runtime.resolver import resolve_role


@pytest.fixture
def mock_config() -> RuntimeConfig:
    return RuntimeConfig(
        project="test",
        env="dev",
        providers={
            "openai": ProviderConfig(env_key="OPENAI_API_KEY"),
            "anthropic": ProviderConfig(env_key="ANTHROPIC_API_KEY"),
        },
        roles={
            "test_role": RoleConfig(provider="openai", model="gpt-4", mode=LLMMode.chat, params={"temperature": 0.5}),
            "bad_provider_role": RoleConfig(provider="missing_provider", model="gpt-4", mode=LLMMode.chat, params={}),
        },
        defaults=RoleDefaultsConfig(
            provider="openai", model="gpt-3.5-turbo", mode=LLMMode.chat, params={"max_tokens": 100}
        ),
    )


def test_resolve_role_success(mock_config: RuntimeConfig) -> None:
    resolved = resolve_role(mock_config, "test_role")
    assert resolved.role == "test_role"
    assert resolved.provider == "openai"
    assert resolved.model == "gpt-4"
    assert resolved.params["temperature"] == 0.5
    assert resolved.mode == LLMMode.chat == "chat"


def test_resolve_role_override(mock_config: RuntimeConfig) -> None:
    resolved = resolve_role(mock_config, "test_role", params_override={"temperature": 0.9})
    assert resolved.params["temperature"] == 0.9
    assert resolved.primary.param_sources["temperature"] == "params_override"
    assert resolve_role(mock_config, "test_role", {"temperature": None}).params.get("temperature") is None


def test_resolve_role_defaults(mock_config: RuntimeConfig) -> None:
    resolved = resolve_role(mock_config, "non_existent_role")
    assert resolved.role == "non_existent_role"
    assert resolved.provider == "openai"  # From defaults
    assert resolved.model == "gpt-3.5-turbo"
    assert resolved.from_defaults


def test_resolve_role_unknown_no_defaults() -> None:
    config = RuntimeConfig(project="test", env="dev", providers={}, roles={}, defaults=None)
    with pytest.raises(UnknownRoleError, match="Unknown role 'missing_role'"):
        resolve_role(config, "missing_role")


def test_resolve_role_unknown_provider(mock_config: RuntimeConfig) -> None:
    with pytest.raises(UnknownProviderError) as excinfo:
        resolve_role(mock_config, "bad_provider_role")
    assert isinstance(excinfo.value, ConfigValidationError)
    [problem] = excinfo.value.problems
    assert problem.key_path == "roles.bad_provider_role.provider"
    assert "provider 'missing_provider' is not declared under 'providers:' (declared: anthropic, openai)" in (
        problem.message
    )
