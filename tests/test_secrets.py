"""No API key ever appears in reprs, errors, logs or hook events (parametrized over the surfaces)."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from llmhub_runtime import AuthenticationError, LLMHub, LLMHubError, ProviderError
from llmhub_runtime.testing import StandInServer
from llmhub_runtime.testing.replies import Fault

from .conftest import Recorder  # type: ignore[import-not-found]

SECRET = "sk-llmhub-TEST-SECRET-0123456789"
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def secret_hub(
    server: StandInServer, monkeypatch: pytest.MonkeyPatch, recorder: Recorder, make_hub: Callable[..., LLMHub]
) -> Iterator[LLMHub]:
    cfg = server.chat_config()
    cfg["providers"]["standin"]["env_key"] = "LLMHUB_SECRET_KEY"
    cfg["roles"]["llm.inference"]["retry"] = {"max_attempts": 2, "backoff": 0}
    monkeypatch.setenv("LLMHUB_SECRET_KEY", SECRET)
    yield make_hub(cfg, hooks=[recorder])


def surfaces(hub: LLMHub, server: StandInServer, recorder: Recorder, caplog: pytest.LogCaptureFixture) -> list[str]:
    texts = [repr(hub), str(hub), repr(hub.config), repr(hub.resolve("llm.inference")),
             hub.resolve("llm.inference").model_dump_json()]
    with caplog.at_level(logging.DEBUG):
        hub.completion("llm.inference", HI)
        list(hub.completion("llm.inference", HI, stream=True))
        server.enqueue("standin-chat", Fault(status=500), Fault(status=401, message=f"Incorrect API key provided: {SECRET}"))
        with pytest.raises(LLMHubError) as info:
            hub.completion("llm.inference", HI)
    error: Any = info.value
    assert isinstance(error, AuthenticationError)
    texts += [str(error), repr(error), repr(error.__dict__), str(pickle.loads(pickle.dumps(error)).__dict__)]
    texts += [repr(e) for e in recorder.events]
    texts += [r.getMessage() for r in caplog.records] + [caplog.text]
    return texts


@pytest.mark.parametrize("surface", ["repr", "errors", "logs", "hook events"])
def test_no_secret_anywhere(
    secret_hub: LLMHub, server: StandInServer, recorder: Recorder, caplog: pytest.LogCaptureFixture, surface: str
) -> None:
    texts = surfaces(secret_hub, server, recorder, caplog)
    assert server.last_request is not None
    assert server.last_request.headers["authorization"] == f"Bearer {SECRET}"  # it was really used
    assert len(texts) > 10
    leaked = [t for t in texts if SECRET in t]
    assert leaked == []


def test_scrubbed_message_says_secure(secret_hub: LLMHub, server: StandInServer) -> None:
    server.enqueue("standin-chat", Fault(status=401, message=f"Incorrect API key provided: {SECRET}"))
    with pytest.raises(ProviderError) as info:
        secret_hub.completion("llm.inference", HI)
    assert "Incorrect API key provided: [secure]" in str(info.value)
