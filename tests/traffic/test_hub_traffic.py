"""Traffic control through the hub, over real HTTP to the stand-in server, on the in-process store.

The clock is the hub's ``FakeTimer``: waits are recorded, never slept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from llmhub_runtime import LLMHub
from llmhub_runtime.errors import AllTargetsFailedError, RateLimitError
from llmhub_runtime.testing import Fault, Reply, StandInServer
from llmhub_runtime.testing.timer import FakeTimer
from llmhub_runtime.traffic import TargetCoolingDownError, TrafficLimitError, split_key

HubFactory = Callable[..., LLMHub]
HI = [{"role": "user", "content": "hi"}]


def config(server: StandInServer, role: dict[str, Any], **top: Any) -> dict[str, Any]:
    base = server.chat_config(model="model-a")
    base["roles"]["llm.inference"].update({"retry": {"max_attempts": 1}, **role})  # each failure visible
    base.update(top)
    return base


def models(server: StandInServer) -> list[str | None]:
    return [request.model for request in server.requests]


def test_no_traffic_keys_means_no_controller(make_hub: HubFactory) -> None:
    assert make_hub().traffic is None


def test_a_call_over_the_rpm_waits_for_room(make_hub: HubFactory, server: StandInServer, timer: FakeTimer) -> None:
    hub = make_hub(config(server, {"limits": {"rpm": 2}, "timeout": 120}))
    for _ in range(3):
        hub.completion("llm.inference", HI)
    assert timer.sleeps == [pytest.approx(60.0)]
    assert len(server.requests) == 3
    assert hub.traffic is not None and hub.traffic.metrics["waits"] == 1


async def test_async_calls_wait_too(make_hub: HubFactory, server: StandInServer, timer: FakeTimer) -> None:
    hub = make_hub(config(server, {"limits": {"rpm": 1}, "timeout": 120}))
    await hub.acompletion("llm.inference", HI)
    await hub.acompletion("llm.inference", HI)
    assert timer.sleeps == [pytest.approx(60.0)]
    assert len(server.requests) == 2


def test_a_wait_longer_than_the_timeout_raises_before_sending(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer
) -> None:
    hub = make_hub(config(server, {"limits": {"rpm": 1}, "timeout": 5}))
    hub.completion("llm.inference", HI)
    with pytest.raises(TrafficLimitError) as caught:
        hub.completion("llm.inference", HI)
    error = caught.value
    assert error.scope == "role:llm.inference" and error.limit == "rpm" and error.retry_after == pytest.approx(60)
    assert "limit rpm=1 of roles.llm.inference.limits" in str(error) and "nothing was sent" in str(error)
    assert (error.role, error.provider, error.model) == ("llm.inference", "standin", "model-a")
    assert timer.sleeps == [] and len(server.requests) == 1


def test_policy_next_moves_to_the_next_target(make_hub: HubFactory, server: StandInServer) -> None:
    role = {"limits": {"rpm": 1, "policy": "next"}, "fallbacks": [{"provider": "standin", "model": "model-b"}]}
    hub = make_hub(config(server, role))
    hub.completion("llm.inference", HI)
    answer = hub.completion("llm.inference", HI)
    assert answer.model == "model-b"
    assert models(server) == ["model-a", "model-b"]
    assert set(hub.usage().targets) == {"standin/model-a", "standin/model-b"}


def test_concurrent_requests_cannot_bypass_tpm(make_hub: HubFactory, server: StandInServer) -> None:
    """LiteLLM #18730: concurrent requests all pass a check made before any of them records usage.

    Here each reserves its estimate (prompt + max_tokens) before it is sent: 8 concurrent calls of
    ~28 tokens against tpm 100 -> exactly 3 reach the server, however they interleave.
    """
    hub = make_hub(config(server, {"limits": {"tpm": 100, "policy": "next"}, "params": {"max_tokens": 20}}))
    server.script("model-a", lambda request: Fault(delay=0.2))  # all in flight at once
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def call() -> None:
        start.wait()
        try:
            hub.completion("llm.inference", [{"role": "user", "content": "hello there"}])
            outcomes.append("ok")
        except TrafficLimitError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(outcomes) == ["TrafficLimitError"] * 5 + ["ok"] * 3
    assert len(server.requests) == 3


def test_reservations_settle_to_the_real_usage(make_hub: HubFactory, server: StandInServer) -> None:
    hub = make_hub(config(server, {"limits": {"tpm": 1000}, "params": {"max_tokens": 500}}))
    server.enqueue("model-a", Reply(text="four words right here", usage=(7, 4)))
    hub.completion("llm.inference", HI)
    assert hub.traffic is not None
    status = hub.traffic.status(hub.resolve("llm.inference").primary)
    assert status["limits"] == [
        {"scope": "role:llm.inference", "limit": "tpm", "max": 1000, "used": 11.0, "policy": "wait",
         "where": "roles.llm.inference.limits"}
    ]  # fmt: skip


def test_streams_hold_their_slot_until_they_end(make_hub: HubFactory, server: StandInServer) -> None:
    role = {"limits": {"max_concurrent": 1, "tpm": 1000, "policy": "next"}, "params": {"max_tokens": 100}}
    hub = make_hub(config(server, role))
    stream = hub.completion("llm.inference", HI, stream=True)
    with pytest.raises(TrafficLimitError, match="max_concurrent=1"):
        hub.completion("llm.inference", HI)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Stand-in reply to: hi"
    hub.completion("llm.inference", HI)
    assert hub.traffic is not None
    limits = hub.traffic.status(hub.resolve("llm.inference").primary)["limits"]
    assert [(row["limit"], row["used"]) for row in limits] == [
        ("tpm", 10.0),
        ("max_concurrent", 0),
    ]  # 2 x 5 tokens, not 2 x 105


def test_a_budget_stops_spending_at_its_cap(make_hub: HubFactory, server: StandInServer) -> None:
    # 1/16 per token, exact in binary: "hi" is estimated at 5 tokens + max_tokens 5 = 10 tokens = 0.625
    role = {"pricing": {"input": 62500, "output": 62500}, "params": {"max_tokens": 5},
            "limits": {"budget": {"amount": 1.875, "period": "month"}}}  # fmt: skip
    hub = make_hub(config(server, role))
    server.script("model-a", lambda request: Reply(text="a b c d e", usage=(5, 5)))
    for _ in range(3):
        hub.completion("llm.inference", HI)
    with pytest.raises(TrafficLimitError, match=r"budget/month=1.875 per month"):
        hub.completion("llm.inference", HI)
    assert len(server.requests) == 3
    assert hub.usage().roles["llm.inference"].cost == pytest.approx(1.875)


def test_a_retry_after_cools_the_target_for_every_call(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer
) -> None:
    role = {"cooldown": {"failures": 3, "seconds": 30}, "fallbacks": [{"provider": "standin", "model": "model-b"}]}
    hub = make_hub(config(server, role))
    server.enqueue("model-a", Fault(status=429, headers={"Retry-After": "7"}))
    assert hub.completion("llm.inference", HI).model == "model-b"
    assert hub.completion("llm.inference", HI).model == "model-b"  # skipped without a request
    timer.clock += 7
    assert hub.completion("llm.inference", HI).model == "model-a"
    assert models(server) == ["model-a", "model-b", "model-b", "model-a"]


def test_repeated_failures_trip_the_breaker_and_one_probe_closes_it(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer
) -> None:
    role = {"cooldown": {"failures": 2, "seconds": 30}, "fallbacks": [{"provider": "standin", "model": "model-b"}]}
    hub = make_hub(config(server, role))
    server.enqueue("model-a", Fault(status=503), Fault(status=503))
    for _ in range(3):
        assert hub.completion("llm.inference", HI).model == "model-b"
    assert models(server) == ["model-a", "model-b", "model-a", "model-b", "model-b"]
    timer.clock += 30
    assert hub.completion("llm.inference", HI).model == "model-a"  # the probe succeeds: closed again
    assert hub.completion("llm.inference", HI).model == "model-a"


def test_a_cooling_target_without_fallbacks_raises_typed(make_hub: HubFactory, server: StandInServer) -> None:
    hub = make_hub(config(server, {"cooldown": {"failures": 1, "seconds": 30}}))
    server.enqueue("model-a", Fault(status=500))
    with pytest.raises(Exception) as first:
        hub.completion("llm.inference", HI)
    assert not isinstance(first.value, TrafficLimitError)
    with pytest.raises(TargetCoolingDownError, match="standin/model-a is cooling down") as caught:
        hub.completion("llm.inference", HI)
    assert caught.value.retry_after == pytest.approx(30)
    assert len(server.requests) == 1


def test_weighted_splits_are_sticky_by_key(make_hub: HubFactory, server: StandInServer) -> None:
    role = {"weight": 3, "fallbacks": [{"provider": "standin", "model": "model-b", "weight": 1}]}
    hub = make_hub(config(server, role))
    assert hub.traffic is not None
    call = hub.resolve("llm.inference")
    firsts = []
    for n in range(400):
        with split_key(f"tenant-{n}"):
            first = hub.traffic.route(call).primary.model
            assert hub.traffic.route(call).primary.model == first  # sticky
            firsts.append(first)
    assert 0.68 < firsts.count("model-a") / 400 < 0.82
    with split_key("tenant-1"):
        answer = hub.completion("llm.inference", HI)
    assert answer.model == firsts[1]
    assert [t.model for t in hub.traffic.route(call).targets] in (["model-a", "model-b"], ["model-b", "model-a"])


def test_provider_limits_are_shared_by_every_role_on_the_entry(make_hub: HubFactory, server: StandInServer) -> None:
    base = server.chat_config(model="model-a")
    base["defaults"] = {"retry": {"max_attempts": 1}}
    base["providers"]["standin"]["limits"] = {"rpm": 2, "policy": "next"}
    base["roles"]["other"] = {"provider": "standin", "model": "model-c"}
    hub = make_hub(base)
    hub.completion("llm.inference", HI)
    hub.completion("other", HI)
    with pytest.raises(TrafficLimitError, match=r"providers.standin.limits \(scope provider:standin\)"):
        hub.completion("other", HI)
    assert len(server.requests) == 2


def test_every_target_limited_gives_all_targets_failed(make_hub: HubFactory, server: StandInServer) -> None:
    role = {"limits": {"rpm": 1, "policy": "next"},
            "fallbacks": [{"provider": "standin", "model": "model-b", "limits": {"rpm": 1, "policy": "next"}}]}  # fmt: skip
    hub = make_hub(config(server, role))
    hub.completion("llm.inference", HI)
    hub.completion("llm.inference", HI)
    with pytest.raises(AllTargetsFailedError) as caught:
        hub.completion("llm.inference", HI)
    assert [type(f.error).__name__ for f in caught.value.failures] == ["TrafficLimitError", "TrafficLimitError"]
    assert "role:llm.inference:fallback:0" in str(caught.value.failures[1].error)
    assert len(server.requests) == 2


def test_provider_429s_still_reach_the_planner(make_hub: HubFactory, server: StandInServer) -> None:
    hub = make_hub(config(server, {"limits": {"rpm": 10}}))
    server.enqueue("model-a", Fault(status=429))
    with pytest.raises(RateLimitError):
        hub.completion("llm.inference", HI)
    hub.completion("llm.inference", HI)
    assert len(server.requests) == 2


def test_embeddings_reserve_their_input(make_hub: HubFactory, server: StandInServer) -> None:
    base = server.chat_config(model="model-a")
    base["roles"]["llm.embedding"]["limits"] = {"tpm": 20, "policy": "next"}
    hub = make_hub(base)
    with pytest.raises(TrafficLimitError, match="this call alone needs more than the limit allows"):
        hub.embedding("llm.embedding", ["x" * 30, "y" * 30])  # 2 x (10 + 4) estimated > 20
    hub.embedding("llm.embedding", "short")
    assert len(server.requests) == 1
