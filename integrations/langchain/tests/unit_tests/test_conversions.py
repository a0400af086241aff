"""any-llm (OpenAI-format) answers → LangChain messages, built from any-llm's own types."""

from __future__ import annotations

from typing import Any

import pytest
from any_llm.types.completion import ChatCompletion, ChatCompletionChunk, CompletionUsage
from langchain_core.messages import AIMessageChunk
from llmhub_runtime.errors import ProviderServerError

from langchain_llmhub import RoleChatModel
from langchain_llmhub.chat_models import (
    _convert_chunk_to_generation_chunk,
    _convert_dict_to_message,
    _create_usage_metadata,
    _StreamState,
)


def chunk(
    delta: dict[str, Any] | None = None, *, finish: str | None = None, usage: dict[str, Any] | None = None
) -> Any:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return ChatCompletionChunk.model_validate(
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m-1",
            "choices": choices,
            "usage": usage,
        }
    )


def test_tool_calls_parse_and_bad_json_becomes_an_invalid_tool_call() -> None:
    message = _convert_dict_to_message(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
                {"id": "b", "type": "function", "function": {"name": "g", "arguments": ""}},
                {"id": "c", "type": "function", "function": {"name": "h", "arguments": "{oops"}},
            ],
        }
    )
    assert message.content == ""
    assert [(call["id"], call["name"], call["args"]) for call in message.tool_calls] == [
        ("a", "f", {"x": 1}),
        ("b", "g", {}),
    ]
    assert [(call["id"], call["name"], call["args"]) for call in message.invalid_tool_calls] == [("c", "h", "{oops")]


def test_reasoning_and_refusal_go_to_additional_kwargs() -> None:
    message = _convert_dict_to_message(
        {"role": "assistant", "content": "42", "reasoning": {"content": "6 times 7"}, "refusal": "no"}
    )
    assert message.additional_kwargs == {"reasoning_content": "6 times 7", "refusal": "no"}


def test_usage_details_are_kept_when_reported() -> None:
    usage = CompletionUsage.model_validate(
        {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 4},
            "completion_tokens_details": {"reasoning_tokens": 2},
        }
    )
    assert _create_usage_metadata(usage) == {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 4},
        "output_token_details": {"reasoning": 2},
    }


def test_empty_chunks_are_dropped_and_tool_call_fragments_kept() -> None:
    assert _convert_chunk_to_generation_chunk(chunk({"role": "assistant", "content": ""})) is None
    assert (
        _convert_chunk_to_generation_chunk(
            chunk(None, usage={"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1})
        )
        is None
    )
    fragment = _convert_chunk_to_generation_chunk(
        chunk({"tool_calls": [{"index": 0, "id": "t", "function": {"name": "f", "arguments": '{"a"'}}]})
    )
    assert fragment is not None
    assert isinstance(fragment.message, AIMessageChunk)
    assert fragment.message.tool_call_chunks == [
        {"name": "f", "args": '{"a"', "id": "t", "index": 0, "type": "tool_call_chunk"}
    ]
    thinking = _convert_chunk_to_generation_chunk(chunk({"reasoning": {"content": "hmm"}}))
    assert thinking is not None
    assert thinking.message.additional_kwargs == {"reasoning_content": "hmm"}


def test_stream_state_names_the_model_once_and_reports_the_last_usage_once() -> None:
    state = _StreamState()
    sent = [
        state.convert(chunk({"content": "a"}, usage={"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4})),
        state.convert(chunk({"content": "b"})),
        state.convert(chunk({}, finish="stop")),
        state.convert(chunk(None, usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5})),
        state.finish(),
    ]
    generations = [generation for generation in sent if generation is not None]
    assert [g.text for g in generations] == ["a", "b", "", ""]
    assert [(g.generation_info or {}).get("model_name") for g in generations] == ["m-1", None, None, None]
    assert [(g.generation_info or {}).get("finish_reason") for g in generations] == [None, None, "stop", None]
    usages = [g.message.usage_metadata for g in generations if isinstance(g.message, AIMessageChunk)]
    assert [u for u in usages if u] == [{"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}]


def test_a_stream_without_usage_adds_no_closing_chunk() -> None:
    state = _StreamState()
    state.convert(chunk({"content": "a"}))
    assert state.finish() is None


def test_an_answer_without_choices_is_a_provider_failure() -> None:
    empty = ChatCompletion.model_validate(
        {"id": "x", "object": "chat.completion", "created": 0, "model": "m-1", "choices": []}
    )
    with pytest.raises(ProviderServerError, match="m-1 answered with no choices") as caught:
        RoleChatModel("llm.inference")._format_output(empty)
    assert caught.value.role == "llm.inference"
