"""Streams that end before their first chunk are unreadable answers: they fall back, never a bare StopIteration.

llm.fallback → standin-primary, then standin-backup; llm.scripted → standin-scripted (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from llmhub_runtime.errors import ProviderServerError
from llmhub_runtime.testing import Fault, StandInServer

from langchain_llmhub import RoleChatModel

EMPTY = [Fault(end_after_chunks=0), Fault(unstreamed=True)]


@pytest.mark.parametrize("fault", EMPTY, ids=["no events", "plain JSON"])
def test_stream_falls_back_after_an_empty_stream(server: StandInServer, fault: Fault) -> None:
    server.enqueue("standin-primary", fault)
    chunks = list(RoleChatModel("llm.fallback").stream("Hello"))
    assert "".join(str(c.content) for c in chunks) == "Stand-in reply to: Hello"
    assert [r.model for r in server.requests] == ["standin-primary", "standin-backup"]


async def test_astream_events_falls_back_after_an_empty_stream(server: StandInServer) -> None:
    server.enqueue("standin-primary", Fault(end_after_chunks=0))
    events: list[dict[str, Any]] = [e async for e in RoleChatModel("llm.fallback").astream_events("Hello")]
    streamed = "".join(str(e["data"]["chunk"].content) for e in events if e["event"] == "on_chat_model_stream")
    assert streamed == "Stand-in reply to: Hello"
    assert [e["event"] for e in events][-1] == "on_chat_model_end"
    assert [r.model for r in server.requests] == ["standin-primary", "standin-backup"]


def test_an_empty_stream_without_fallback_is_a_provider_server_error(server: StandInServer) -> None:
    server.enqueue("standin-scripted", Fault(unstreamed=True))
    with pytest.raises(ProviderServerError, match="ended before its first chunk"):
        list(RoleChatModel("llm.scripted").stream("Hello"))
