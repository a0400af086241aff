"""RoleChatModel without a server: construction, params, LangSmith params, conversions, serialization."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core._api.beta_decorator import LangChainBetaWarning
from langchain_core.load import dumpd, load
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableBinding
from langchain_core.tools import tool
from llmhub_runtime import LLMHub
from llmhub_runtime.adapter_core import CONFIG_ONLY_KEYS
from llmhub_runtime.errors import ConfigNotFoundError, InvalidInputError, UnknownRoleError, UsageError
from pydantic import BaseModel, Field

from langchain_llmhub import RoleChatModel, RoleEmbeddings
from langchain_llmhub.chat_models import (
    _convert_message_to_dict,
    _convert_to_response_format,
    _convert_tool_choice,
)

CONFIG = """\
providers:
  local:
    kind: openai
    api_base: http://127.0.0.1:9/v1
    env_key: null
roles:
  llm.inference:
    provider: local
    model: small-model
    mode: chat
    params: {temperature: 0.3, max_tokens: 64, stop: ["END"]}
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "llmhub.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


# --- construction -----------------------------------------------------------------------------


def test_construction_reads_nothing_and_the_first_call_raises_config_not_found(tmp_path: Path) -> None:
    llm = RoleChatModel("llm.inference")  # no $LLMHUB_CONFIG, no ./llmhub.yaml
    assert llm.role == "llm.inference"
    assert llm.config_path is None
    assert llm.hub is None
    with pytest.raises(ConfigNotFoundError) as caught:
        llm.invoke("Hello")
    assert caught.value.path == str(tmp_path / "llmhub.yaml")  # ./llmhub.yaml, resolved by LLMHub.shared()


def test_a_missing_config_path_raises_on_the_first_call_with_that_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "llmhub.yaml"
    llm = RoleChatModel("llm.inference", config_path=missing)
    assert llm.config_path == str(missing)
    with pytest.raises(ConfigNotFoundError) as caught:
        llm.invoke("Hello")
    assert caught.value.path == str(missing)


async def test_the_first_async_call_raises_config_not_found_too() -> None:
    with pytest.raises(ConfigNotFoundError):
        await RoleChatModel("llm.inference").ainvoke("Hello")


def test_config_path_defaults_to_the_env_var_read_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMHUB_CONFIG", "/etc/app/llmhub.yaml")
    from_env = RoleChatModel("llm.inference")
    explicit = RoleChatModel("llm.inference", config_path="other.yaml")
    monkeypatch.delenv("LLMHUB_CONFIG")
    assert from_env.config_path == "/etc/app/llmhub.yaml"
    assert explicit.config_path == "other.yaml"


def test_role_is_positional_or_keyword_but_not_both() -> None:
    assert RoleChatModel("llm.a").role == "llm.a"
    assert RoleChatModel(role="llm.b").role == "llm.b"
    with pytest.raises(UsageError, match="role twice"):
        RoleChatModel("llm.a", role="llm.b")


@pytest.mark.parametrize("key", [*sorted(CONFIG_ONLY_KEYS), "openai_api_key", "anthropic_api_key", "openai_api_base"])
@pytest.mark.parametrize("in_model_kwargs", [False, True])
def test_credentials_and_endpoints_are_refused_with_a_pointer_to_the_config(key: str, in_model_kwargs: bool) -> None:
    # The same rule (and message) as llama-index-llmhub's, from llmhub_runtime.adapter_core.
    kwargs: dict[str, Any] = {"model_kwargs": {key: "sk-secret-value"}} if in_model_kwargs else {key: "sk-secret-value"}
    for cls, role in ((RoleChatModel, "llm.inference"), (RoleEmbeddings, "llm.embedding")):
        with pytest.raises(UsageError, match=rf"^{cls.__name__} takes no {key}=: .*llmhub\.yaml") as caught:
            cls(role, **kwargs)
        assert "sk-secret-value" not in str(caught.value)


@pytest.mark.parametrize("kwargs", [{"api_key": "sk-secret-value"}, {"client_args": {"timeout": 1}}])
def test_per_call_keys_and_client_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError, match=r"takes no .*= per call: .*llmhub\.yaml") as caught:
        RoleChatModel("llm.inference").invoke("Hello", **kwargs)
    assert "sk-secret-value" not in str(caught.value)


def test_a_model_kwarg_is_refused_because_the_role_picks_the_model() -> None:
    with pytest.raises(UsageError, match="takes no model="):
        RoleChatModel("llm.inference", model="gpt-4o")


def test_hub_and_config_path_together_are_refused(config_file: Path) -> None:
    with pytest.raises(UsageError, match="not both"):
        RoleChatModel("llm.inference", hub=LLMHub(config_file), config_path=config_file)
    with pytest.raises(UsageError, match="takes an LLMHub"):
        RoleChatModel("llm.inference", hub="not a hub")


def test_unknown_kwargs_become_model_kwargs() -> None:
    llm = RoleChatModel("llm.inference", top_p=0.5, seed=7, model_kwargs={"presence_penalty": 0.1})
    assert llm.model_kwargs == {"presence_penalty": 0.1, "top_p": 0.5, "seed": 7}
    with pytest.raises(UsageError, match="top_p given both"):
        RoleChatModel("llm.inference", top_p=0.5, model_kwargs={"top_p": 0.2})


def test_set_params_override_the_role_and_none_removes_one() -> None:
    # One rule with the hub and the LlamaIndex adapter: unset keeps the role's value, None sends nothing.
    llm = RoleChatModel("llm.inference", temperature=0, max_tokens=None, stop=[], timeout=12.5, max_retries=3)
    assert llm._default_params == {"temperature": 0, "timeout": 12.5, "max_tokens": None}
    assert llm.model_kwargs == {"max_tokens": None}  # so dumpd/load keeps the removal
    aliased = RoleChatModel("llm.inference", max_completion_tokens=9, stop_sequences=["x"], top_k=None)
    assert aliased._default_params == {"max_tokens": 9, "stop": ["x"], "top_k": None}
    assert RoleChatModel("llm.inference")._default_params == {}


# --- LangSmith params ---------------------------------------------------------------------------


def test_ls_params_without_a_config_name_the_role() -> None:
    llm = RoleChatModel("llm.inference", temperature=0.2, max_tokens=10, stop=["x"])
    assert llm._get_ls_params() == {
        "ls_provider": "llmhub",
        "ls_model_name": "llm.inference",
        "ls_model_type": "chat",
        "ls_temperature": 0.2,
        "ls_max_tokens": 10,
        "ls_stop": ["x"],
    }


def test_ls_params_report_the_resolved_provider_model_and_effective_params(config_file: Path) -> None:
    llm = RoleChatModel("llm.inference", config_path=config_file)
    assert llm._get_ls_params() == {
        "ls_provider": "openai",
        "ls_model_name": "small-model",
        "ls_model_type": "chat",
        "ls_temperature": 0.3,
        "ls_max_tokens": 64,
        "ls_stop": ["END"],
    }
    tuned = RoleChatModel("llm.inference", config_path=config_file, temperature=0.9)
    params = tuned._get_ls_params(stop=["STOP"], max_tokens=5)
    assert (params["ls_temperature"], params["ls_max_tokens"], params["ls_stop"]) == (0.9, 5, ["STOP"])


def test_ls_params_of_an_unknown_role_fall_back_and_the_call_raises(config_file: Path) -> None:
    llm = RoleChatModel("llm.nope", config_path=config_file)
    assert llm._get_ls_params()["ls_model_name"] == "llm.nope"
    with pytest.raises(UnknownRoleError, match=r"llm\.nope"):
        llm.invoke("Hello")


def test_a_per_call_model_is_refused_before_any_request() -> None:
    with pytest.raises(UsageError, match="cannot be overridden per call"):
        RoleChatModel("llm.inference").invoke("Hello", model="gpt-4o")


# --- serialization --------------------------------------------------------------------------------


def test_dumpd_keeps_the_role_and_params_but_never_the_hub(config_file: Path) -> None:
    llm = RoleChatModel("llm.inference", hub=LLMHub(config_file), temperature=0.1, top_p=0.5)
    serialized = dumpd(llm)
    assert serialized["id"] == ["langchain_llmhub", "chat_models", "RoleChatModel"]
    assert serialized["kwargs"] == {"role": "llm.inference", "temperature": 0.1, "model_kwargs": {"top_p": 0.5}}


def test_load_round_trips_with_the_class_allowed(config_file: Path) -> None:
    llm = RoleChatModel("llm.inference", config_path=str(config_file), max_tokens=20, stop=["x"])
    with pytest.warns(LangChainBetaWarning):
        loaded = load(dumpd(llm), valid_namespaces=["langchain_llmhub"], allowed_objects=[RoleChatModel])
    assert isinstance(loaded, RoleChatModel)
    assert loaded.model_dump() == llm.model_dump()


# --- tools and structured output --------------------------------------------------------------------


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return "sunny"


def test_bind_tools_formats_tools_and_tool_choice() -> None:
    bound = RoleChatModel("llm.inference").bind_tools(
        [get_weather], tool_choice="get_weather", parallel_tool_calls=False
    )
    assert isinstance(bound, RunnableBinding)
    assert bound.kwargs["tools"][0]["function"]["name"] == "get_weather"
    assert bound.kwargs["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert bound.kwargs["parallel_tool_calls"] is False
    unforced = RoleChatModel("llm.inference").bind_tools([get_weather], tool_choice=False)
    assert isinstance(unforced, RunnableBinding)
    assert "tool_choice" not in unforced.kwargs


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("any", "required"),
        ("required", "required"),
        (True, "required"),
        ("auto", "auto"),
        ("none", "none"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
        ({"type": "function", "function": {"name": "x"}}, {"type": "function", "function": {"name": "x"}}),
    ],
)
def test_tool_choice_spellings(choice: Any, expected: Any) -> None:
    assert _convert_tool_choice(choice, ["get_weather"]) == expected


def test_an_unknown_tool_choice_names_the_bound_tools() -> None:
    with pytest.raises(ValueError, match=r"'get_wether'.*get_weather"):
        _convert_tool_choice("get_wether", ["get_weather"])


class Person(BaseModel):
    """A person."""

    name: str = Field(description="Full name")
    age: int


def test_response_format_from_a_pydantic_class() -> None:
    assert _convert_to_response_format(Person, strict=None) == {
        "type": "json_schema",
        "json_schema": {
            "name": "Person",
            "description": "A person.",
            "schema": {
                "type": "object",
                "properties": {"name": {"description": "Full name", "type": "string"}, "age": {"type": "integer"}},
                "required": ["name", "age"],
            },
        },
    }
    strict = _convert_to_response_format(Person, strict=True)["json_schema"]
    assert strict["strict"] is True
    assert strict["schema"]["additionalProperties"] is False


def test_with_structured_output_rejects_unknown_arguments() -> None:
    llm = RoleChatModel("llm.inference")
    with pytest.raises(ValueError, match="unsupported arguments"):
        llm.with_structured_output(Person, bogus=True)
    with pytest.raises(ValueError, match="Unknown method 'xml'"):
        llm.with_structured_output(Person, method="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a schema"):
        llm.with_structured_output(None, method="function_calling")


# --- message conversion ----------------------------------------------------------------------------


def test_plain_messages_convert_to_openai_dicts() -> None:
    assert _convert_message_to_dict(SystemMessage("Be terse.")) == {"role": "system", "content": "Be terse."}
    assert _convert_message_to_dict(HumanMessage("hi", name="bob")) == {"role": "user", "content": "hi", "name": "bob"}
    assert _convert_message_to_dict(AIMessage("hello")) == {"role": "assistant", "content": "hello"}
    assert _convert_message_to_dict(ToolMessage("3", tool_call_id="c1", name="add")) == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "3",
    }


def test_assistant_tool_calls_travel_in_tool_calls_and_tool_use_blocks_are_dropped() -> None:
    message = AIMessage(
        [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "text", "text": "some text"},
            {"type": "tool_use", "id": "abc", "name": "add", "input": {"a": 1}},
        ],
        tool_calls=[{"name": "add", "args": {"a": 1, "city": "Zürich"}, "id": "abc", "type": "tool_call"}],
    )
    converted = _convert_message_to_dict(message)
    assert converted == {
        "role": "assistant",
        "content": "some text",
        "tool_calls": [{"type": "function", "id": "abc", "function": {"name": "add", "arguments": converted_args()}}],
    }
    assert json.loads(converted["tool_calls"][0]["function"]["arguments"]) == {"a": 1, "city": "Zürich"}
    only_calls = AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": "x", "type": "tool_call"}])
    assert _convert_message_to_dict(only_calls)["content"] is None


def converted_args() -> str:
    return '{"a": 1, "city": "Zürich"}'


def test_multimodal_blocks_become_openai_content_parts() -> None:
    message = HumanMessage(
        [
            {"type": "text", "text": "Describe", "cache_control": {"type": "ephemeral"}, "id": "t1"},
            {"type": "image", "base64": "AAAA", "mime_type": "image/png"},
            {"type": "image", "url": "https://example.com/cat.png"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "BBBB"}},
            {"type": "audio", "base64": "CCCC", "mime_type": "audio/wav"},
            {"type": "image_url", "image_url": {"url": "data:image/gif;base64,DDDD"}},
        ]
    )
    assert _convert_message_to_dict(message)["content"] == [
        {"type": "text", "text": "Describe", "cache_control": {"type": "ephemeral"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,BBBB"}},
        {"type": "input_audio", "input_audio": {"data": "CCCC", "format": "wav"}},
        {"type": "image_url", "image_url": {"url": "data:image/gif;base64,DDDD"}},
    ]


def test_v1_assistant_content_keeps_only_the_text() -> None:
    message = AIMessage(
        [{"type": "reasoning", "reasoning": "because"}, {"type": "text", "text": "Answer", "id": "b1"}],
        response_metadata={"output_version": "v1"},
    )
    assert _convert_message_to_dict(message) == {"role": "assistant", "content": "Answer"}
