"""The Anthropic wire format, exercised with the real `anthropic` SDK over loopback HTTP."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx

from llmhub_runtime.testing import Reply, StandInServer, ToolCall

HELLO: Any = [{"role": "user", "content": "hello there"}]
WEATHER_TOOL: Any = {
    "name": "get_weather",
    "description": "Get the weather at a location.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
        "required": ["city"],
    },
}


def test_message_with_system_prompt(server: StandInServer, claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(model="claude-x", max_tokens=100, system="Be brief.", messages=HELLO)

    assert message.id.startswith("msg_standin_")
    assert message.model == "claude-x"
    assert message.role == "assistant"
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "Stand-in reply to: hello there"
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (4, 5)
    assert server.last_request is not None
    assert server.last_request.api == "anthropic-messages"
    assert server.last_request.body["system"] == "Be brief."
    assert server.last_request.headers["x-api-key"] == "sk-ant-test"


def test_scripted_reply_and_usage(server: StandInServer, claude: anthropic.Anthropic) -> None:
    server.enqueue("claude-x", Reply(text="bonjour", usage=(30, 2), model="claude-y"))

    message = claude.messages.create(model="claude-x", max_tokens=100, messages=HELLO)

    assert message.content[0].text == "bonjour"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (30, 2)
    assert message.model == "claude-y"


def test_stream_events_in_order(claude: anthropic.Anthropic) -> None:
    events = list(claude.messages.create(model="claude-x", max_tokens=100, messages=HELLO, stream=True))

    kinds = [event.type for event in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    deltas = [e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta"]
    assert "".join(deltas) == "Stand-in reply to: hello there"
    message_delta = events[-2]
    assert message_delta.type == "message_delta"
    assert message_delta.delta.stop_reason == "end_turn"
    assert message_delta.usage.output_tokens == 5


def test_stream_helper_final_message(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(model="claude-x", max_tokens=100, messages=HELLO) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert text == "Stand-in reply to: hello there"
    assert final.content[0].text == text
    assert (final.usage.input_tokens, final.usage.output_tokens) == (2, 5)


def test_stream_is_sse_with_event_lines(server: StandInServer) -> None:
    body = {"model": "claude-x", "max_tokens": 10, "messages": HELLO, "stream": True}

    response = httpx.post(server.url + "/v1/messages", json=body, headers={"anthropic-version": "2023-06-01"})

    assert response.headers["content-type"].startswith("text/event-stream")
    first = response.text.split("\n\n")[0].split("\n")
    assert first[0] == "event: message_start"
    assert json.loads(first[1].removeprefix("data: "))["type"] == "message_start"


def test_tool_use_from_the_brain(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(
        model="claude-x",
        max_tokens=100,
        messages=[{"role": "user", "content": "What's the weather in Paris?"}],
        tools=[WEATHER_TOOL],
    )

    assert message.stop_reason == "tool_use"
    [block] = message.content
    assert block.type == "tool_use"
    assert block.id.startswith("toolu_standin_")
    assert (block.name, block.input) == ("get_weather", {"city": "Paris", "unit": "celsius"})


def test_tool_choice_any_and_streamed_input_json(server: StandInServer, claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model="claude-x", max_tokens=100, messages=HELLO, tools=[WEATHER_TOOL], tool_choice={"type": "any"}
    ) as stream:
        fragments = [e.delta.partial_json for e in stream if e.type == "content_block_delta"]
        final = stream.get_final_message()

    assert len(fragments) > 1
    assert json.loads("".join(fragments)) == {"city": "example", "unit": "celsius"}
    [block] = final.content
    assert block.type == "tool_use"
    assert block.input == {"city": "example", "unit": "celsius"}
    assert final.stop_reason == "tool_use"


def test_scripted_text_and_tool_use(server: StandInServer, claude: anthropic.Anthropic) -> None:
    server.enqueue("claude-x", Reply(text="Let me check.", tool_calls=[ToolCall("get_weather", {"city": "Oslo"})]))

    message = claude.messages.create(model="claude-x", max_tokens=100, messages=HELLO, tools=[WEATHER_TOOL])

    assert [block.type for block in message.content] == ["text", "tool_use"]
    assert message.content[1].input == {"city": "Oslo"}


def test_tool_result_is_answered(claude: anthropic.Anthropic) -> None:
    messages: Any = [
        {"role": "user", "content": "weather in Paris?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}]},
    ]

    message = claude.messages.create(model="claude-x", max_tokens=100, messages=messages, tools=[WEATHER_TOOL])

    assert message.content[0].text == "Tool result: sunny"
    assert message.stop_reason == "end_turn"


def test_stop_sequences_and_max_tokens(server: StandInServer, claude: anthropic.Anthropic) -> None:
    server.enqueue("claude-x", Reply(text="one two three four"), Reply(text="one two three four"))

    stopped = claude.messages.create(model="claude-x", max_tokens=100, messages=HELLO, stop_sequences=["three"])
    cut = claude.messages.create(model="claude-x", max_tokens=3, messages=HELLO)

    assert stopped.content[0].text == "one two "
    assert (stopped.stop_reason, stopped.stop_sequence) == ("stop_sequence", "three")
    assert cut.content[0].text == "one two three"
    assert cut.stop_reason == "max_tokens"
    assert cut.usage.output_tokens == 3


def test_models_and_count_tokens(server: StandInServer, claude: anthropic.Anthropic) -> None:
    claude.messages.create(model="claude-x", max_tokens=10, messages=HELLO)

    models = claude.models.list()
    counted = claude.messages.count_tokens(model="claude-x", messages=HELLO, system="Be brief.")

    assert [m.id for m in models] == ["claude-x"]
    assert models.data[0].type == "model"
    assert counted.input_tokens == 4
