"""The default brain, the schema instance generator and the answer shaping, without HTTP."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, TypeAdapter

from llmhub_runtime.testing import Reply, ToolCall
from llmhub_runtime.testing.brain import answer, text_reply
from llmhub_runtime.testing.conversation import (
    Conversation,
    Message,
    ToolSpec,
    count_tokens,
    shape_answer,
    split_stream_pieces,
)
from llmhub_runtime.testing.embeddings import embed, encode_base64
from llmhub_runtime.testing.schema_instance import Hints, hints_from_text, instance_for

MAGIC = ToolSpec(
    "magic_function",
    "Apply a magic function to an input.",
    {
        "type": "object",
        "properties": {"input": {"type": "integer", "exclusiveMinimum": -1000, "exclusiveMaximum": 1000}},
        "required": ["input"],
    },
)
WEATHER = ToolSpec(
    "get_weather",
    "Get the weather at a location.",
    {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
)


def conversation(*messages: Message, **kwargs: Any) -> Conversation:
    return Conversation(model="m", messages=messages, **kwargs)


def user(text: str) -> Message:
    return Message("user", text)


# text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello   there\n", "Stand-in reply to: hello there"),
        ("", "Stand-in reply."),
        ('Say "pong"', "pong"),
        ("Repeat after me: the cat sat.", "the cat sat"),
        ("reply with OK", "OK"),
    ],
)
def test_text_reply(text: str, expected: str) -> None:
    assert text_reply(text) == expected


def test_answer_uses_the_last_user_message() -> None:
    reply = answer(conversation(Message("system", "sys"), user("first"), Message("assistant", "x"), user("second")))

    assert reply == Reply(text="Stand-in reply to: second")


# tools --------------------------------------------------------------------------------------


def test_tool_named_in_the_question_is_called_with_its_number() -> None:
    question = user("What is the value of magic_function(3)? Use the tool.")

    reply = answer(conversation(question, tools=(WEATHER, MAGIC)))

    assert reply.tool_calls == [ToolCall("magic_function", {"input": 3})]


def test_description_word_selects_the_tool_and_capitalised_words_fill_strings() -> None:
    reply = answer(conversation(user("What is the weather in San Francisco, CA?"), tools=(MAGIC, WEATHER)))

    assert reply.tool_calls == [ToolCall("get_weather", {"location": "San Francisco, CA"})]


def test_no_match_means_text_when_auto() -> None:
    assert answer(conversation(user("Hello!"), tools=(MAGIC, WEATHER))).text == "Stand-in reply to: Hello!"


def test_required_choice_calls_the_first_tool_without_a_match() -> None:
    reply = answer(conversation(user("Hello!"), tools=(MAGIC, WEATHER), tool_choice="required"))

    assert reply.tool_calls == [ToolCall("magic_function", {"input": 1})]


def test_named_choice_and_none_choice() -> None:
    named = answer(
        conversation(user("magic_function(3)"), tools=(MAGIC, WEATHER), tool_choice="named", forced_tool="get_weather")
    )
    none = answer(conversation(user("magic_function(3)"), tools=(MAGIC,), tool_choice="none"))

    assert named.tool_calls == [ToolCall("get_weather", {"location": "example"})]
    assert none.text == "Stand-in reply to: magic_function(3)"


def test_tool_results_are_echoed() -> None:
    call = ToolCall("magic_function", {"input": 3}, "c1")
    reply = answer(
        conversation(
            user("magic_function(3)?"),
            Message("assistant", "", tool_calls=(call,)),
            Message("tool", "5", tool_call_id="c1"),
            Message("tool", "6", tool_call_id="c2"),
            tools=(MAGIC,),
        )
    )

    assert reply.text == "Tool result: 5; 6"


def test_tool_without_parameters_gets_empty_arguments() -> None:
    tool = ToolSpec("magic_function_no_args", "Calculate a magic function.", {})

    reply = answer(conversation(user("What is magic_function_no_args()? Use the tool."), tools=(tool,)))

    assert reply.tool_calls == [ToolCall("magic_function_no_args", {})]


def test_react_format() -> None:
    system = Message(
        "system",
        "You have access to the following tools:\n"
        "> Tool Name: multiply\nTool Description: multiply(a, b)\nMultiply two numbers\n"
        'Tool Args: {"properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}\n'
        "Action: tool name\nAction Input: the input to the tool",
    )

    action = answer(conversation(system, user("What is 12 * 4? multiply them")))
    final = answer(conversation(system, user("What is 12 * 4?"), Message("assistant", "..."), user("Observation: 48")))
    plain = answer(conversation(system, user("Hi")))

    assert action.text == (
        "Thought: I need to use a tool to help me answer the question.\n"
        'Action: multiply\nAction Input: {"a": 12.0, "b": 4.0}'
    )
    assert final.text is not None and final.text.endswith("\nAnswer: Tool result: 48")
    assert plain.text is not None and plain.text.endswith("\nAnswer: Stand-in reply to: Hi")


# structured output --------------------------------------------------------------------------


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Item(BaseModel):
    sku: str = Field(min_length=8, max_length=10)
    quantity: int = Field(ge=5, le=9)
    price: float = Field(gt=0, multiple_of=0.5)


class Order(BaseModel):
    kind: Literal["order"]
    colour: Colour
    items: list[Item] = Field(min_length=2)
    note: str | None = None
    gift: bool
    tags: tuple[str, int]
    meta: dict[str, int]
    contact: Item | int


def test_instance_validates_against_a_rich_pydantic_schema() -> None:
    value = instance_for(Order.model_json_schema())

    order = Order.model_validate(value)
    assert order.kind == "order"
    assert order.colour is Colour.RED
    assert len(order.items) == 2
    assert order.items[0].quantity == 5
    assert order.note is None
    assert order.gift is True


def test_instance_uses_hints_in_order() -> None:
    schema = TypeAdapter(dict[str, Any]).json_schema() | {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "number"},
            "c": {"type": "string"},
            "d": {"type": "string"},
        },
    }

    value = instance_for(schema, hints_from_text("Add 2 and 3.5 for 'Ada' please"))

    assert value == {"a": 2, "b": 3.5, "c": "Ada", "d": "example"}


def test_ref_const_default_and_formats() -> None:
    schema = {
        "$defs": {"Inner": {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"}}}},
        "type": "object",
        "properties": {
            "inner": {"$ref": "#/$defs/Inner"},
            "fixed": {"const": 42},
            "level": {"type": "string", "default": "info"},
            "either": {"oneOf": [{"type": "null"}, {"type": "boolean"}]},
            "many": {"type": ["null", "array"], "items": {"type": "integer"}, "minItems": 3},
        },
    }

    assert instance_for(schema, Hints()) == {
        "inner": {"when": "2024-01-01T00:00:00Z"},
        "fixed": 42,
        "level": "info",
        "either": True,
        "many": [1, 1, 1],
    }


def test_json_schema_and_json_object_answers() -> None:
    schema = {"type": "object", "properties": {"setup": {"type": "string"}}, "required": ["setup"]}
    question = user("Tell me a joke. Return JSON with 'setup' and 'punchline' keys.")

    structured = answer(conversation(question, response_schema=schema))
    json_mode = answer(conversation(question, json_object=True))
    no_keys = answer(conversation(user("hi"), json_object=True))

    assert json.loads(structured.text or "") == {"setup": "setup"}  # quoted text fills strings, in order
    assert json.loads(json_mode.text or "") == {"setup": "example", "punchline": "example"}
    assert json.loads(no_keys.text or "") == {"answer": "Stand-in reply to: hi"}


# shaping, tokens, embeddings ----------------------------------------------------------------


def _ids() -> str:
    return "id-1"


def test_tokens_are_whitespace_words() -> None:
    assert count_tokens("  one two\nthree\t") == 3
    assert split_stream_pieces("Stand-in reply to: hi ") == ["Stand-in", " reply", " to:", " hi "]
    assert "".join(split_stream_pieces(" a  b ")) == " a  b "


def test_shape_answer_counts_and_cuts() -> None:
    convo = conversation(Message("system", "be kind"), user("hello there"))

    full = shape_answer(convo, Reply(text="a b c d"), new_call_id=_ids)
    stopped = shape_answer(convo, Reply(text="a b c d"), stop=["c", "b"], new_call_id=_ids)
    cut = shape_answer(convo, Reply(text="a  b c d"), max_tokens=2, new_call_id=_ids)
    calls = shape_answer(convo, Reply(tool_calls=[ToolCall("f", {"x": 1})]), new_call_id=_ids)

    assert (full.prompt_tokens, full.completion_tokens, full.finish_reason) == (4, 4, "stop")
    assert (stopped.text, stopped.stop_sequence, stopped.finish_reason) == ("a ", "b", "stop")
    assert (cut.text, cut.finish_reason, cut.completion_tokens) == ("a  b", "length", 2)
    assert (calls.finish_reason, calls.tool_calls[0].id, calls.completion_tokens) == ("tool_calls", "id-1", 2)


def test_embeddings_are_deterministic_unit_vectors() -> None:
    first = embed("hello")

    assert first == embed("hello")
    assert first != embed("hello!")
    assert len(embed("hello", 5)) == 5
    assert abs(sum(v * v for v in first) - 1.0) < 1e-6
    assert encode_base64([1.0]) == "AACAPw=="
    with pytest.raises(ValueError, match="dimensions"):
        embed("x", 0)
