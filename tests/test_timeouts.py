"""``timeout`` bounds a whole attempt (a stream: until its first chunk); ``chunk_timeout`` a stream's gaps.

The stand-in trickles its answers (``Fault(trickle=...)``): each read arrives well within the SDK's
per-read timeout, so only llmhub's own bounds can stop them. Durations are small real ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from llmhub_runtime import (
    ConfigValidationError,
    LLMHub,
    ProviderTimeoutError,
    StreamInterruptedError,
    config_from_dict,
)
from llmhub_runtime.models import DEFAULT_TIMEOUT
from llmhub_runtime.testing import Fault, StandInServer
from llmhub_runtime.testing.timer import FakeTimer
from llmhub_runtime.timeouts import limits

from .conftest import Recorder  # type: ignore[import-not-found]

HubFactory = Callable[..., LLMHub]
HI = [{"role": "user", "content": "hello there"}]
MODEL = "slow-model"


def bounded(server: StandInServer, *, attempts: int = 1, **role: Any) -> dict[str, Any]:
    cfg = server.chat_config()
    cfg["roles"]["llm.inference"] = {
        "provider": "standin",
        "model": MODEL,
        "retry": {"max_attempts": attempts, "backoff": 0.5},
        **role,
    }
    return cfg


def text(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_a_trickled_body_is_cut_at_the_timeout(make_hub: HubFactory, server: StandInServer) -> None:
    server.enqueue(MODEL, Fault(trickle=0.1))  # 8 pieces, 0.1 s apart: 0.8 s, each read within 0.3 s
    with pytest.raises(ProviderTimeoutError) as info:
        make_hub(bounded(server, timeout=0.3)).completion("llm.inference", HI)
    assert "no complete answer within 0.3s (timeout)" in info.value.message
    assert (info.value.model, info.value.attempts) == (MODEL, 1)


async def test_async_trickled_body_is_retried_after_the_timeout(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer, recorder: Recorder
) -> None:
    server.enqueue(MODEL, Fault(trickle=0.1))
    hub = make_hub(bounded(server, attempts=2, timeout=0.3), hooks=[recorder])
    response = await hub.acompletion("llm.inference", HI)
    assert response.choices[0].message.content == "Stand-in reply to: hello there"
    assert [e.error_type for e in recorder.events if e.kind == "error"] == ["ProviderTimeoutError"]
    assert timer.sleeps == [0.5] and len(server.requests) == 2


def test_other_modes_are_bounded_too(make_hub: HubFactory, server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["roles"]["llm.embedding"].update(timeout=0.3, retry={"max_attempts": 1})  # one attempt: one trickle
    server.enqueue("standin-embed", Fault(trickle=0.1))
    with pytest.raises(ProviderTimeoutError, match=r"within 0\.3s"):
        make_hub(cfg).embedding("llm.embedding", "some text")


def test_keepalives_do_not_stretch_the_wait_for_the_first_chunk(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder
) -> None:
    server.enqueue(MODEL, Fault(pings=8, trickle=0.1))  # first chunk after 0.9 s of ": ping" lines
    hub = make_hub(bounded(server, attempts=2, timeout=0.3), hooks=[recorder])
    chunks = list(hub.completion("llm.inference", HI, stream=True))
    assert text(chunks) == "Stand-in reply to: hello there"
    assert recorder.kinds() == ["start", "error", "start", "end"]
    assert recorder.events[1].error_type == "ProviderTimeoutError"


@pytest.mark.parametrize("provider", ["standin", "standin-anthropic"])
def test_a_stalled_stream_is_interrupted_at_the_chunk_timeout(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, provider: str
) -> None:
    server.enqueue(MODEL, Fault(trickle=0.2))  # first event after 0.2 s (< timeout), then gaps of 0.2 s
    cfg = bounded(server, timeout=1, chunk_timeout=0.1, provider=provider, params={"max_tokens": 50})
    stream = make_hub(cfg, hooks=[recorder]).completion("llm.inference", HI, stream=True)
    with pytest.raises(StreamInterruptedError) as info:
        list(stream)
    assert "ProviderTimeoutError: no chunk for 0.1s (chunk_timeout)" in info.value.message
    assert info.value.chunks_received == 1
    assert recorder.kinds() == ["start", "error"] and len(server.requests) == 1


async def test_async_stream_within_its_bounds_completes(make_hub: HubFactory, server: StandInServer) -> None:
    server.enqueue(MODEL, Fault(trickle=0.02))  # gaps of 0.02 s, the whole stream ~0.2 s
    hub = make_hub(bounded(server, timeout=0.5, chunk_timeout=0.3))
    chunks = [chunk async for chunk in await hub.acompletion("llm.inference", HI, stream=True)]
    assert text(chunks) == "Stand-in reply to: hello there"


async def test_async_stalled_stream(make_hub: HubFactory, server: StandInServer) -> None:
    server.enqueue(MODEL, Fault(trickle=0.2))
    hub = make_hub(bounded(server, timeout=1, chunk_timeout=0.1))
    stream = await hub.acompletion("llm.inference", HI, stream=True)
    with pytest.raises(StreamInterruptedError, match="chunk_timeout"):
        async for _ in stream:
            pass


def test_defaults_when_nothing_is_configured(server: StandInServer) -> None:
    target = LLMHub(config=server.chat_config()).resolve("llm.inference").primary
    assert DEFAULT_TIMEOUT == 120.0
    assert limits(target, {}, stream=False).total == DEFAULT_TIMEOUT  # never the SDK's silent 600 s
    assert limits(target, {}, stream=True).gap == DEFAULT_TIMEOUT
    args: dict[str, Any] = {"timeout": 2}
    assert (limits(target.model_copy(update={"chunk_timeout": 5.0}), args, stream=True).gap, args) == (
        5.0,
        {"timeout": 5.0},
    )  # the SDK's per-read timeout never cuts a gap llmhub allows


def test_chunk_timeout_precedence_and_validation(server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["defaults"] = {"chunk_timeout": 9}
    cfg["providers"]["standin"]["chunk_timeout"] = 5
    cfg["roles"]["llm.inference"]["chunk_timeout"] = 2
    hub = LLMHub(config=cfg)
    assert hub.resolve("llm.inference").primary.chunk_timeout == 2
    assert hub.resolve("llm.embedding").primary.chunk_timeout == 5
    for bad, fragment in ((0, "greater than 0"), ("soon", "valid number")):
        cfg["roles"]["llm.inference"]["chunk_timeout"] = bad
        with pytest.raises(ConfigValidationError) as info:
            config_from_dict(cfg)
        assert info.value.problems[0].key_path == "roles.llm.inference.chunk_timeout"
        assert fragment in info.value.problems[0].message


async def test_the_gap_watchdog_leaves_other_cancellations_alone() -> None:
    import asyncio

    from llmhub_runtime.timeouts import Limits, bounded_stream

    gate = asyncio.Event()

    async def source() -> Any:
        yield 1
        await gate.wait()  # never set: a stalled stream
        yield 2

    async def opened() -> Any:
        return source()

    async def consume() -> list[int]:
        return [item async for item in bounded_stream(opened(), Limits(total=1, gap=5))]

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    task.cancel()  # the caller's own cancellation, well before the gap bound
    with pytest.raises(asyncio.CancelledError):
        await task

    stalled = bounded_stream(opened(), Limits(total=1, gap=0.05))
    assert await anext(stalled) == 1
    with pytest.raises(TimeoutError, match=r"no chunk for 0\.05s \(chunk_timeout\)"):
        await anext(stalled)
    current = asyncio.current_task()
    assert current is not None and current.cancelling() == 0  # the watchdog's cancel was taken back
