"""Streams that end before their first chunk are unreadable answers: retried, never a bare StopIteration."""

from __future__ import annotations

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from llama_index.llms.llmhub import RoleLLM
from llmhub_runtime import LLMHub, ProviderServerError
from llmhub_runtime.testing import Fault, StandInServer
from llmhub_runtime.testing.timer import FakeTimer

USER = [ChatMessage(role=MessageRole.USER, content="say hello from llama")]


@pytest.mark.parametrize("fault", [Fault(end_after_chunks=0), Fault(unstreamed=True)], ids=["no events", "plain JSON"])
def test_stream_chat_retries_an_empty_stream(server: StandInServer, fault: Fault) -> None:
    cfg = server.chat_config()
    cfg["roles"]["llm.inference"]["retry"] = {"max_attempts": 2, "backoff": 0.5}
    server.enqueue("standin-chat", fault)
    timer = FakeTimer()
    with LLMHub(config=cfg, timer=timer) as hub:
        responses = list(RoleLLM("llm.inference", hub=hub).stream_chat(USER))
        assert responses[-1].message.content == "hello from llama"
        assert hub.usage().roles["llm.inference"].errors == 1
    assert [r.stream for r in server.requests] == [True, True]
    assert timer.sleeps == [0.5]


async def test_astream_chat_raises_a_provider_server_error(server: StandInServer) -> None:
    server.enqueue("standin-chat", Fault(end_after_chunks=0))
    cfg = server.chat_config()
    cfg["roles"]["llm.inference"]["retry"] = {"max_attempts": 1}  # the default (3) would retry past the fault
    with LLMHub(config=cfg) as hub, pytest.raises(ProviderServerError, match="ended before its first chunk"):
        async for _ in await RoleLLM("llm.inference", hub=hub).astream_chat(USER):
            pass
