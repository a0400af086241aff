"""The OpenAI wire format, exercised with the real `openai` SDK over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any, Literal

import httpx
import openai
import pytest
from pydantic import BaseModel

from llmhub_runtime.testing import Fault, Reply, StandInServer, ToolCall
from llmhub_runtime.testing.embeddings import embed

HELLO: Any = [{"role": "user", "content": "hello there"}]
WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather at a location.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city", "days"],
        },
    },
}


# chat, JSON ---------------------------------------------------------------------------------


def test_default_brain_answer_with_usage(oai: openai.OpenAI) -> None:
    reply = oai.chat.completions.create(model="standin-chat", messages=HELLO)

    assert reply.choices[0].message.content == "Stand-in reply to: hello there"
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.model == "standin-chat"
    assert reply.id.startswith("chatcmpl-standin-")
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (2, 5, 7)


def test_enqueued_replies_are_fifo_then_default(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("model-a", Reply(text="first", usage=(12, 3)), Reply(text="second", model="model-z"))

    answers = [oai.chat.completions.create(model="model-a", messages=HELLO) for _ in range(3)]

    assert [a.choices[0].message.content for a in answers] == ["first", "second", "Stand-in reply to: hello there"]
    assert answers[0].usage is not None
    assert (answers[0].usage.prompt_tokens, answers[0].usage.completion_tokens) == (12, 3)
    assert [a.model for a in answers] == ["model-a", "model-z", "model-a"]
    assert server.pending("model-a") == 0


def test_queue_is_per_model_and_star_is_the_catch_all(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("model-a", Reply(text="for a"))
    server.enqueue("*", Reply(text="for anyone"))

    b = oai.chat.completions.create(model="model-b", messages=HELLO)
    a = oai.chat.completions.create(model="model-a", messages=HELLO)

    assert b.choices[0].message.content == "for anyone"
    assert a.choices[0].message.content == "for a"


def test_reply_without_content_overrides_only_usage(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("m", Reply(usage=(100, 7), finish_reason="content_filter"))

    reply = oai.chat.completions.create(model="m", messages=HELLO)

    assert reply.choices[0].message.content == "Stand-in reply to: hello there"
    assert reply.choices[0].finish_reason == "content_filter"
    assert reply.usage is not None
    assert reply.usage.total_tokens == 107


async def test_async_client(server: StandInServer, aoai: openai.AsyncOpenAI) -> None:
    server.enqueue("m", Reply(text="async hello"))

    reply = await aoai.chat.completions.create(model="m", messages=HELLO)

    assert reply.choices[0].message.content == "async hello"


def test_stop_sequence_truncates(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("m", Reply(text="one two three four"))

    reply = oai.chat.completions.create(model="m", messages=HELLO, stop=["three", "four"])

    assert reply.choices[0].message.content == "one two "
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 2


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_truncates_to_n_words(oai: openai.OpenAI, param: str) -> None:
    reply = oai.chat.completions.create(model="m", messages=HELLO, **{param: 2})

    assert reply.choices[0].message.content == "Stand-in reply"
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 2


def test_n_choices(oai: openai.OpenAI) -> None:
    reply = oai.chat.completions.create(model="m", messages=HELLO, n=3)

    assert [c.index for c in reply.choices] == [0, 1, 2]
    assert {c.message.content for c in reply.choices} == {"Stand-in reply to: hello there"}


# chat, streaming ----------------------------------------------------------------------------


def test_stream_with_final_usage_chunk(oai: openai.OpenAI) -> None:
    chunks = list(
        oai.chat.completions.create(
            model="m",
            messages=HELLO,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Stand-in reply to: hello there"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks[:-1]][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (2, 5)
    assert all(c.usage is None for c in chunks[:-1])
    assert len({c.id for c in chunks}) == 1


def test_stream_without_usage_has_no_usage_chunk(oai: openai.OpenAI) -> None:
    chunks = list(oai.chat.completions.create(model="m", messages=HELLO, stream=True))

    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_stream_sends_exact_chunks(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("m", Reply(chunks=["Hel", "lo", " wor", "ld"]))

    chunks = list(oai.chat.completions.create(model="m", messages=HELLO, stream=True))

    assert [c.choices[0].delta.content for c in chunks[1:-1]] == ["Hel", "lo", " wor", "ld"]


def test_stream_is_sse_with_done_marker(server: StandInServer) -> None:
    body = {"model": "m", "messages": HELLO, "stream": True}

    response = httpx.post(server.openai_base + "/chat/completions", json=body)

    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    assert all(event.startswith("data: ") for event in events[:-1])


# tools ----------------------------------------------------------------------------------------


def test_scripted_tool_call(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("m", Reply(tool_calls=[ToolCall("get_weather", {"city": "Paris"})]))

    reply = oai.chat.completions.create(model="m", messages=HELLO, tools=[WEATHER_TOOL])

    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    [call] = choice.message.tool_calls
    assert call.type == "function"
    assert call.id.startswith("call_standin_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}


def test_brain_calls_the_tool_the_user_asks_for(oai: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "What's the weather in Paris for 3 days?"}]

    reply = oai.chat.completions.create(model="m", messages=messages, tools=[WEATHER_TOOL])

    [call] = reply.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "days": 3}


def test_streamed_tool_call_arguments_reassemble(server: StandInServer, oai: openai.OpenAI) -> None:
    arguments = {"city": "Paris", "days": 3, "units": "metric"}
    server.enqueue("m", Reply(tool_calls=[ToolCall("get_weather", arguments), ToolCall("get_time", {})]))

    stream = oai.chat.completions.create(model="m", messages=HELLO, tools=[WEATHER_TOOL], stream=True)
    deltas = [tc for chunk in stream for tc in (chunk.choices[0].delta.tool_calls or [])]

    weather = [d for d in deltas if d.index == 0]
    assert weather[0].id is not None and weather[0].function is not None
    assert weather[0].function.name == "get_weather"
    assert all(d.id is None and d.function is not None and d.function.name is None for d in weather[1:])
    assert len(weather) > 2
    assert json.loads("".join(d.function.arguments or "" for d in weather if d.function)) == arguments
    time_call = [d for d in deltas if d.index == 1]
    assert time_call[0].function is not None and time_call[0].function.name == "get_time"
    assert json.loads("".join(d.function.arguments or "" for d in time_call if d.function)) == {}


def test_tool_result_is_answered_with_its_content(oai: openai.OpenAI) -> None:
    messages: Any = [
        {"role": "user", "content": "weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny, 21C"},
    ]

    reply = oai.chat.completions.create(model="m", messages=messages, tools=[WEATHER_TOOL])

    assert reply.choices[0].message.content == "Tool result: sunny, 21C"
    assert reply.choices[0].finish_reason == "stop"


def test_tool_choice_named_forces_that_tool(oai: openai.OpenAI) -> None:
    other: Any = {"type": "function", "function": {"name": "noop", "parameters": {"type": "object"}}}

    reply = oai.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "Hello!"}],
        tools=[other, WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )

    [call] = reply.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "example", "days": 1}


# structured output ----------------------------------------------------------------------------


class Address(BaseModel):
    street: str
    zip_code: int


class Person(BaseModel):
    name: str
    age: int
    tier: Literal["gold", "silver"]
    addresses: list[Address]
    nickname: str | None = None


def test_json_schema_answer_parses_into_the_model(oai: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Describe 'Ada', aged 36"}]

    reply = oai.chat.completions.parse(model="m", messages=messages, response_format=Person)

    parsed = reply.choices[0].message.parsed
    assert isinstance(parsed, Person)
    assert (parsed.name, parsed.age, parsed.tier) == ("Ada", 36, "gold")
    assert len(parsed.addresses) == 1


def test_json_object_answer_uses_the_quoted_keys(oai: openai.OpenAI) -> None:
    content = "Tell me a joke. Return JSON with 'setup' and 'punchline' keys."

    reply = oai.chat.completions.create(
        model="m", messages=[{"role": "user", "content": content}], response_format={"type": "json_object"}
    )

    assert json.loads(reply.choices[0].message.content or "") == {"setup": "example", "punchline": "example"}


# embeddings -----------------------------------------------------------------------------------


def test_embeddings_sdk_default_is_base64_and_decodes(server: StandInServer, oai: openai.OpenAI) -> None:
    result = oai.embeddings.create(model="standin-embed", input=["alpha", "beta gamma"])

    assert server.last_request is not None
    assert server.last_request.body["encoding_format"] == "base64"
    assert [d.index for d in result.data] == [0, 1]
    assert result.data[0].embedding == embed("alpha")
    assert result.data[1].embedding == embed("beta gamma")
    assert len(result.data[0].embedding) == 16
    assert math.isclose(sum(v * v for v in result.data[0].embedding), 1.0, rel_tol=1e-5)
    assert (result.usage.prompt_tokens, result.usage.total_tokens) == (3, 3)
    assert result.model == "standin-embed"


def test_embeddings_float_equals_base64_and_dimensions_honoured(oai: openai.OpenAI) -> None:
    as_float = oai.embeddings.create(model="e", input="alpha", encoding_format="float")
    as_base64 = oai.embeddings.create(model="e", input="alpha")
    small = oai.embeddings.create(model="e", input="alpha", dimensions=8, encoding_format="float")

    assert as_float.data[0].embedding == as_base64.data[0].embedding
    assert len(small.data[0].embedding) == 8
    assert math.isclose(sum(v * v for v in small.data[0].embedding), 1.0, rel_tol=1e-5)
    assert oai.embeddings.create(model="e", input="beta").data[0].embedding != as_float.data[0].embedding


def test_scripted_embedding(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("e", Reply(embedding=[0.5, 0.25, 0.125]))

    result = oai.embeddings.create(model="e", input=["a", "b"], encoding_format="float")

    assert [d.embedding for d in result.data] == [[0.5, 0.25, 0.125], [0.5, 0.25, 0.125]]


# scripts, history, models, misc -------------------------------------------------------------


def test_script_is_persistent_and_none_means_default(server: StandInServer, oai: openai.OpenAI) -> None:
    def script(request: Any) -> Reply | None:
        last = request.body["messages"][-1]["content"]
        return Reply(text=f"scripted: {last}") if "script" in last else None

    server.script("model-b", script)

    scripted = [
        oai.chat.completions.create(model="model-b", messages=[{"role": "user", "content": f"script {i}"}])
        for i in range(2)
    ]
    plain = oai.chat.completions.create(model="model-b", messages=HELLO)

    assert [r.choices[0].message.content for r in scripted] == ["scripted: script 0", "scripted: script 1"]
    assert plain.choices[0].message.content == "Stand-in reply to: hello there"


def test_queue_wins_over_script(server: StandInServer, oai: openai.OpenAI) -> None:
    server.script("m", lambda request: Reply(text="from script"))
    server.enqueue("m", Reply(text="from queue"))

    first, second = (oai.chat.completions.create(model="m", messages=HELLO) for _ in range(2))

    assert first.choices[0].message.content == "from queue"
    assert second.choices[0].message.content == "from script"


def test_failing_script_gives_a_500_naming_it(server: StandInServer, oai: openai.OpenAI) -> None:
    def broken(request: Any) -> Reply:
        raise RuntimeError("boom")

    server.script("m", broken)

    with pytest.raises(openai.InternalServerError) as caught:
        oai.chat.completions.create(model="m", messages=HELLO)

    assert caught.value.status_code == 500
    assert "stand-in script for 'm' raised RuntimeError: boom" in str(caught.value)


def test_requests_history_records_bodies(server: StandInServer, oai: openai.OpenAI) -> None:
    oai.chat.completions.create(model="m", messages=HELLO, temperature=0.2)
    list(oai.chat.completions.create(model="m", messages=HELLO, stream=True))
    oai.embeddings.create(model="e", input="x")

    requests = server.requests
    assert [(r.api, r.model, r.stream) for r in requests] == [
        ("openai-chat", "m", False),
        ("openai-chat", "m", True),
        ("openai-embeddings", "e", False),
    ]
    assert requests[0].body["messages"] == HELLO
    assert requests[0].body["temperature"] == 0.2
    assert requests[0].path == "/v1/chat/completions"
    assert requests[0].headers["authorization"] == "Bearer sk-test"
    assert "sk-test" not in repr(requests[0])
    assert server.last_request == requests[-1]


def test_reset_clears_queues_scripts_and_history(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("m", Reply(text="queued"))
    server.script("m", lambda request: Reply(text="scripted"))
    server.reset()

    reply = oai.chat.completions.create(model="m", messages=HELLO)

    assert reply.choices[0].message.content == "Stand-in reply to: hello there"
    assert len(server.requests) == 1


def test_models_lists_seen_and_scripted_models(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("queued-model", Reply(text="x"))
    server.script("scripted-model", lambda request: None)
    oai.chat.completions.create(model="seen-model", messages=HELLO)

    assert [m.id for m in oai.models.list()] == ["queued-model", "scripted-model", "seen-model"]
    assert oai.models.retrieve("seen-model").id == "seen-model"


def test_health(server: StandInServer) -> None:
    response = httpx.get(server.url + "/health")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_unknown_path_and_bad_body(server: StandInServer) -> None:
    missing = httpx.post(server.openai_base + "/nope", json={})
    not_json = httpx.post(server.openai_base + "/chat/completions", content=b"{nope")
    no_model = httpx.post(server.openai_base + "/chat/completions", json={"messages": HELLO})

    assert missing.status_code == 404
    assert (not_json.status_code, not_json.json()["error"]["type"]) == (400, "invalid_request_error")
    assert no_model.json()["error"]["message"] == "You must provide a model parameter."


def test_required_api_key() -> None:
    with StandInServer(api_key="sk-right") as server:
        wrong = openai.OpenAI(api_key="sk-wrong", base_url=server.openai_base, max_retries=0)
        with wrong, pytest.raises(openai.AuthenticationError):
            wrong.chat.completions.create(model="m", messages=HELLO)
        with openai.OpenAI(api_key="sk-right", base_url=server.openai_base, max_retries=0) as right:
            assert right.chat.completions.create(model="m", messages=HELLO).choices


async def test_200_concurrent_async_requests(server: StandInServer, aoai: openai.AsyncOpenAI) -> None:
    async def ask(i: int) -> str | None:
        reply = await aoai.chat.completions.create(model="m", messages=[{"role": "user", "content": f"n {i}"}])
        return reply.choices[0].message.content

    answers = await asyncio.gather(*(ask(i) for i in range(200)))

    assert answers == [f"Stand-in reply to: n {i}" for i in range(200)]
    assert len(server.requests) == 200


def test_chat_config_points_at_the_server(server: StandInServer) -> None:
    config = server.chat_config(model="chat-x", embedding_model="embed-x")

    assert config["providers"]["standin"] == {"kind": "openai", "api_base": server.openai_base, "env_key": None}
    assert config["providers"]["standin-anthropic"]["api_base"] == server.url
    assert config["roles"]["llm.inference"] == {"provider": "standin", "model": "chat-x", "mode": "chat"}
    assert config["roles"]["llm.embedding"] == {"provider": "standin", "model": "embed-x", "mode": "embedding"}


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="400-599"):
        Fault(status=200)
    with pytest.raises(ValueError, match="delay"):
        Fault(delay=-1)
    with pytest.raises(TypeError, match="Reply or Fault"):
        StandInServer().enqueue("m", "hello")
