"""Per-role usage and cost, and per-environment bindings, over HTTP through any-llm."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from llmhub_runtime import AuthenticationError, ConfigValidationError, LLMHub, UnknownEnvError, config_from_dict
from llmhub_runtime.testing import Fault, Reply, StandInServer

from .conftest import Recorder  # type: ignore[import-not-found]

HubFactory = Callable[..., LLMHub]
HI = [{"role": "user", "content": "hello there"}]


def priced(server: StandInServer) -> dict[str, Any]:
    cfg = server.chat_config()
    cfg["roles"]["llm.inference"]["pricing"] = {"input": 2.0, "output": 10.0}
    return cfg


def test_usage_per_role_and_target_sync_async_stream(make_hub: HubFactory, server: StandInServer) -> None:
    hub = make_hub(priced(server))
    server.enqueue("standin-chat", Reply(text="a b c", usage=(1000, 200)))
    hub.completion("llm.inference", HI)
    server.enqueue("standin-chat", Reply(text="x y", usage=(500, 100)))
    asyncio.run(hub.acompletion("llm.inference", HI))
    server.enqueue("standin-chat", Reply(text="s t", usage=(10, 2)))
    list(hub.completion("llm.inference", HI, stream=True))
    server.enqueue("standin-chat", Fault(status=401))
    with pytest.raises(AuthenticationError):
        hub.completion("llm.inference", HI)
    hub.embedding("llm.embedding", ["a b", "c"])
    report = hub.usage()
    role = report.roles["llm.inference"]
    assert (role.calls, role.errors, role.input_tokens, role.output_tokens) == (3, 1, 1510, 302)
    assert role.cost == pytest.approx((1510 * 2.0 + 302 * 10.0) / 1e6)
    assert role.latency_p50 is not None and role.latency_p95 is not None
    assert report.targets["standin/standin-chat"].calls == 3
    embed = report.roles["llm.embedding"]
    assert embed.calls == 1 and embed.input_tokens == 3
    assert embed.cost is None  # no price: unknown, never zero
    hub.reset_usage()
    assert hub.usage().roles == {}


def test_cost_reaches_hooks(make_hub: HubFactory, server: StandInServer, recorder: Recorder) -> None:
    server.enqueue("standin-chat", Reply(text="a", usage=(1_000_000, 0)))
    make_hub(priced(server), hooks=[recorder]).completion("llm.inference", HI)
    end = recorder.events[-1]
    assert end.kind == "end" and end.cost == 2.0
    assert end.call_id == recorder.events[0].call_id


def test_provider_model_pricing_applies_to_fallbacks(make_hub: HubFactory, server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["providers"]["standin"]["pricing"] = {"backup": {"input": 1.0, "output": 1.0}}
    cfg["roles"]["llm.inference"]["fallbacks"] = [{"provider": "standin", "model": "backup"}]
    server.enqueue("standin-chat", Fault(status=401))
    server.enqueue("backup", Reply(text="ok", usage=(1_000_000, 1_000_000)))
    hub = make_hub(cfg)
    hub.completion("llm.inference", HI)
    assert hub.usage().targets["standin/backup"].cost == 2.0
    assert hub.usage().targets["standin/standin-chat"].errors == 1


def envs_config(server: StandInServer) -> dict[str, Any]:
    cfg = server.chat_config()
    cfg["env"] = "dev"
    cfg["roles"]["llm.inference"]["params"] = {"temperature": 0.5, "top_p": 0.9}
    cfg["envs"] = {
        "prod": {"roles": {"llm.inference": {"model": "prod-model", "params": {"temperature": 0.1}}}},
        "staging": {"defaults": {"params": {"seed": 3}}},
    }
    return cfg


def test_env_overlay_binds_roles(make_hub: HubFactory, server: StandInServer) -> None:
    cfg = envs_config(server)
    base = make_hub(cfg)
    assert base.env == "dev" and base.resolve("llm.inference").model == "standin-chat"
    prod = make_hub(cfg, env="prod")
    call = prod.resolve("llm.inference")
    assert (call.env, call.model, dict(call.params)) == ("prod", "prod-model", {"temperature": 0.1, "top_p": 0.9})
    assert call.primary.param_sources == {"temperature": "env:prod", "top_p": "role"}
    prod.completion("llm.inference", HI)
    assert server.last_request is not None and server.last_request.body["model"] == "prod-model"


def test_llmhub_env_variable_and_precedence(
    make_hub: HubFactory, server: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = envs_config(server)
    monkeypatch.setenv("LLMHUB_ENV", "staging")
    hub = make_hub(cfg)
    assert hub.env == "staging"
    assert hub.resolve("llm.inference").primary.param_sources["seed"] == "env:staging"
    assert make_hub(cfg, env="prod").env == "prod"


def test_unknown_env_lists_known(server: StandInServer) -> None:
    with pytest.raises(UnknownEnvError) as info:
        LLMHub(config=envs_config(server), env="prdo")
    assert "Unknown env 'prdo' (from env=). Known envs: 'dev', 'prod', 'staging'" in str(info.value)


def test_env_overlay_is_validated() -> None:
    with pytest.raises(ConfigValidationError) as info:
        config_from_dict(
            {
                "roles": {"r": {"provider": "openai", "model": "m"}},
                "envs": {"prod": {"roles": {"r": {"provider": "opnai"}}, "rols": {}}},
            }
        )
    paths = [p.key_path for p in info.value.problems]
    assert paths == ["envs.prod.rols"]
    with pytest.raises(ConfigValidationError) as info:
        config_from_dict(
            {
                "roles": {"r": {"provider": "openai", "model": "m"}},
                "envs": {"prod": {"roles": {"r": {"provider": "opnai"}}}},
            }
        )
    problem = info.value.problems[0]
    assert problem.key_path == "envs.prod.roles.r.provider"
    assert problem.suggestion == "openai"
