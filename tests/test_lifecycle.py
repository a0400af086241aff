"""The call lifecycle: streams that end oddly, one end or error per start, hooks, ledger rows, latency."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llmhub_runtime import CallEvent, LLMHub, ProviderServerError, StreamInterruptedError
from llmhub_runtime.otel import OpenTelemetryHook
from llmhub_runtime.testing import Fault, StandInServer
from llmhub_runtime.testing.timer import FakeTimer

from .conftest import Recorder  # type: ignore[import-not-found]

HubFactory = Callable[..., LLMHub]
HI = [{"role": "user", "content": "hello there"}]
PRIMARY = "primary-model"
BACKUP = "backup-model"
WIRES = {"openai": "standin", "anthropic": "standin-anthropic"}
EMPTY_STREAMS = {"no events": Fault(end_after_chunks=0), "plain JSON": Fault(unstreamed=True)}


def chain(server: StandInServer, provider: str = "standin", *, attempts: int = 2) -> dict[str, Any]:
    """``llm.inference`` on ``provider``/PRIMARY (retried), falling back to ``llm.backup`` (openai wire)."""
    cfg = server.chat_config()
    cfg["roles"]["llm.inference"] = {
        "provider": provider,
        "model": PRIMARY,
        "params": {"max_tokens": 50},
        "retry": {"max_attempts": attempts, "backoff": 0.5},
        "fallbacks": [{"role": "llm.backup"}],
    }
    cfg["roles"]["llm.backup"] = {"provider": "standin", "model": BACKUP}
    return cfg


def text(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def paired(events: list[CallEvent]) -> bool:
    """Every start has exactly one end or error, in order, and nothing else ends an attempt."""
    open_attempts: set[tuple[int, int, int]] = set()
    for event in events:
        key = (event.call_id, event.target_index, event.attempt)
        if event.kind == "start":
            if key in open_attempts:
                return False
            open_attempts.add(key)
        elif key in open_attempts:
            open_attempts.remove(key)
        else:
            return False
    return not open_attempts


# --- a stream with no chunk at all is an unreadable answer ----------------------------------


@pytest.mark.parametrize("fault", EMPTY_STREAMS.values(), ids=EMPTY_STREAMS.keys())
@pytest.mark.parametrize("wire", WIRES)
def test_empty_stream_is_retried_then_falls_back(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer, recorder: Recorder, wire: str, fault: Fault
) -> None:
    server.enqueue(PRIMARY, fault, fault)
    hub = make_hub(chain(server, WIRES[wire]), hooks=[recorder])
    chunks = list(hub.completion("llm.inference", HI, stream=True))
    assert text(chunks) == "Stand-in reply to: hello there"
    assert [r.model for r in server.requests] == [PRIMARY, PRIMARY, BACKUP]
    assert all(r.stream for r in server.requests)
    assert timer.sleeps == [0.5]
    assert recorder.kinds() == ["start", "error", "start", "error", "start", "end"]
    assert [e.error_type for e in recorder.events if e.kind == "error"] == ["ProviderServerError"] * 2
    usage = hub.usage()
    assert (usage.roles["llm.inference"].errors, usage.roles["llm.inference"].calls) == (2, 1)
    assert usage.targets[f"{WIRES[wire]}/{PRIMARY}"].errors == 2


@pytest.mark.parametrize("fault", EMPTY_STREAMS.values(), ids=EMPTY_STREAMS.keys())
@pytest.mark.parametrize("wire", WIRES)
async def test_async_empty_stream_is_a_provider_server_error(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, wire: str, fault: Fault
) -> None:
    cfg = chain(server, WIRES[wire], attempts=1)
    cfg["roles"]["llm.inference"]["fallbacks"] = []
    server.enqueue(PRIMARY, fault)
    hub = make_hub(cfg, hooks=[recorder])
    with pytest.raises(ProviderServerError) as info:
        await hub.acompletion("llm.inference", HI, stream=True)
    assert type(info.value) is ProviderServerError
    assert "ended before its first chunk" in info.value.message and "unreadable answer" in info.value.message
    assert (info.value.role, info.value.model, info.value.attempts) == ("llm.inference", PRIMARY, 1)
    assert recorder.kinds() == ["start", "error"] and recorder.events[-1].final is True
    assert hub.usage().roles["llm.inference"].errors == 1
    assert len(server.requests) == 1


@pytest.mark.parametrize("wire", WIRES)
def test_stream_ended_without_finish_is_interrupted(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, wire: str
) -> None:
    server.enqueue(PRIMARY, Fault(end_after_chunks=4))
    stream = make_hub(chain(server, WIRES[wire]), hooks=[recorder]).completion("llm.inference", HI, stream=True)
    received: list[Any] = []
    with pytest.raises(StreamInterruptedError) as info:
        for chunk in stream:
            received.append(chunk)
    assert "without a finish reason" in info.value.message
    assert info.value.partial_text == text(received) and info.value.partial_text.startswith("Stand-in")
    assert [r.model for r in server.requests] == [PRIMARY]  # never restarted
    assert recorder.kinds() == ["start", "error"]
    assert recorder.events[-1].error_type == "StreamInterruptedError"


def test_complete_stream_still_ends_normally(make_hub: HubFactory, server: StandInServer, recorder: Recorder) -> None:
    chunks = list(
        make_hub(chain(server, "standin-anthropic"), hooks=[recorder]).completion("llm.inference", HI, stream=True)
    )
    assert text(chunks) == "Stand-in reply to: hello there"
    assert recorder.kinds() == ["start", "end"]


# --- every start gets exactly one end or error ------------------------------------------------


def stall(server: StandInServer, count: int) -> threading.Event:
    """Hold every request to standin-chat for 2 s; the event is set once ``count`` have arrived."""
    arrived = threading.Event()

    def slow(request: Any) -> Fault:
        if len(server.requests) >= count:
            arrived.set()
        return Fault(delay=2.0)

    server.script("standin-chat", slow)
    return arrived


BAD_CALLS: dict[str, dict[str, Any]] = {
    "model kwarg": {"model": "other"},
    "params_override not a mapping": {"params_override": [("temperature", 1)]},
    "tools not a list": {"tools": "not-a-list"},
}


@pytest.mark.parametrize("kwargs", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_refused_calls_close_what_they_opened(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, kwargs: dict[str, Any]
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel = OpenTelemetryHook(provider)
    hub = make_hub(hooks=[recorder, otel])
    with pytest.raises(Exception) as info:
        hub.completion("llm.inference", HI, **kwargs)
    assert paired(recorder.events), recorder.kinds()
    assert otel._spans == {}  # no span left open
    errors = [e for e in recorder.events if e.kind == "error"]
    assert errors[-1:] == [] or (errors[-1].final and errors[-1].error_type == type(info.value).__name__)
    assert hub.usage().roles.get("llm.inference") is None or hub.usage().roles["llm.inference"].errors == len(errors)
    assert len(exporter.get_finished_spans()) == recorder.kinds().count("start")


async def test_cancelled_calls_reach_hooks_usage_and_close_their_spans(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel = OpenTelemetryHook(provider)
    hub = make_hub(hooks=[recorder, otel])
    count = 20
    arrived = stall(server, count)
    tasks = [asyncio.create_task(hub.acompletion("llm.inference", HI)) for _ in range(count)]
    assert await asyncio.to_thread(arrived.wait, 10)  # every request is on the wire
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert recorder.kinds().count("start") == recorder.kinds().count("error") == count
    assert paired(recorder.events)
    assert {(e.error_type, e.final) for e in recorder.events if e.kind == "error"} == {("CancelledError", True)}
    assert hub.usage().roles["llm.inference"].errors == count
    assert otel._spans == {}
    spans = exporter.get_finished_spans()
    assert len(spans) == count and {s.attributes["error.type"] for s in spans if s.attributes} == {"CancelledError"}


def test_cancelled_calls_reach_usage_without_hooks(make_hub: HubFactory, server: StandInServer) -> None:
    hub = make_hub()
    arrived = stall(server, 1)

    async def cancel_one() -> None:
        task = asyncio.create_task(hub.acompletion("llm.inference", HI))
        assert await asyncio.to_thread(arrived.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_one())
    assert hub.usage().roles["llm.inference"].errors == 1


# --- hooks --------------------------------------------------------------------------------------


class AsyncRecorder(Recorder):
    async def on_start(self, event: CallEvent) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self.events.append(event)

    async def on_end(self, event: CallEvent) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self.events.append(event)


async def test_async_hooks_run_for_sync_calls_inside_a_running_loop(make_hub: HubFactory) -> None:
    hook = AsyncRecorder()
    hub = make_hub(hooks=[hook])
    hub.completion("llm.inference", HI)  # the sync API from a coroutine, as in Jupyter
    assert hook.kinds() == ["start", "end"]
    list(hub.completion("llm.inference", HI, stream=True))
    assert hook.kinds() == ["start", "end", "start", "end"]


class NeverFinishes:
    hook_timeout = 0.05

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def on_start(self, event: CallEvent) -> None:
        self.calls.append("start")
        await asyncio.Event().wait()

    async def on_end(self, event: CallEvent) -> None:
        self.calls.append("end")
        await asyncio.Event().wait()


async def test_an_async_hook_that_never_finishes_does_not_hang_the_call(
    make_hub: HubFactory, caplog: pytest.LogCaptureFixture
) -> None:
    hook = NeverFinishes()
    hub = make_hub(hooks=[hook])
    with caplog.at_level(logging.WARNING, logger="llmhub_runtime"):
        response = await asyncio.wait_for(hub.acompletion("llm.inference", HI), timeout=3)
    assert response.choices[0].message.content == "Stand-in reply to: hello there"
    assert hook.calls == ["start", "end"]
    slow = [r.getMessage() for r in caplog.records if "took longer than 0.05s" in r.getMessage()]
    assert len(slow) == 2 and "the call went on without it" in slow[0]


def test_a_never_finishing_async_hook_of_a_sync_call_is_bounded(make_hub: HubFactory) -> None:
    hook = NeverFinishes()
    hub = make_hub(hooks=[hook])
    assert hub.completion("llm.inference", HI).choices[0].message.content == "Stand-in reply to: hello there"
    assert hook.calls == ["start", "end"]


class BlocksUntilReleased:
    """A sync hook that blocks until another task on the caller's loop releases it."""

    hook_timeout = 3.0

    def __init__(self) -> None:
        self.release = threading.Event()
        self.released: list[bool] = []

    def on_start(self, event: CallEvent) -> None:
        self.released.append(self.release.wait(2))

    def on_end(self, event: CallEvent) -> None:
        self.released.append(self.release.wait(2))


async def test_a_slow_sync_hook_does_not_block_the_event_loop(make_hub: HubFactory) -> None:
    hook = BlocksUntilReleased()
    hub = make_hub(hooks=[hook])

    async def release_soon() -> None:
        await asyncio.sleep(0)
        hook.release.set()  # runs only if the loop is free while the hook waits

    releaser = asyncio.create_task(release_soon())
    await hub.acompletion("llm.inference", HI)
    await releaser
    assert hook.released == [True, True]


# --- the usage ledger -----------------------------------------------------------------------------


def test_ledger_rows_are_capped_for_dynamic_role_names(server: StandInServer) -> None:
    from llmhub_runtime.usage import MAX_ROWS, OTHER

    cfg = server.chat_config()
    cfg["defaults"] = {"provider": "standin", "model": "standin-chat", "mode": "chat"}
    hub = LLMHub(config=cfg)
    try:
        for index in range(MAX_ROWS + 5):
            hub._observe(hub_event(f"user.{index}"))  # what every call's end event does
        roles = hub.usage().roles
        assert len(roles) == MAX_ROWS + 1
        assert roles[OTHER].calls == 5 and roles["user.0"].calls == 1
        hub.completion("user.new", HI)
        assert hub.usage().roles[OTHER].calls == 6 and "user.new" not in hub.usage().roles
    finally:
        hub.close()


def hub_event(role: str) -> CallEvent:
    return CallEvent(kind="end", role=role, mode="chat", provider="standin", model="m", attempt=1, target_index=0,
                     latency=0.1)  # fmt: skip


def test_latency_leaves_out_building_the_client(
    make_hub: HubFactory, timer: FakeTimer, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmhub_runtime import clients

    build = clients._create

    def slow_build(*args: Any) -> Any:
        timer.clock += 5.0  # the one-time import of any-llm and the SDK client
        return build(*args)

    monkeypatch.setattr(clients, "_create", slow_build)
    hub = make_hub(hooks=[recorder])
    hub.completion("llm.inference", HI)
    assert recorder.events[-1].kind == "end" and recorder.events[-1].latency == 0.0
    assert hub.usage().roles["llm.inference"].latency_p95 == 0.0


class SlowStart(Recorder):
    """A sync hook whose on_start waits until released (a cancellation lands meanwhile)."""

    hook_timeout = 2.0

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.errored = threading.Event()

    def on_start(self, event: CallEvent) -> None:
        self.entered.set()
        self.release.wait(2)
        super().on_start(event)

    def on_error(self, event: CallEvent) -> None:
        super().on_error(event)
        self.errored.set()


async def test_a_call_cancelled_during_its_start_hook_still_ends_after_it(make_hub: HubFactory) -> None:
    hook = SlowStart()
    task = asyncio.create_task(make_hub(hooks=[hook]).acompletion("llm.inference", HI))
    assert await asyncio.to_thread(hook.entered.wait, 5)
    task.cancel()
    early = await asyncio.to_thread(hook.errored.wait, 0.3)  # on_error must wait for on_start to finish
    hook.release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not early
    assert hook.kinds() == ["start", "error"] and hook.events[1].error_type == "CancelledError"
