"""Retries, Retry-After, timeouts, fallbacks and the streaming failure policy, via fault injection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from llmhub_runtime import (
    AllTargetsFailedError,
    BadRequestError,
    ConfigValidationError,
    LLMHub,
    ProviderConnectionError,
    ProviderServerError,
    ProviderTimeoutError,
    RateLimitError,
    StreamInterruptedError,
    config_from_dict,
)
from llmhub_runtime.testing import StandInServer, unused_port
from llmhub_runtime.testing.replies import Fault
from llmhub_runtime.testing.timer import FakeTimer

from .conftest import Recorder, both_transports  # type: ignore[import-not-found]

pytestmark = both_transports

HubFactory = Callable[..., LLMHub]
HI = [{"role": "user", "content": "hello there"}]
PRIMARY = "primary-model"
BACKUP = "backup-model"


def reliable(
    server: StandInServer,
    *,
    attempts: int = 3,
    fallbacks: list[dict[str, Any]] | None = None,
    timeout: float | None = None,
    **retry: Any,
) -> dict[str, Any]:
    cfg = server.chat_config()
    role: dict[str, Any] = {
        "provider": "standin",
        "model": PRIMARY,
        "retry": {"max_attempts": attempts, "backoff": 0.5, **retry},
        "fallbacks": fallbacks or [],
    }
    if timeout:
        role["timeout"] = timeout
    cfg["roles"]["llm.inference"] = role
    cfg["roles"]["llm.backup"] = {"provider": "standin", "model": BACKUP, "params": {"temperature": 0.2}}
    return cfg


def test_429_with_retry_after_waits_what_was_asked(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer, recorder: Recorder
) -> None:
    server.enqueue(PRIMARY, Fault(status=429, headers={"Retry-After": "2"}))
    response = make_hub(reliable(server), hooks=[recorder]).completion("llm.inference", HI)
    assert response.model == PRIMARY
    assert timer.sleeps == [2.0]
    assert recorder.kinds() == ["start", "error", "start", "end"]
    error = recorder.events[1]
    assert (error.attempt, error.error_type, error.wait, error.final) == (1, "RateLimitError", 2.0, False)
    assert recorder.events[3].attempt == 2


def test_429_without_retry_after_backs_off_exponentially(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer
) -> None:
    server.enqueue(PRIMARY, Fault(status=429), Fault(status=429))
    make_hub(reliable(server)).completion("llm.inference", HI)
    assert timer.sleeps == [0.5, 1.0]


def test_jitter_scales_backoff(make_hub: HubFactory, server: StandInServer) -> None:
    timer = FakeTimer(jitter=0.5)
    server.enqueue(PRIMARY, Fault(status=503))
    make_hub(reliable(server), timer=timer).completion("llm.inference", HI)
    assert timer.sleeps == [0.25]


def test_backoff_is_capped(make_hub: HubFactory, server: StandInServer, timer: FakeTimer) -> None:
    server.enqueue(PRIMARY, *[Fault(status=500)] * 4)
    make_hub(reliable(server, attempts=5, max_backoff=1.5)).completion("llm.inference", HI)
    assert timer.sleeps == [0.5, 1.0, 1.5, 1.5]


def test_retry_after_beyond_cap_moves_to_next_target(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer
) -> None:
    server.enqueue(PRIMARY, Fault(status=429, headers={"Retry-After": "120"}))
    cfg = reliable(server, max_retry_after=30, fallbacks=[{"role": "llm.backup"}])
    response = make_hub(cfg).completion("llm.inference", HI)
    assert response.model == BACKUP
    assert timer.sleeps == []
    assert server.last_request is not None and server.last_request.body["temperature"] == 0.2


def test_5xx_then_success(make_hub: HubFactory, server: StandInServer, timer: FakeTimer) -> None:
    server.enqueue(PRIMARY, Fault(status=500), Fault(status=503))
    response = make_hub(reliable(server)).completion("llm.inference", HI)
    assert response.choices[0].message.content == "Stand-in reply to: hello there"
    assert len([r for r in server.requests if r.model == PRIMARY]) == 3


def test_exhausted_single_target_raises_last_error_with_attempts(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer
) -> None:
    server.enqueue(PRIMARY, *[Fault(status=503)] * 3)
    with pytest.raises(ProviderServerError) as info:
        make_hub(reliable(server)).completion("llm.inference", HI)
    assert info.value.attempts == 3
    assert info.value.status_code == 503
    assert timer.sleeps == [0.5, 1.0]


def test_sdk_hidden_retries_are_off(make_hub: HubFactory, server: StandInServer) -> None:
    server.enqueue(PRIMARY, Fault(status=503))
    with pytest.raises(ProviderServerError):
        make_hub(reliable(server, attempts=1)).completion("llm.inference", HI)
    assert len(server.requests) == 1


def test_fallback_chain_role_then_inline(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer, recorder: Recorder
) -> None:
    server.enqueue(PRIMARY, Fault(status=500), Fault(status=500))
    server.enqueue(BACKUP, Fault(status=401))
    cfg = reliable(
        server,
        attempts=2,
        fallbacks=[
            {"role": "llm.backup"},
            {"provider": "standin", "model": "inline-model", "params": {"temperature": 0.9}},
        ],
    )
    response = make_hub(cfg, hooks=[recorder]).completion("llm.inference", HI)
    assert response.model == "inline-model"
    assert [r.model for r in server.requests] == [PRIMARY, PRIMARY, BACKUP, "inline-model"]
    assert server.requests[-1].body["temperature"] == 0.9
    ends = [e for e in recorder.events if e.kind == "end"]
    assert [(e.target_index, e.model) for e in ends] == [(2, "inline-model")]


def test_all_targets_failed_lists_each(make_hub: HubFactory, server: StandInServer) -> None:
    server.enqueue(PRIMARY, Fault(status=500), Fault(status=500))
    server.enqueue(BACKUP, Fault(status=429, headers={"Retry-After": "999"}))
    cfg = reliable(server, attempts=2, fallbacks=[{"role": "llm.backup"}])
    with pytest.raises(AllTargetsFailedError) as info:
        make_hub(cfg).completion("llm.inference", HI)
    error = info.value
    assert [(f.provider, f.model, f.attempts, type(f.error)) for f in error.failures] == [
        ("standin", PRIMARY, 2, ProviderServerError),
        ("standin", BACKUP, 1, RateLimitError),
    ]
    assert "All 2 targets for role 'llm.inference' failed" in str(error)
    assert f"standin/{PRIMARY} after 2 attempt(s): ProviderServerError" in str(error)
    assert isinstance(error.__cause__, RateLimitError)


def test_context_length_skips_retries_to_next_target(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer
) -> None:
    server.enqueue(PRIMARY, Fault(status=400, error_type="context_length_exceeded"))
    cfg = reliable(server, fallbacks=[{"role": "llm.backup"}])
    assert make_hub(cfg).completion("llm.inference", HI).model == BACKUP
    assert timer.sleeps == []


def test_bad_request_is_not_retried_nor_fallen_back(make_hub: HubFactory, server: StandInServer) -> None:
    server.enqueue(PRIMARY, Fault(status=400, message="unsupported value for 'foo'"))
    cfg = reliable(server, fallbacks=[{"role": "llm.backup"}])
    with pytest.raises(BadRequestError):
        make_hub(cfg).completion("llm.inference", HI)
    assert [r.model for r in server.requests] == [PRIMARY]


def test_timeout_is_retried(make_hub: HubFactory, server: StandInServer, timer: FakeTimer) -> None:
    server.enqueue(PRIMARY, Fault(delay=3.0))
    cfg = reliable(server, timeout=0.3)
    assert make_hub(cfg).completion("llm.inference", HI).model == PRIMARY
    assert timer.sleeps == [0.5]


def test_timeout_error_type(make_hub: HubFactory, server: StandInServer) -> None:
    server.enqueue(PRIMARY, Fault(delay=3.0))
    with pytest.raises(ProviderTimeoutError):
        make_hub(reliable(server, attempts=1, timeout=0.3)).completion("llm.inference", HI)


def test_connection_refused_falls_back(make_hub: HubFactory, server: StandInServer, timer: FakeTimer) -> None:
    cfg = reliable(server, attempts=2, fallbacks=[{"role": "llm.backup"}])
    cfg["providers"]["dead"] = {"kind": "openai", "api_base": f"http://127.0.0.1:{unused_port()}/v1", "env_key": None}
    cfg["roles"]["llm.inference"]["provider"] = "dead"
    hub = make_hub(cfg)
    assert hub.completion("llm.inference", HI).model == BACKUP
    assert timer.sleeps == [0.5]
    cfg["roles"]["llm.inference"]["fallbacks"] = []
    with pytest.raises(ProviderConnectionError):
        make_hub(cfg).completion("llm.inference", HI)


def test_server_closing_without_an_answer_is_a_connection_error(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer
) -> None:
    server.enqueue(PRIMARY, Fault(disconnect_after_chunks=0), Fault(disconnect_after_chunks=0))
    with pytest.raises(ProviderConnectionError) as info:
        make_hub(reliable(server, attempts=2)).completion("llm.inference", HI)
    assert info.value.attempts == 2
    assert timer.sleeps == [0.5]
    assert [r.model for r in server.requests] == [PRIMARY, PRIMARY]


def test_malformed_json_is_a_retryable_server_error(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer
) -> None:
    server.enqueue(PRIMARY, Fault(malformed=True))
    assert make_hub(reliable(server)).completion("llm.inference", HI).model == PRIMARY
    assert timer.sleeps == [0.5]


def test_failure_before_first_chunk_is_retried(make_hub: HubFactory, server: StandInServer, timer: FakeTimer) -> None:
    server.enqueue(PRIMARY, Fault(status=503))
    chunks = list(make_hub(reliable(server)).completion("llm.inference", HI, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Stand-in reply to: hello there"
    assert timer.sleeps == [0.5]


def test_disconnect_mid_stream_raises_with_partial_text(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder
) -> None:
    server.enqueue(PRIMARY, Fault(disconnect_after_chunks=3))
    stream = make_hub(reliable(server, fallbacks=[{"role": "llm.backup"}]), hooks=[recorder]).completion(
        "llm.inference", HI, stream=True
    )
    received: list[str] = []
    with pytest.raises(StreamInterruptedError) as info:
        for chunk in stream:
            received.extend(c.delta.content or "" for c in chunk.choices)
    error = info.value
    assert error.partial_text == "".join(received) and error.partial_text.startswith("Stand-in")
    assert (error.provider, error.model, error.role) == ("standin", PRIMARY, "llm.inference")
    assert [r.model for r in server.requests] == [PRIMARY]  # never restarted, no fallback
    assert recorder.kinds() == ["start", "error"] and recorder.events[-1].final is True


async def test_async_disconnect_mid_stream(make_hub: HubFactory, server: StandInServer) -> None:
    server.enqueue(PRIMARY, Fault(disconnect_after_chunks=3))
    stream = await make_hub(reliable(server)).acompletion("llm.inference", HI, stream=True)
    with pytest.raises(StreamInterruptedError) as info:
        async for _ in stream:
            pass
    assert info.value.partial_text.startswith("Stand-in")


async def test_async_retry_matches_sync(make_hub: HubFactory, server: StandInServer, timer: FakeTimer) -> None:
    server.enqueue(PRIMARY, Fault(status=429, headers={"Retry-After": "1.5"}), Fault(status=500))
    response = await make_hub(reliable(server)).acompletion("llm.inference", HI)
    assert response.model == PRIMARY
    assert timer.sleeps == [1.5, 1.0]


class BlockingTimer(FakeTimer):
    """A timer whose async sleep waits until cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeping = asyncio.Event()

    async def asleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.sleeping.set()
        await asyncio.Event().wait()


async def test_cancel_stops_waiting_at_once(make_hub: HubFactory, server: StandInServer) -> None:
    timer = BlockingTimer()
    server.enqueue(PRIMARY, Fault(status=503))
    task = asyncio.create_task(make_hub(reliable(server), timer=timer).acompletion("llm.inference", HI))
    await timer.sleeping.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(server.requests) == 1


def test_retry_after_http_date() -> None:
    from llmhub_runtime.errors_map import parse_retry_after

    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("3.5") == 3.5
    assert parse_retry_after("soon") is None


@pytest.mark.parametrize(
    ("roles", "path", "fragment"),
    [
        (
            {
                "a": {"provider": "openai", "model": "m", "fallbacks": [{"role": "b"}]},
                "b": {"provider": "openai", "model": "m", "fallbacks": [{"role": "a"}]},
            },
            "roles.b.fallbacks[0].role",
            "fallback cycle: a -> b -> a",
        ),
        (
            {
                "a": {"provider": "openai", "model": "m", "fallbacks": [{"role": "e"}]},
                "e": {"provider": "openai", "model": "m", "mode": "embedding"},
            },
            "roles.a.fallbacks[0].role",
            "has mode 'embedding' but role 'a' has mode 'chat'",
        ),
        (
            {"a": {"provider": "openai", "model": "m", "fallbacks": [{"role": "bb"}]}},
            "roles.a.fallbacks[0].role",
            "fallback role 'bb' is not defined",
        ),
        (
            {"a": {"provider": "openai", "model": "m", "fallbacks": [{"provider": "openai"}]}},
            "roles.a.fallbacks[0]",
            "needs 'role: NAME', or both 'provider:' and 'model:'",
        ),
        (
            {"a": {"provider": "openai", "model": "m", "retry": {"max_attempts": 0}}},
            "roles.a.retry.max_attempts",
            "greater than or equal to 1",
        ),
        (
            {"a": {"provider": "openai", "model": "m", "retry": {"max_atempts": 2}}},
            "roles.a.retry.max_atempts",
            "unknown key",
        ),
    ],
)
def test_reliability_config_is_validated(roles: dict[str, Any], path: str, fragment: str) -> None:
    with pytest.raises(ConfigValidationError) as info:
        config_from_dict({"roles": roles})
    problem = info.value.problems[0]
    assert problem.key_path == path
    assert fragment in problem.message


def test_timeout_and_retry_precedence(server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["defaults"] = {"timeout": 9, "retry": {"max_attempts": 4}}
    cfg["providers"]["standin"]["timeout"] = 5
    cfg["roles"]["llm.inference"]["retry"] = {"max_attempts": 2}
    target = LLMHub(config=cfg).resolve("llm.inference").primary
    assert (target.timeout, target.retry.max_attempts) == (5, 2)
    embed = LLMHub(config=cfg).resolve("llm.embedding").primary
    assert (embed.timeout, embed.retry.max_attempts) == (5, 4)
