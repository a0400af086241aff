"""Malformed ``tool_calls`` in a request: the stand-in answers 400 with OpenAI's error body, as OpenAI does.

(It used to drop the connection, which clients see as a network failure and retry.)
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

from llmhub_runtime import LLMHub
from llmhub_runtime.errors import BadRequestError
from llmhub_runtime.testing import Reply, StandInServer


def _assistant(tool_calls: Any) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": tool_calls},
        {"role": "user", "content": "and now?"},
    ]


GOOD_CALL: dict[str, Any] = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
}

CASES = [
    pytest.param(
        "not-a-list",
        "messages[1].tool_calls",
        "invalid_type",
        "Invalid type for 'messages[1].tool_calls': expected an array of objects, but got a string instead.",
        id="string",
    ),
    pytest.param(
        [42],
        "messages[1].tool_calls[0]",
        "invalid_type",
        "Invalid type for 'messages[1].tool_calls[0]': expected an object, but got an integer instead.",
        id="item-not-object",
    ),
    pytest.param(
        [{**GOOD_CALL, "function": "get_weather"}],
        "messages[1].tool_calls[0].function",
        "invalid_type",
        "Invalid type for 'messages[1].tool_calls[0].function': expected an object, but got a string instead.",
        id="function-not-object",
    ),
    pytest.param(
        [{"type": "function", "function": GOOD_CALL["function"]}],
        "messages[1].tool_calls[0].id",
        "missing_required_parameter",
        "Missing required parameter: 'messages[1].tool_calls[0].id'.",
        id="no-id",
    ),
    pytest.param(
        [{**GOOD_CALL, "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}],
        "messages[1].tool_calls[0].function.arguments",
        "invalid_type",
        "Invalid type for 'messages[1].tool_calls[0].function.arguments': expected a string, but got an object instead.",
        id="arguments-not-string",
    ),
    pytest.param(
        [{**GOOD_CALL, "type": "tool"}],
        "messages[1].tool_calls[0].type",
        "invalid_value",
        "Invalid value: 'tool'. Supported values are: 'function'.",
        id="bad-type",
    ),
]


@pytest.mark.parametrize(("tool_calls", "param", "code", "message"), CASES)
def test_malformed_tool_calls_are_a_400_with_an_openai_error_body(
    server: StandInServer, oai: openai.OpenAI, tool_calls: Any, param: str, code: str, message: str
) -> None:
    server.enqueue("m", Reply(text="kept for the next good request"))
    with pytest.raises(openai.BadRequestError) as info:
        oai.chat.completions.create(model="m", messages=_assistant(tool_calls))
    assert info.value.status_code == 400
    assert info.value.body == {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    assert len(server.requests) == 1
    # The refused request took nothing from the model's queue, and the connection still serves.
    reply = oai.chat.completions.create(model="m", messages=_assistant([GOOD_CALL]))
    assert reply.choices[0].message.content == "kept for the next good request"


def test_well_formed_tool_calls_still_reach_the_brain(server: StandInServer, oai: openai.OpenAI) -> None:
    reply = oai.chat.completions.create(
        model="m",
        messages=[*_assistant([GOOD_CALL])[:2], {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}],
    )
    assert reply.choices[0].message.content == "Tool result: sunny"


def test_through_the_hub_it_is_a_bad_request_sent_once(server: StandInServer) -> None:
    config = server.chat_config()
    config["roles"]["llm.inference"]["retry"] = {"max_attempts": 3}
    with LLMHub(config=config) as hub, pytest.raises(BadRequestError) as info:
        hub.completion("llm.inference", _assistant([{"id": "c", "type": "function", "function": {"name": 7}}]))
    error = info.value
    assert error.status_code == 400
    assert error.attempts == 1
    assert "Invalid type for 'messages[1].tool_calls[0].function.name': expected a string" in error.message
    assert len(server.requests) == 1
