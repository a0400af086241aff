"""1.x's call signatures, constructor arguments, error names and version, against llmhub."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import Any

import pytest

import llmhub_runtime
from llmhub_runtime import (
    ConfigError,
    EnvVarMissingError,
    LLMHub,
    LLMHubError,
    LLMHubRuntimeError,
    LLMMode,
    MissingCredentialError,
    ProviderServerError,
    RuntimeConfig,
    UnknownProviderError,
    UsageError,
    config_from_dict,
)
from llmhub_runtime.cli import main
from llmhub_runtime.models import MODES
from llmhub_runtime.resolver import resolve_role
from llmhub_runtime.testing import Fault, StandInServer

HubFactory = Callable[..., LLMHub]


def test_params_override_is_the_third_positional_argument(make_hub: HubFactory, server: StandInServer) -> None:
    hub = make_hub()
    hub.completion("llm.inference", "hi", {"temperature": 0.1})
    assert server.last_request.body["temperature"] == 0.1
    hub.embedding("llm.embedding", "hi", {"dimensions": 8})
    assert (server.last_request.body["input"], server.last_request.body["dimensions"]) == ("hi", 8)


async def test_params_override_positional_async(make_hub: HubFactory, server: StandInServer) -> None:
    hub = make_hub()
    await hub.acompletion("llm.inference", "hi", {"temperature": 0.3})
    assert server.last_request.body["temperature"] == 0.3
    response = await hub.aembedding("llm.embedding", ["a"], {"dimensions": 4})
    assert len(response.data[0].embedding) == 4


def test_config_obj_is_configs_old_name(server: StandInServer) -> None:
    config = config_from_dict(server.chat_config())
    with LLMHub(None, config) as hub:  # 1.x's positional order: config_path, config_obj
        assert hub.config.roles["llm.inference"].model == "standin-chat"
    with pytest.raises(UsageError, match=r"Pass config= or its 1\.x name config_obj=, not both"):
        LLMHub(config_obj=config, config=config)
    with pytest.raises(UsageError, match="Pass either config_path= or config=, not both"):
        LLMHub("llmhub.yaml", config_obj=config)


def test_strict_env_checks_every_key_the_config_needs(server: StandInServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cfg = server.chat_config()
    cfg["roles"]["llm.openai"] = {"provider": "openai", "model": "gpt-4o-mini"}  # implied OPENAI_API_KEY
    with pytest.raises(EnvVarMissingError) as caught:
        LLMHub(config=cfg, strict_env=True)
    assert (caught.value.env_key, caught.value.provider, caught.value.role) == (
        "OPENAI_API_KEY",
        "openai",
        "llm.openai",
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-set")
    hub = LLMHub(config=cfg, strict_env=True)
    assert (hub.strict_env, hub.on_before_call, hub.on_after_call) == (True, None, None)
    hub.close()


def test_excepts_work_both_ways(make_hub: HubFactory, server: StandInServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert LLMHubRuntimeError is LLMHubError
    assert EnvVarMissingError is MissingCredentialError
    assert issubclass(UnknownProviderError, ConfigError)
    cfg = server.chat_config()
    cfg["defaults"] = {"retry": {"max_attempts": 1}}
    server.enqueue("standin-chat", Fault(status=500))
    with pytest.raises(LLMHubRuntimeError) as caught:
        make_hub(cfg).completion("llm.inference", "hi")
    assert type(caught.value) is ProviderServerError
    monkeypatch.delenv("COMPAT_KEY", raising=False)
    cfg["providers"]["standin"]["env_key"] = "COMPAT_KEY"
    with pytest.raises(EnvVarMissingError):  # the call-time error, under its 1.x name
        make_hub(cfg).completion("llm.inference", "hi")
    config = RuntimeConfig(roles={"r": {"provider": "nowhere", "model": "m"}})
    with pytest.raises(ConfigError):
        resolve_role(config, "r")


def test_llmmode_is_a_str_enum_of_every_mode() -> None:
    assert {m.value for m in LLMMode} == set(MODES)
    assert LLMMode.audio == "audio" and f"{LLMMode.chat}" == "chat" and isinstance(LLMMode.tool, str)


def test_the_version_is_above_the_published_one(capsys: pytest.CaptureFixture[str]) -> None:
    installed = importlib.metadata.version("llmhub-runtime")
    assert installed == llmhub_runtime.__version__ == "2.0.0"
    assert tuple(int(part) for part in installed.split(".")) > (1, 0, 3)
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == "llmhub 2.0.0\n"


def test_payload_modes_compare_as_strings(server: StandInServer) -> None:
    seen: list[dict[str, Any]] = []
    with LLMHub(config=server.chat_config(), on_before_call=seen.append) as hub:
        hub.completion("llm.inference", "hi")
    assert seen[0]["mode"] == "chat" and seen[0]["mode"] is LLMMode.chat
