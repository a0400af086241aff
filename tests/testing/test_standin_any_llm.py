"""any-llm's own providers accept what the stand-in sends (the path llmhub takes)."""

from __future__ import annotations

import json
from typing import Any

from any_llm import AnyLLM
from pydantic import BaseModel

from llmhub_runtime.testing import Reply, StandInServer
from llmhub_runtime.testing.embeddings import embed

HELLO: Any = [{"role": "user", "content": "hello there"}]


class Weather(BaseModel):
    city: str
    temperature: int


async def test_openai_provider_completion_stream_and_embedding(server: StandInServer) -> None:
    llm = AnyLLM.create("openai", api_key="x", api_base=server.openai_base, max_retries=0)
    server.enqueue("m", Reply(text="from the queue", usage=(9, 3)))

    reply = await llm.acompletion(model="m", messages=HELLO)
    stream = await llm.acompletion(model="m", messages=HELLO, stream=True, stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    vectors = await llm.aembedding(model="e", inputs=["alpha", "beta"])

    assert reply.choices[0].message.content == "from the queue"
    assert reply.usage is not None and reply.usage.total_tokens == 12
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Stand-in reply to: hello there"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5
    assert [d.embedding for d in vectors.data] == [embed("alpha"), embed("beta")]


def test_openai_provider_tools_and_structured_output(server: StandInServer) -> None:
    llm = AnyLLM.create("openai", api_key="x", api_base=server.openai_base, max_retries=0)
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }

    called = llm.completion(model="m", messages=[{"role": "user", "content": "weather in Rome?"}], tools=[tool])
    parsed = llm.completion(
        model="m", messages=[{"role": "user", "content": "Weather in 'Rome' at 24 degrees"}], response_format=Weather
    )

    [call] = called.choices[0].message.tool_calls or []
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Rome"})
    assert parsed.choices[0].message.parsed == Weather(city="Rome", temperature=24)


def test_anthropic_provider_completion_and_stream(server: StandInServer) -> None:
    llm = AnyLLM.create("anthropic", api_key="x", api_base=server.anthropic_base, max_retries=0)
    messages = [{"role": "system", "content": "Be brief."}, *HELLO]

    reply = llm.completion(model="claude-x", messages=messages)
    chunks = list(llm.completion(model="claude-x", messages=messages, stream=True))

    assert reply.choices[0].message.content == "Stand-in reply to: hello there"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (4, 5)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Stand-in reply to: hello there"
    assert server.last_request is not None
    assert server.last_request.body["system"] == "Be brief."
    assert [r.stream for r in server.requests] == [False, True]


def test_anthropic_provider_structured_output(server: StandInServer) -> None:
    llm = AnyLLM.create("anthropic", api_key="x", api_base=server.anthropic_base, max_retries=0)

    reply = llm.completion(
        model="claude-x", messages=[{"role": "user", "content": "Weather in 'Rome' at 24"}], response_format=Weather
    )

    assert server.last_request is not None
    assert server.last_request.body["output_config"]["format"]["type"] == "json_schema"
    assert reply.choices[0].message.parsed == Weather(city="Rome", temperature=24)
