"""Faults that shape a 200 answer: streams ended early or with no events, plain JSON to a stream
request, trickled bodies and keep-alive pings, as the real SDKs see them."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest

from llmhub_runtime.testing import Fault, StandInServer

HELLO: Any = [{"role": "user", "content": "hello there"}]


def claude_stream(client: anthropic.Anthropic) -> list[str]:
    stream = client.messages.create(model="claude-x", max_tokens=50, messages=HELLO, stream=True)
    return [event.type for event in stream]


def test_end_after_zero_chunks_is_a_stream_with_no_events(
    server: StandInServer, oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    server.enqueue("m", Fault(end_after_chunks=0))
    server.enqueue("claude-x", Fault(end_after_chunks=0))
    assert list(oai.chat.completions.create(model="m", messages=HELLO, stream=True)) == []
    assert claude_stream(claude) == []


def test_end_after_chunks_ends_cleanly_without_the_finish(
    server: StandInServer, oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    server.enqueue("m", Fault(end_after_chunks=3))
    server.enqueue("claude-x", Fault(end_after_chunks=4))
    chunks = list(oai.chat.completions.create(model="m", messages=HELLO, stream=True))
    assert len(chunks) == 3 and all(c.choices[0].finish_reason is None for c in chunks)
    assert claude_stream(claude) == ["message_start", "content_block_start", "content_block_delta"]  # ping unseen


def test_unstreamed_answers_a_stream_request_with_plain_json(
    server: StandInServer, oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    server.enqueue("m", Fault(unstreamed=True))
    server.enqueue("claude-x", Fault(unstreamed=True))
    raw = oai.chat.completions.with_raw_response.create(model="m", messages=HELLO, stream=True)
    assert raw.headers["content-type"] == "application/json"
    assert list(raw.parse()) == []  # the SDK finds no SSE events in it
    assert claude_stream(claude) == []
    assert [r.stream for r in server.requests] == [True, True]


def test_a_trickled_body_arrives_whole_within_a_short_read_timeout(server: StandInServer) -> None:
    server.enqueue("m", Fault(trickle=0.05))  # 8 pieces, each well within the 0.3 s read timeout
    with openai.OpenAI(api_key="x", base_url=server.openai_base, max_retries=0, timeout=0.3) as client:
        answer = client.chat.completions.create(model="m", messages=HELLO)
    assert answer.choices[0].message.content == "Stand-in reply to: hello there"


def test_pings_come_before_the_first_event(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("m", Fault(pings=3, trickle=0.01))
    with oai.chat.completions.with_streaming_response.create(model="m", messages=HELLO, stream=True) as response:
        lines = [line for line in response.iter_lines() if line]
    assert lines[:3] == [": ping"] * 3 and lines[3].startswith("data: {") and lines[-1] == "data: [DONE]"


@pytest.mark.parametrize("bad", [{"end_after_chunks": -1}, {"trickle": -0.1}, {"pings": -2}])
def test_shaping_faults_are_validated(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        Fault(**bad)
