"""``limits:``, ``cooldown:``, ``weight:`` and ``traffic:`` are validated at load like every other key."""

from __future__ import annotations

from typing import Any

import pytest

from llmhub_runtime import LLMHub
from llmhub_runtime.errors import ConfigValidationError
from llmhub_runtime.traffic import TrafficConfig


def base(role: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "providers": {"p": {"kind": "openai", "api_base": "http://127.0.0.1:9/v1", "env_key": None}},
        "roles": {"chat": {"provider": "p", "model": "m", **(role or {})}},
    }
    config.update(top)
    return config


def problems(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigValidationError) as caught:
        LLMHub(config=config)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            {"limits": {}},
            "roles.chat.limits: limits need at least one of rps, rpm, rpd, requests, tpm, max_concurrent, budget",
        ),
        ({"limits": {"rpm": 0}}, "roles.chat.limits.rpm"),
        ({"limits": {"rmp": 5}}, "roles.chat.limits.rmp: unknown key 'rmp'"),
        ({"limits": {"rpm": 5, "policy": "later"}}, "roles.chat.limits.policy"),
        (
            {"limits": {"budget": {"amount": 5}}},
            "roles.chat.limits.budget: a budget needs prices: target p/m has no pricing",
        ),
        ({"limits": {"rpm": 5, "per": "model"}}, "roles.chat.limits.per: 'per' is only for a provider entry's limits"),
        ({"cooldown": {"failures": 0}}, "roles.chat.cooldown.failures"),
        ({"weight": -1}, "roles.chat.weight"),
        ({"fallbacks": [{"role": "chat2", "weight": 2}]}, "set limits, cooldown and weight on role 'chat2' itself"),
    ],
)
def test_bad_traffic_keys_are_config_problems(role: dict[str, Any], expected: str) -> None:
    config = base(role)
    config["roles"]["chat2"] = {"provider": "p", "model": "m2"}
    assert any(expected in text for text in problems(config)), problems(config)


def test_a_provider_budget_needs_prices_for_each_model_it_serves() -> None:
    config = base()
    config["providers"]["p"]["limits"] = {"budget": {"amount": 10, "period": "month"}}
    config["providers"]["p"]["pricing"] = {"other": {"input": 1}}
    assert any("providers.p.limits.budget: a budget needs prices: target p/m" in t for t in problems(config))
    config["providers"]["p"]["pricing"] = {"m": {"input": 1}}
    assert LLMHub(config=config).traffic is not None


def test_the_state_must_be_memory_or_redis_and_its_password_is_masked() -> None:
    found = problems(base(traffic={"state": "memcached://user:hunter2@host"}))
    assert any("traffic.state" in t and "memcached" in t for t in found)
    assert not any("hunter2" in t for t in found)
    assert "hunter2" not in repr(TrafficConfig(state="redis://:hunter2@host:6379/0"))
    assert "hunter2" not in str(TrafficConfig(state="redis://:hunter2@host:6379/0"))


def test_envs_can_switch_the_state() -> None:
    config = base(
        {"limits": {"rpm": 5}}, envs={"prod": {"traffic": {"state": "redis://127.0.0.1:9/0", "fail": "closed"}}}
    )
    assert LLMHub(config=config).config.traffic is None
    prod = LLMHub(config=config, env="prod")
    assert prod.config.traffic is not None and prod.config.traffic.fail == "closed"
    assert repr(prod.traffic) == "<TrafficController state='redis://127.0.0.1:9/0'>"
