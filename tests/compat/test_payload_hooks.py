"""``on_before_call`` / ``on_after_call``: 1.x's payload dicts, once per call, served by llmhub's hooks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from llmhub_runtime import (
    BadRequestError,
    CallEvent,
    LLMHub,
    LLMMode,
    MissingCredentialError,
    ModeMismatchError,
    UnknownRoleError,
)
from llmhub_runtime.testing import Fault, Reply, StandInServer
from llmhub_runtime.testing.timer import FakeTimer

HI = [{"role": "user", "content": "hello there"}]
Payloads = list[dict[str, Any]]


class Starts:
    """An ordinary llmhub hook, to count attempts beside the payload callables."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []

    def on_start(self, event: CallEvent) -> None:
        self.events.append(event)


@pytest.fixture
def payload_hub(server: StandInServer, timer: FakeTimer) -> Callable[..., tuple[LLMHub, Payloads, Payloads]]:
    hubs: list[LLMHub] = []

    def make(config: dict[str, Any] | None = None, **kwargs: Any) -> tuple[LLMHub, Payloads, Payloads]:
        before: Payloads = []
        after: Payloads = []
        hub = LLMHub(
            config=config or server.chat_config(), on_before_call=before.append, on_after_call=after.append,
            timer=timer, **kwargs,
        )  # fmt: skip
        hubs.append(hub)
        return hub, before, after

    yield make
    for hub in hubs:
        hub.close()


def test_once_per_call_across_retries_and_fallbacks(payload_hub: Any, server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["roles"]["llm.inference"].update(
        params={"temperature": 0.7}, fallbacks=[{"provider": "standin", "model": "backup-model"}]
    )
    starts = Starts()
    hub, before, after = payload_hub(cfg, hooks=[starts])
    server.enqueue("standin-chat", *[Fault(status=503)] * 3)
    server.enqueue("backup-model", Reply(text="from the backup"))

    response = hub.completion("llm.inference", HI)

    assert [(e.model, e.attempt) for e in starts.events] == [
        ("standin-chat", 1), ("standin-chat", 2), ("standin-chat", 3), ("backup-model", 1)
    ]  # fmt: skip
    assert before == [
        {"role": "llm.inference", "provider": "standin", "model": "standin-chat", "mode": LLMMode.chat,
         "params": {"temperature": 0.7}, "messages": HI}
    ]  # fmt: skip
    assert after == [
        {"role": "llm.inference", "provider": "standin", "model": "backup-model", "mode": LLMMode.chat,
         "success": True, "error": None, "response": response}
    ]  # fmt: skip
    assert response.choices[0].message.content == "from the backup"
    assert len(server.requests) == 4


def test_a_failed_call_sends_its_error(payload_hub: Any, server: StandInServer) -> None:
    hub, before, after = payload_hub()
    server.enqueue("standin-chat", Fault(status=400, message="bad param"))
    with pytest.raises(BadRequestError) as caught:
        hub.completion("llm.inference", HI)
    assert len(before) == 1
    [payload] = after
    assert payload["error"] is caught.value
    assert (payload["success"], payload["response"], payload["model"]) == (False, None, "standin-chat")
    assert len(server.requests) == 1  # a bad request is not retried


def test_params_are_those_sent(payload_hub: Any, server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["roles"]["llm.inference"]["params"] = {"temperature": 0.7, "max_tokens": 100}
    hub, before, _ = payload_hub(cfg)
    hub.completion("llm.inference", HI, {"temperature": 0.1, "max_tokens": None}, top_p=0.9)  # override positional
    assert before[0]["params"] == {"temperature": 0.1, "top_p": 0.9}
    body = server.last_request.body
    assert (body["temperature"], body["top_p"], "max_tokens" in body, "max_completion_tokens" in body) == (
        0.1, 0.9, False, False
    )  # fmt: skip


async def test_async_embedding_sends_input(payload_hub: Any) -> None:
    hub, before, after = payload_hub()
    response = await hub.aembedding("llm.embedding", ["a", "b"])
    assert before == [
        {"role": "llm.embedding", "provider": "standin", "model": "standin-embed", "mode": LLMMode.embedding,
         "params": {}, "input": ["a", "b"]}
    ]  # fmt: skip
    assert [p["response"] for p in after] == [response]


def test_refused_calls_fire_neither(payload_hub: Any, server: StandInServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPAT_UNSET_KEY", raising=False)
    cfg = server.chat_config()
    cfg["providers"]["keyed"] = {"kind": "openai", "api_base": server.openai_base, "env_key": "COMPAT_UNSET_KEY"}
    cfg["roles"]["llm.keyed"] = {"provider": "keyed", "model": "m"}
    hub, before, after = payload_hub(cfg)
    for role, error in (("llm.embedding", ModeMismatchError), ("llm.nope", UnknownRoleError),
                        ("llm.keyed", MissingCredentialError)):  # fmt: skip
        with pytest.raises(error):
            hub.completion(role, HI)
    assert (before, after, server.requests) == ([], [], [])


def test_a_stream_is_reported_when_handed_back(payload_hub: Any) -> None:
    hub, before, after = payload_hub()
    stream = hub.completion("llm.inference", "say a b c", stream=True)
    assert [p["response"] for p in after] == [stream]
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "a b c"
    assert (len(before), len(after)) == (1, 1)


def test_a_raising_callable_is_logged_and_ignored(server: StandInServer, caplog: pytest.LogCaptureFixture) -> None:
    def broken(payload: dict[str, Any]) -> None:
        raise RuntimeError("metrics backend down")

    with (
        LLMHub(config=server.chat_config(), on_before_call=broken, on_after_call=broken) as hub,
        caplog.at_level(logging.ERROR, logger="llmhub_runtime"),
    ):
        response = hub.completion("llm.inference", HI)
    assert response.choices[0].message.content == "Stand-in reply to: hello there"
    failures = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 2
    assert failures[1].startswith("llmhub on_after_call <function")
