"""RoleLLM: chat and completion (sync, async, streaming), metadata, params, messages, tools."""

from __future__ import annotations

import json

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool

from llama_index.llms.llmhub import RoleLLM
from llmhub_runtime import LLMHub
from llmhub_runtime.testing import Reply, StandInServer, ToolCall

USER = [ChatMessage(role=MessageRole.USER, content="say hello from llama")]


def test_is_a_function_calling_llm(config_path: str) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path)
    assert isinstance(llm, FunctionCallingLLM)
    assert RoleLLM.class_name() == "llmhub_role_llm"


def test_chat(config_path: str, server: StandInServer) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path)
    response = llm.chat(USER)
    assert type(response) is ChatResponse
    assert response.message.role == MessageRole.ASSISTANT
    assert response.message.content == "hello from llama"
    assert response.additional_kwargs == {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}
    assert response.raw.model == "standin-chat"
    [request] = server.requests
    assert request.model == "standin-chat"
    assert request.stream is False
    assert request.body["messages"] == [{"role": "user", "content": "say hello from llama"}]


def test_complete(config_path: str, server: StandInServer) -> None:
    response = RoleLLM("llm.inference", config_path=config_path).complete("say done")
    assert type(response) is CompletionResponse
    assert response.text == "done"
    assert server.requests[0].body["messages"] == [{"role": "user", "content": "say done"}]


async def test_achat_and_acomplete(config_path: str, server: StandInServer) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path)
    chat = await llm.achat(USER)
    completion = await llm.acomplete("say async done")
    assert chat.message.content == "hello from llama"
    assert completion.text == "async done"
    assert [r.stream for r in server.requests] == [False, False]


def test_stream_chat_is_cumulative(config_path: str, server: StandInServer) -> None:
    server.enqueue("standin-chat", Reply(chunks=["Hel", "lo ", "wor", "ld"], usage=(5, 2)))
    responses = list(RoleLLM("llm.inference", config_path=config_path).stream_chat(USER))
    texts = [r.message.content for r in responses]
    deltas = [r.delta for r in responses]
    assert "".join(deltas) == "Hello world"
    assert texts[-1] == "Hello world"
    assert [t for t in texts if t] == ["Hel", "Hello ", "Hello wor", "Hello world", "Hello world", "Hello world"]
    assert responses[-1].additional_kwargs == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    assert server.requests[0].stream is True
    assert server.requests[0].body["stream_options"] == {"include_usage": True}


def test_stream_complete(config_path: str) -> None:
    responses = list(RoleLLM("llm.inference", config_path=config_path).stream_complete("say one two three"))
    assert responses[-1].text == "one two three"
    assert "".join(r.delta or "" for r in responses) == "one two three"
    assert all(type(r) is CompletionResponse for r in responses)


async def test_astream_chat_and_complete(config_path: str, server: StandInServer) -> None:
    server.enqueue("standin-chat", Reply(chunks=["a", "b", "c"]))
    llm = RoleLLM("llm.inference", config_path=config_path)
    chat = [r async for r in await llm.astream_chat(USER)]
    completion = [r async for r in await llm.astream_complete("say x y")]
    assert chat[-1].message.content == "abc"
    assert "".join(r.delta or "" for r in chat) == "abc"
    assert completion[-1].text == "x y"
    assert [r.stream for r in server.requests] == [True, True]


def test_abandoned_stream_is_closed(config_path: str, server: StandInServer) -> None:
    server.enqueue("standin-chat", Reply(chunks=["one ", "two ", "three"]))
    stream = RoleLLM("llm.inference", config_path=config_path).stream_chat(USER)
    first = next(stream)
    stream.close()
    assert first.message.role == MessageRole.ASSISTANT
    # The hub is usable afterwards: the abandoned stream released its connection.
    assert RoleLLM("llm.inference", config_path=config_path).complete("say again").text == "again"


def test_system_prompt_goes_first(config_path: str, server: StandInServer) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path, system_prompt="You are terse.")
    assert llm.predict(PromptTemplate("say {word}"), word="ok") == "ok"
    messages = server.requests[0].body["messages"]
    assert messages == [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "say ok"}]


# --- metadata and params ------------------------------------------------------------------------


def test_metadata_from_role_config(config_path: str) -> None:
    metadata = RoleLLM("llm.sized", config_path=config_path).metadata
    assert metadata.context_window == 8192
    assert metadata.num_output == 512
    assert metadata.model_name == "sized-model"
    assert metadata.is_chat_model is True
    assert metadata.is_function_calling_model is True
    assert metadata.system_role == MessageRole.SYSTEM


def test_metadata_defaults_and_overrides(config_path: str) -> None:
    plain = RoleLLM("llm.inference", config_path=config_path).metadata
    assert (plain.context_window, plain.num_output, plain.model_name) == (3900, 256, "standin-chat")
    tuned = RoleLLM(
        "llm.sized", config_path=config_path, context_window=2048, max_tokens=64, is_function_calling_model=False
    ).metadata
    assert (tuned.context_window, tuned.num_output, tuned.is_function_calling_model) == (2048, 64, False)
    assert RoleLLM("llm.sized", config_path=config_path, max_tokens=None).metadata.num_output == 256


def test_overrides_are_call_params(config_path: str, server: StandInServer) -> None:
    llm = RoleLLM("llm.sized", config_path=config_path, temperature=0.25, seed=7)
    assert llm.params_override == {"temperature": 0.25, "seed": 7}
    llm.complete("say a b c")
    body = server.requests[0].body
    assert (body["temperature"], body["seed"], body["max_completion_tokens"]) == (0.25, 7, 512)


def test_none_override_removes_a_role_param(config_path: str, server: StandInServer) -> None:
    RoleLLM("llm.sized", config_path=config_path, temperature=None).complete("say a")
    body = server.requests[0].body
    assert "temperature" not in body
    assert body["max_completion_tokens"] == 512  # any-llm sends OpenAI max_tokens under its new name


def test_call_kwargs_win_over_overrides(config_path: str, server: StandInServer) -> None:
    RoleLLM("llm.inference", config_path=config_path, temperature=0.1).chat(USER, temperature=0.6, stop=["END"])
    body = server.requests[0].body
    assert (body["temperature"], body["stop"]) == (0.6, ["END"])


def test_llamaindex_fields_are_not_params(config_path: str) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path, system_prompt="x", max_tokens=9)
    assert llm.system_prompt == "x"
    assert llm.params_override == {"max_tokens": 9}


def test_models_for_one_config_share_a_hub(config_path: str) -> None:
    from llama_index.embeddings.llmhub import RoleEmbedding

    a = RoleLLM("llm.inference", config_path=config_path)
    b = RoleLLM("llm.sized", config_path=config_path)
    e = RoleEmbedding("llm.embedding", config_path=config_path)
    assert a.hub is b.hub is e.hub is LLMHub.shared(config_path)


def test_default_config_is_llmhub_config_env(use_config: str, server: StandInServer) -> None:
    llm = RoleLLM("llm.inference")
    assert llm.hub is LLMHub.shared(use_config)
    assert llm.complete("say env").text == "env"


def test_explicit_hub(server: StandInServer) -> None:
    with LLMHub(config=server.chat_config(model="own-hub-model")) as hub:
        llm = RoleLLM("llm.inference", hub=hub)
        assert llm.hub is hub
        assert llm.complete("say mine").text == "mine"
    assert server.requests[0].model == "own-hub-model"


# --- messages -----------------------------------------------------------------------------------


def test_message_conversion(config_path: str, server: StandInServer) -> None:
    messages = [
        ChatMessage(role=MessageRole.SYSTEM, content="sys"),
        ChatMessage(
            role=MessageRole.USER,
            blocks=[TextBlock(text="look: "), ImageBlock(url="https://example.com/cat.png", detail="low")],
        ),
        ChatMessage(
            role=MessageRole.ASSISTANT,
            blocks=[
                ThinkingBlock(content="hmm"),
                ToolCallBlock(tool_call_id="call_1", tool_name="multiply", tool_kwargs={"a": 2, "b": 3}),
            ],
        ),
        ChatMessage(role=MessageRole.TOOL, content="6", additional_kwargs={"tool_call_id": "call_1"}),
        ChatMessage(role=MessageRole.CHATBOT, content="six"),
    ]
    RoleLLM("llm.inference", config_path=config_path).chat(messages)
    assert server.requests[0].body["messages"] == [
        {"role": "system", "content": "sys"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look: "},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "multiply", "arguments": '{"a": 2, "b": 3}'}}
            ],
        },
        {"role": "tool", "content": "6", "tool_call_id": "call_1"},
        {"role": "assistant", "content": "six"},
    ]


def test_base64_image(config_path: str, server: StandInServer) -> None:
    image = ImageBlock(image=b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, image_mimetype="image/png")
    RoleLLM("llm.inference", config_path=config_path).chat([ChatMessage(role="user", blocks=[image])])
    [part] = server.requests[0].body["messages"][0]["content"]
    assert part["type"] == "image_url"
    assert part["image_url"]["url"].startswith("data:image/png;base64,iVBORw0KGgo")


# --- tools --------------------------------------------------------------------------------------


def _tool() -> FunctionTool:
    def multiply(a: int, b: int) -> int:
        """Multiply two integers."""
        return a * b

    return FunctionTool.from_defaults(fn=multiply)


def test_chat_with_tools(config_path: str, server: StandInServer) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path)
    response = llm.chat_with_tools([_tool()], user_msg="Please multiply 6 and 7", tool_required=True)
    [selection] = llm.get_tool_calls_from_response(response)
    assert type(selection) is ToolSelection
    assert (selection.tool_name, selection.tool_kwargs) == ("multiply", {"a": 6, "b": 7})
    assert selection.tool_id.startswith("call_standin_")
    body = server.requests[0].body
    assert body["tool_choice"] == "required"
    assert body["parallel_tool_calls"] is False
    assert [t["function"]["name"] for t in body["tools"]] == ["multiply"]
    assert body["tools"][0]["function"]["parameters"]["required"] == ["a", "b"]


def test_named_tool_choice(config_path: str, server: StandInServer) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path)
    llm.chat_with_tools([_tool()], user_msg="hello", tool_choice="multiply")
    assert server.requests[0].body["tool_choice"] == {"type": "function", "function": {"name": "multiply"}}


def test_chat_history_is_not_mutated(config_path: str) -> None:
    history = [ChatMessage(role="user", content="earlier")]
    RoleLLM("llm.inference", config_path=config_path).chat_with_tools([_tool()], user_msg="now", chat_history=history)
    assert len(history) == 1


def test_no_tool_call(config_path: str) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path)
    response = llm.chat_with_tools([_tool()], user_msg="just chatting")
    assert response.message.content == "Stand-in reply to: just chatting"
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="Expected at least one tool call"):
        llm.get_tool_calls_from_response(response)


@pytest.mark.parametrize("parallel", [False, True])
def test_parallel_tool_calls(config_path: str, server: StandInServer, parallel: bool) -> None:
    server.enqueue(
        "standin-chat",
        Reply(tool_calls=[ToolCall("multiply", {"a": 1, "b": 2}), ToolCall("multiply", {"a": 3, "b": 4})]),
    )
    llm = RoleLLM("llm.inference", config_path=config_path)
    response = llm.chat_with_tools([_tool()], user_msg="go", allow_parallel_tool_calls=parallel)
    kwargs = [s.tool_kwargs for s in llm.get_tool_calls_from_response(response)]
    assert kwargs == ([{"a": 1, "b": 2}, {"a": 3, "b": 4}] if parallel else [{"a": 1, "b": 2}])
    assert server.requests[0].body["parallel_tool_calls"] is parallel


async def test_astream_chat_with_tools_joins_arguments(config_path: str) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path)
    stream = await llm.astream_chat_with_tools([_tool()], user_msg="multiply 12 by 5", tool_required=True)
    responses = [r async for r in stream]
    [selection] = llm.get_tool_calls_from_response(responses[-1])
    assert (selection.tool_name, selection.tool_kwargs) == ("multiply", {"a": 12, "b": 5})
    # Partial arguments mid-stream parse without raising (FunctionAgent reads every chunk).
    for response in responses:
        llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
    blocks = [b for b in responses[-1].message.blocks if isinstance(b, ToolCallBlock)]
    assert json.loads(str(blocks[0].tool_kwargs)) == {"a": 12, "b": 5}


def test_malformed_tool_arguments_give_empty_kwargs(config_path: str, server: StandInServer) -> None:
    server.enqueue("standin-chat", Reply(tool_calls=[ToolCall("multiply", "not json at all")]))
    llm = RoleLLM("llm.inference", config_path=config_path)
    response = llm.chat_with_tools([_tool()], user_msg="go")
    [selection] = llm.get_tool_calls_from_response(response)
    assert (selection.tool_name, selection.tool_kwargs) == ("multiply", {})


def test_predict_and_call(config_path: str) -> None:
    llm = RoleLLM("llm.inference", config_path=config_path)
    output = llm.predict_and_call([_tool()], user_msg="multiply 3 and 9", tool_choice="required")
    assert output.response == "27"


# --- reasoning ----------------------------------------------------------------------------------


def test_reasoning_becomes_a_thinking_block() -> None:
    """any-llm's ``reasoning`` (non-stream and stream) maps to ThinkingBlock / ``thinking_delta``."""
    from any_llm.types.completion import ChatCompletion, ChatCompletionChunk

    from llama_index.llms.llmhub.utils import StreamAccumulator, chat_response_from_completion

    completion = ChatCompletion.model_validate(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "42", "reasoning": "six times seven"},
                }
            ],
        }
    )
    message = chat_response_from_completion(completion).message
    assert [type(b) for b in message.blocks] == [ThinkingBlock, TextBlock]
    assert (message.blocks[0].content, message.content) == ("six times seven", "42")  # type: ignore[union-attr]

    accumulator = StreamAccumulator()
    responses = [
        accumulator.add(
            ChatCompletionChunk.model_validate(
                {
                    "id": "c2",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "m",
                    "choices": [{"index": 0, "delta": delta}],
                }
            )
        )
        for delta in ({"role": "assistant", "reasoning": "six "}, {"reasoning": "sevens"}, {"content": "42"})
    ]
    assert [r.additional_kwargs.get("thinking_delta") for r in responses] == ["six ", "sevens", None]
    final = responses[-1].message
    assert final.blocks[0] == ThinkingBlock(content="six sevens")
    assert (final.content, responses[-1].delta) == ("42", "42")
