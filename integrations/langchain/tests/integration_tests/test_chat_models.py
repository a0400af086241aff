"""RoleChatModel end to end: LangChain → hub → any-llm → real SDKs → loopback stand-in.

Roles (tests/conftest.py): llm.inference → standin-chat, llm.alt → standin-alt, llm.anthropic →
claude-standin over Anthropic's wire, llm.fallback → standin-primary then standin-backup,
llm.tuned → standin-tuned with params, llm.scripted → standin-scripted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import ConfigurableField
from langchain_core.tools import tool
from llmhub_runtime import LLMHub
from llmhub_runtime.errors import (
    AuthenticationError,
    LLMHubError,
    ModeMismatchError,
    ProviderServerError,
    RateLimitError,
    StreamInterruptedError,
)
from llmhub_runtime.testing import Fault, Reply, StandInServer
from pydantic import BaseModel

from langchain_llmhub import RoleChatModel, RoleEmbeddings

ROLES_AND_MODELS = [("llm.inference", "standin-chat"), ("llm.anthropic", "claude-standin")]


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class Person(BaseModel):
    name: str
    age: int


def chat_bodies(server: StandInServer) -> list[dict[str, Any]]:
    return [request.body for request in server.requests if request.api == "openai-chat"]


# --- chains, tools, structured output -----------------------------------------------------------


def test_lcel_chain(server: StandInServer) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "Be terse."), ("human", "Say {words}")])
    chain = prompt | RoleChatModel("llm.inference") | StrOutputParser()
    assert chain.invoke({"words": "hello there"}) == "hello there"
    assert "".join(chain.stream({"words": "streamed words"})) == "streamed words"
    assert chain.batch([{"words": "one"}, {"words": "two"}]) == ["one", "two"]
    assert chat_bodies(server)[0]["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Say hello there"},
    ]
    assert [body["model"] for body in chat_bodies(server)] == ["standin-chat"] * 4


@pytest.mark.parametrize(("role", "model"), ROLES_AND_MODELS)
def test_tool_calling_loop(server: StandInServer, role: str, model: str) -> None:
    llm = RoleChatModel(role).bind_tools([add])
    messages: list[BaseMessage] = [HumanMessage("Use add to add 2 and 3.")]
    first = llm.invoke(messages)
    assert isinstance(first, AIMessage)
    assert [(call["name"], call["args"]) for call in first.tool_calls] == [("add", {"a": 2, "b": 3})]
    assert first.response_metadata["finish_reason"] == "tool_calls"
    tool_message = add.invoke(first.tool_calls[0])
    assert isinstance(tool_message, ToolMessage)
    assert tool_message.content == "5"
    final = llm.invoke([*messages, first, tool_message])
    assert final.content == "Tool result: 5"
    assert final.tool_calls == []
    assert final.response_metadata["model_name"] == model
    assert len(server.requests) == 2


async def test_tool_calling_loop_async_and_the_wire_history(server: StandInServer) -> None:
    llm = RoleChatModel("llm.inference").bind_tools([add], tool_choice="add")
    question = HumanMessage("What is 20 plus 22?")
    first = await llm.ainvoke([question])
    call = first.tool_calls[0]
    assert (call["name"], call["args"]) == ("add", {"a": 20, "b": 22})
    final = await RoleChatModel("llm.inference").bind_tools([add]).ainvoke([question, first, await add.ainvoke(call)])
    assert final.content == "Tool result: 42"
    second = chat_bodies(server)[1]
    assert second["messages"][1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"type": "function", "id": call["id"], "function": {"name": "add", "arguments": '{"a": 20, "b": 22}'}}
        ],
    }
    assert second["messages"][2] == {"role": "tool", "tool_call_id": call["id"], "content": "42"}
    assert chat_bodies(server)[0]["tool_choice"] == {"type": "function", "function": {"name": "add"}}


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
@pytest.mark.parametrize(("role", "model"), ROLES_AND_MODELS)
def test_structured_output_into_a_pydantic_class(server: StandInServer, role: str, model: str, method: str) -> None:
    llm = RoleChatModel(role).with_structured_output(Person, method=method)  # type: ignore[arg-type]
    person = llm.invoke('The person is "Ada Lovelace", aged 36.')
    assert person == Person(name="Ada Lovelace", age=36)


def test_structured_output_sends_the_schema_and_can_include_raw(server: StandInServer) -> None:
    llm = RoleChatModel("llm.inference").with_structured_output(Person, include_raw=True)
    result = llm.invoke('Meet "Alan Turing", 41 years old.')
    assert isinstance(result, dict)
    assert result["parsed"] == Person(name="Alan Turing", age=41)
    assert result["parsing_error"] is None
    assert isinstance(result["raw"], AIMessage)
    assert chat_bodies(server)[0]["response_format"]["json_schema"]["name"] == "Person"
    assert chat_bodies(server)[0]["response_format"]["json_schema"]["schema"]["required"] == ["name", "age"]


def test_json_mode_returns_a_dict(server: StandInServer) -> None:
    llm = RoleChatModel("llm.inference").with_structured_output(None, method="json_mode")
    assert llm.invoke('Return JSON with "city" and "country".') == {"city": "example", "country": "example"}
    assert chat_bodies(server)[0]["response_format"] == {"type": "json_object"}


# --- streaming and usage --------------------------------------------------------------------------


def _assert_one_usage_chunk(chunks: list[AIMessageChunk], model: str) -> None:
    with_usage = [chunk for chunk in chunks if chunk.usage_metadata]
    assert len(with_usage) == 1
    assert with_usage[0].usage_metadata is not None
    assert with_usage[0].usage_metadata["input_tokens"] == 11
    assert with_usage[0].usage_metadata["output_tokens"] == 3
    assert with_usage[0].usage_metadata["total_tokens"] == 14
    assert [chunk.response_metadata.get("model_name") for chunk in chunks].count(model) == 1
    full = chunks[0]
    for chunk in chunks[1:]:
        full += chunk
    assert full.content == "one two three"
    assert full.usage_metadata is not None
    assert full.usage_metadata["total_tokens"] == 14
    assert full.response_metadata["model_name"] == model
    assert full.response_metadata["finish_reason"] == "stop"


@pytest.mark.parametrize(("role", "model"), ROLES_AND_MODELS)
def test_stream_reports_usage_exactly_once(server: StandInServer, role: str, model: str) -> None:
    server.enqueue(model, Reply(text="one two three", usage=(11, 3)))
    chunks = list(RoleChatModel(role).stream("Count to three."))
    _assert_one_usage_chunk(chunks, model)
    assert chunks[-1].chunk_position == "last"
    if role == "llm.inference":
        assert chat_bodies(server)[0]["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(("role", "model"), ROLES_AND_MODELS)
async def test_astream_reports_usage_exactly_once(server: StandInServer, role: str, model: str) -> None:
    server.enqueue(model, Reply(text="one two three", usage=(11, 3)))
    chunks = [chunk async for chunk in RoleChatModel(role).astream("Count to three.")]
    _assert_one_usage_chunk(chunks, model)


def test_invoke_reports_usage_and_the_model_that_answered(server: StandInServer) -> None:
    server.enqueue("standin-primary", Fault(status=503))
    server.enqueue("standin-backup", Reply(text="from the backup", usage=(7, 3)))
    message = RoleChatModel("llm.fallback").invoke("Hello")
    assert message.content == "from the backup"
    assert message.usage_metadata == {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
    assert message.response_metadata["model_name"] == "standin-backup"
    assert message.response_metadata["finish_reason"] == "stop"
    assert [request.model for request in server.requests] == ["standin-primary", "standin-backup"]


def test_streaming_true_makes_invoke_stream_to_callbacks(server: StandInServer) -> None:
    class Tokens(BaseCallbackHandler):
        def __init__(self) -> None:
            self.tokens: list[str] = []

        def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
            self.tokens.append(str(token))

    handler = Tokens()
    message = RoleChatModel("llm.inference", streaming=True).invoke("Say a b c", config={"callbacks": [handler]})
    assert message.content == "a b c"
    assert "".join(handler.tokens) == "a b c"
    assert len([token for token in handler.tokens if token]) == 3
    assert server.requests[0].stream is True


# --- roles, hubs and params ---------------------------------------------------------------------------


def test_configurable_fields_switch_the_role_at_run_time(server: StandInServer) -> None:
    llm = RoleChatModel("llm.inference").configurable_fields(
        role=ConfigurableField(id="role", name="llmhub role", description="Which role to call")
    )
    default = llm.invoke("Say first")
    switched = llm.with_config(configurable={"role": "llm.alt"}).invoke("Say second")
    assert (default.content, default.response_metadata["model_name"]) == ("first", "standin-chat")
    assert (switched.content, switched.response_metadata["model_name"]) == ("second", "standin-alt")
    assert [request.model for request in server.requests] == ["standin-chat", "standin-alt"]


def test_models_for_one_config_share_one_hub(server: StandInServer, config_path: Path) -> None:
    chat = RoleChatModel("llm.inference")
    alt = RoleChatModel("llm.alt")
    explicit = RoleChatModel("llm.alt", config_path=str(config_path))
    embeddings = RoleEmbeddings("llm.embedding")
    shared = LLMHub.shared(config_path)
    assert chat._client is alt._client is explicit._client is embeddings._client is shared
    chat.invoke("Say x")
    alt.invoke("Say y")
    assert chat._client is alt._client is shared
    private = LLMHub(config_path)
    try:
        assert RoleChatModel("llm.inference", hub=private)._client is private
        assert RoleChatModel("llm.inference", hub=private).invoke("Say own hub").content == "own hub"
    finally:
        private.close()


def test_instance_and_call_params_override_the_role_on_the_wire(server: StandInServer) -> None:
    llm = RoleChatModel("llm.tuned", temperature=0.1, stop=["END"], seed=3)
    llm.invoke("Hello")
    llm.invoke("Hello", stop=["HALT"])
    llm.bind(temperature=None, top_p=0.5).invoke("Hello")
    RoleChatModel("llm.tuned").invoke("Hello")
    first, second, third, plain = (
        {key: body.get(key) for key in ("temperature", "max_completion_tokens", "top_p", "stop", "seed")}
        for body in chat_bodies(server)
    )
    # any-llm sends max_tokens to OpenAI as max_completion_tokens
    assert first == {"temperature": 0.1, "max_completion_tokens": 50, "top_p": 0.9, "stop": ["END"], "seed": 3}
    assert second == {**first, "stop": ["HALT"]}
    assert third == {"temperature": None, "max_completion_tokens": 50, "top_p": 0.5, "stop": ["END"], "seed": 3}
    assert plain == {"temperature": 0.7, "max_completion_tokens": 50, "top_p": 0.9, "stop": None, "seed": None}


def test_stop_cuts_the_answer(server: StandInServer) -> None:
    message = RoleChatModel("llm.inference").invoke("Say alpha beta gamma", stop=["gamma"])
    assert message.content == "alpha beta "


def test_ls_params_report_the_resolved_target() -> None:
    assert RoleChatModel("llm.tuned")._get_ls_params() == {
        "ls_provider": "openai",
        "ls_model_name": "standin-tuned",
        "ls_model_type": "chat",
        "ls_temperature": 0.7,
        "ls_max_tokens": 50,
    }
    assert RoleChatModel("llm.anthropic")._get_ls_params()["ls_provider"] == "anthropic"


def test_multimodal_content_reaches_the_wire_as_openai_parts(server: StandInServer) -> None:
    message = HumanMessage(
        [
            {"type": "text", "text": "Describe this"},
            {"type": "image", "base64": "iVBORw0KGgo=", "mime_type": "image/png"},
        ]
    )
    RoleChatModel("llm.inference").invoke([SystemMessage("You see images."), message])
    assert chat_bodies(server)[0]["messages"][1]["content"] == [
        {"type": "text", "text": "Describe this"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]


# --- async is native ------------------------------------------------------------------------------------


class AsyncOnly(RoleChatModel):
    """Fails on any sync path, so passing tests prove the async ones never fall back to a thread."""

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise AssertionError("sync _generate called from an async method")

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        raise AssertionError("sync _stream called from an async method")


async def test_async_methods_use_hub_acompletion(server: StandInServer) -> None:
    llm = AsyncOnly(role="llm.inference")
    assert (await llm.ainvoke("Say one")).content == "one"
    assert "".join([str(chunk.content) async for chunk in llm.astream("Say two words")]) == "two words"
    assert [message.content for message in await llm.abatch(["Say a", "Say b", "Say c"])] == ["a", "b", "c"]
    structured = await llm.with_structured_output(Person).ainvoke('"Grace Hopper" is 85')
    assert structured == Person(name="Grace Hopper", age=85)


# --- errors surface unchanged ------------------------------------------------------------------------------


async def _call(llm: RoleChatModel, how: str) -> Any:
    if how == "invoke":
        return llm.invoke("Hello")
    if how == "ainvoke":
        return await llm.ainvoke("Hello")
    if how == "stream":
        return list(llm.stream("Hello"))
    return [chunk async for chunk in llm.astream("Hello")]


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream"])
async def test_provider_errors_surface_unchanged(server: StandInServer, how: str) -> None:
    server.enqueue("standin-scripted", Fault(status=401))
    with pytest.raises(AuthenticationError) as caught:
        await _call(RoleChatModel("llm.scripted"), how)
    error = caught.value
    assert type(error) is AuthenticationError
    assert (error.status_code, error.role, error.provider, error.model) == (
        401,
        "llm.scripted",
        "standin",
        "standin-scripted",
    )


def test_rate_limits_keep_retry_after(server: StandInServer) -> None:
    server.enqueue("standin-scripted", Fault(status=429, headers={"Retry-After": "7"}))
    with pytest.raises(RateLimitError) as caught:
        RoleChatModel("llm.scripted").invoke("Hello")
    assert caught.value.retry_after == 7.0


def test_a_broken_stream_raises_stream_interrupted_with_the_partial_text(server: StandInServer) -> None:
    server.enqueue("standin-scripted", Fault(disconnect_after_chunks=3))  # role chunk, "alpha", " beta"
    received: list[str] = []
    with pytest.raises(StreamInterruptedError) as caught:
        for chunk in RoleChatModel("llm.scripted").stream("Say alpha beta gamma delta"):
            received.append(str(chunk.content))
    assert "".join(received) == "alpha beta"
    assert caught.value.partial_text == "alpha beta"
    assert caught.value.chunks_received == 3


def test_malformed_answers_and_mode_mismatches_are_llmhub_errors(server: StandInServer) -> None:
    server.enqueue("standin-scripted", Fault(malformed=True))
    with pytest.raises(ProviderServerError):
        RoleChatModel("llm.scripted").invoke("Hello")
    with pytest.raises(ModeMismatchError) as caught:
        RoleChatModel("llm.embedding").invoke("Hello")
    assert isinstance(caught.value, LLMHubError)
    assert caught.value.role == "llm.embedding"
