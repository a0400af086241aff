"""An app written against llmhub-runtime 1.0.x's whole public API runs unchanged (over HTTP to the stand-in)."""

from __future__ import annotations

from typing import Any

import pytest

from llmhub_runtime.testing import StandInServer

from .conftest import FIXTURE_PATH  # type: ignore[import-not-found]


def test_a_1x_app_runs_unchanged(published_env: StandInServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # every import a 1.x app could make
    from llmhub_runtime import EnvVarMissingError, LLMHub, RuntimeConfig
    from llmhub_runtime.config_loader import load_runtime_config, parse_runtime_config
    from llmhub_runtime.errors import (
        ConfigError,
        LLMHubRuntimeError,
        UnknownProviderError,
        UnknownRoleError,
    )
    from llmhub_runtime.hub import CallContext, CallResult
    from llmhub_runtime.models import LLMMode, ProviderConfig, ResolvedCall, RoleConfig, RoleDefaultsConfig
    from llmhub_runtime.resolver import resolve_role

    log: list[tuple[str, Any]] = []

    def before(ctx: CallContext) -> None:
        log.append(("before", (ctx["role"], ctx["provider"], ctx["model"], ctx["mode"], ctx["params"])))

    def after(result: CallResult) -> None:
        log.append(("after", (result["role"], result["success"], type(result["error"]).__name__)))

    config: RuntimeConfig = load_runtime_config(FIXTURE_PATH)
    hub = LLMHub(config_obj=config, strict_env=True, on_before_call=before, on_after_call=after)
    reply = hub.completion("llm.preprocess", [{"role": "user", "content": "hi"}], {"temperature": 0.0})
    vectors = hub.embedding("llm.embedding", ["one", "two"])
    fallback = hub.completion(role="llm.anything", messages=[{"role": "user", "content": "x"}])  # from defaults

    assert reply.choices[0].message.content == "Stand-in reply to: hi"
    assert len(vectors.data) == 2 and fallback.model == "gpt-4o-mini"
    assert log[0] == ("before", ("llm.preprocess", "openai", "gpt-4o-mini", LLMMode.chat,
                                 {"temperature": 0.0, "max_tokens": 512}))  # fmt: skip
    assert [entry[0] for entry in log] == ["before", "after"] * 3

    resolved: ResolvedCall = resolve_role(config, "llm.memwrite", {"max_tokens": 10})
    assert (resolved.provider, resolved.model, resolved.mode, resolved.params["max_tokens"]) == (
        "anthropic", "claude-3-5-sonnet-20241022", LLMMode.chat, 10
    )  # fmt: skip

    built = RuntimeConfig(
        project="p", env="dev", providers={"openai": ProviderConfig(env_key="OPENAI_API_KEY")},
        roles={"r": RoleConfig(provider="nope", model="m", mode=LLMMode.chat)},
        defaults=RoleDefaultsConfig(provider="openai", model="gpt-4o-mini", mode=LLMMode.chat),
    )  # fmt: skip
    with pytest.raises(LLMHubRuntimeError) as caught:
        resolve_role(built, "r")
    assert type(caught.value) is UnknownProviderError
    assert resolve_role(built, "missing").model == "gpt-4o-mini"  # unknown roles use defaults, as in 1.x
    with pytest.raises(UnknownRoleError):
        resolve_role(RuntimeConfig(project="p", env="dev", providers={}, roles={}, defaults=None), "missing")
    with pytest.raises(ConfigError):
        parse_runtime_config({"project": "p", "env": "dev", "providers": {}, "roles": {"r": {"provider": "openai"}}})

    monkeypatch.delenv("MISTRAL_API_KEY")
    with pytest.raises(EnvVarMissingError, match="MISTRAL_API_KEY"):
        LLMHub(config_path=FIXTURE_PATH, strict_env=True)
    assert len(published_env.requests) == 3
