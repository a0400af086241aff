"""LLMHub end to end: through any-llm and the real SDKs over HTTP to the stand-in server."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from any_llm.types.completion import ChatCompletion, ChatCompletionChunk, CreateEmbeddingResponse

from llmhub_runtime import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    HubClosedError,
    InvalidInputError,
    LLMHub,
    MissingCredentialError,
    ModelNotFoundError,
    ModeMismatchError,
    ProviderServerError,
    RateLimitError,
    UnknownRoleError,
)
from llmhub_runtime.models import DEFAULT_MAX_ATTEMPTS
from llmhub_runtime.testing import StandInServer
from llmhub_runtime.testing.replies import Fault
from llmhub_runtime.testing.timer import FakeTimer

from .conftest import Recorder, both_transports  # type: ignore[import-not-found]

HubFactory = Callable[..., LLMHub]
HI = [{"role": "user", "content": "hello there"}]


def config(server: StandInServer, **role: Any) -> dict[str, Any]:
    base = server.chat_config()
    base["roles"]["llm.inference"].update(role)
    return base


# --- happy paths -------------------------------------------------------------------------------


@both_transports
def test_completion_sync(make_hub: HubFactory, server: StandInServer) -> None:
    response = make_hub().completion("llm.inference", HI)
    assert isinstance(response, ChatCompletion)
    assert response.choices[0].message.content == "Stand-in reply to: hello there"
    assert response.usage is not None and response.usage.prompt_tokens == 2
    assert server.last_request is not None and server.last_request.body["model"] == "standin-chat"


@both_transports
async def test_completion_async(make_hub: HubFactory) -> None:
    response = await make_hub().acompletion("llm.inference", HI)
    assert isinstance(response, ChatCompletion)
    assert response.choices[0].message.content == "Stand-in reply to: hello there"


def test_string_prompt_is_one_user_message(make_hub: HubFactory, server: StandInServer) -> None:
    make_hub().completion("llm.inference", "just text")
    assert server.last_request is not None
    assert server.last_request.body["messages"] == [{"role": "user", "content": "just text"}]


@both_transports
def test_stream_sync_with_usage(make_hub: HubFactory, recorder: Recorder) -> None:
    chunks = list(make_hub(hooks=[recorder]).completion("llm.inference", HI, stream=True))
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Stand-in reply to: hello there"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5
    assert recorder.kinds() == ["start", "end"]
    end = recorder.events[-1]
    assert end.usage is not None and (end.usage.input_tokens, end.usage.output_tokens) == (2, 5)
    assert end.abandoned is False and end.stream is True


@both_transports
async def test_stream_async_with_usage(make_hub: HubFactory, recorder: Recorder) -> None:
    stream = await make_hub(hooks=[recorder]).acompletion("llm.inference", HI, stream=True)
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Stand-in reply to: hello there"
    assert recorder.kinds() == ["start", "end"]
    assert recorder.events[-1].usage is not None and recorder.events[-1].usage.output_tokens == 5


@both_transports
def test_stream_abandoned_reports_it(make_hub: HubFactory, recorder: Recorder) -> None:
    stream = make_hub(hooks=[recorder]).completion("llm.inference", HI, stream=True)
    next(iter(stream))
    stream.close()  # type: ignore[union-attr]
    assert recorder.kinds() == ["start", "end"]
    assert recorder.events[-1].abandoned is True


@both_transports
async def test_async_stream_abandoned_reports_it(make_hub: HubFactory, recorder: Recorder) -> None:
    stream = await make_hub(hooks=[recorder]).acompletion("llm.inference", HI, stream=True)
    await anext(aiter(stream))
    await stream.aclose()  # type: ignore[union-attr]
    assert recorder.events[-1].kind == "end" and recorder.events[-1].abandoned is True


@both_transports
def test_embedding_sync_and_async(make_hub: HubFactory) -> None:
    hub = make_hub()
    response = hub.embedding("llm.embedding", ["a", "b"])
    assert isinstance(response, CreateEmbeddingResponse)
    assert [len(d.embedding) for d in response.data] == [16, 16]
    again = asyncio.run(hub.aembedding("llm.embedding", "a"))
    assert again.data[0].embedding == response.data[0].embedding


@both_transports
def test_anthropic_provider_through_any_llm(make_hub: HubFactory, server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["roles"]["llm.claude"] = {
        "provider": "standin-anthropic",
        "model": "claude-standin",
        "params": {"max_tokens": 50},
    }
    hub = make_hub(cfg)
    response = hub.completion("llm.claude", HI)
    assert response.choices[0].message.content == "Stand-in reply to: hello there"
    assert server.last_request is not None and server.last_request.api == "anthropic-messages"
    chunks = list(hub.completion("llm.claude", HI, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Stand-in reply to: hello there"


def test_tools_and_response_format_pass_through(make_hub: HubFactory, server: StandInServer) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    response = make_hub().completion("llm.inference", HI, tools=[tool], tool_choice="required", stop=["x"])
    calls = response.choices[0].message.tool_calls
    assert calls is not None and calls[0].function.name == "get_weather"  # type: ignore[union-attr]
    assert server.last_request is not None
    assert server.last_request.body["tool_choice"] == "required"
    assert server.last_request.body["stop"] == ["x"]


# --- params precedence -------------------------------------------------------------------------


def test_param_precedence(make_hub: HubFactory, server: StandInServer) -> None:
    cfg = config(server, params={"temperature": 0.7, "max_tokens": 100, "top_p": 0.5})
    cfg["defaults"] = {"params": {"temperature": 0.1, "seed": 7, "presence_penalty": 0.3}}
    hub = make_hub(cfg)
    hub.completion("llm.inference", HI, params_override={"max_tokens": 50, "top_p": 0.9}, top_p=0.95)
    assert server.last_request is not None
    body = server.last_request.body
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    assert (body["temperature"], body["seed"], max_tokens, body["top_p"]) == (0.7, 7, 50, 0.95)
    assert hub.resolve("llm.inference").primary.param_sources["seed"] == "defaults"


def test_none_kwarg_removes_param(make_hub: HubFactory, server: StandInServer) -> None:
    make_hub(config(server, params={"temperature": 0.7})).completion("llm.inference", HI, temperature=None)
    assert server.last_request is not None and "temperature" not in server.last_request.body


# --- usage mistakes, before any network ----------------------------------------------------------


def test_mode_mismatch_before_network(make_hub: HubFactory, server: StandInServer) -> None:
    hub = make_hub()
    with pytest.raises(ModeMismatchError) as info:
        hub.completion("llm.embedding", HI)
    assert "Role 'llm.embedding' has mode 'embedding', but completion() needs a 'chat' role" in str(info.value)
    with pytest.raises(ModeMismatchError):
        hub.embedding("llm.inference", "x")
    assert server.requests == []


def test_missing_credential_before_network(
    make_hub: HubFactory, server: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = server.chat_config()
    cfg["providers"]["standin"]["env_key"] = "LLMHUB_TEST_KEY"
    monkeypatch.delenv("LLMHUB_TEST_KEY", raising=False)
    hub = make_hub(cfg)
    with pytest.raises(MissingCredentialError) as info:
        hub.completion("llm.inference", HI)
    error = info.value
    assert (error.env_key, error.provider, error.role) == ("LLMHUB_TEST_KEY", "standin", "llm.inference")
    assert "LLMHUB_TEST_KEY" in str(error) and "'standin'" in str(error) and "'llm.inference'" in str(error)
    monkeypatch.setenv("LLMHUB_TEST_KEY", "   ")
    with pytest.raises(MissingCredentialError):
        hub.completion("llm.inference", HI)
    assert server.requests == []


def test_key_read_at_call_time_not_sdk_env(
    make_hub: HubFactory, server: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = server.chat_config()
    cfg["providers"]["standin"]["env_key"] = "LLMHUB_TEST_KEY"
    monkeypatch.setenv("OPENAI_API_KEY", "sdk-env-key-should-not-be-used")
    monkeypatch.setenv("LLMHUB_TEST_KEY", "key-one")
    hub = make_hub(cfg)
    hub.completion("llm.inference", HI)
    assert server.last_request is not None
    assert server.last_request.headers["authorization"] == "Bearer key-one"
    monkeypatch.setenv("LLMHUB_TEST_KEY", "key-two")
    hub.completion("llm.inference", HI)
    assert server.last_request.headers["authorization"] == "Bearer key-two"


def test_no_key_provider_never_reads_sdk_env(
    make_hub: HubFactory, server: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sdk-env-key-should-not-be-used")
    make_hub().completion("llm.inference", HI)
    assert server.last_request is not None
    assert "sdk-env-key" not in server.last_request.headers["authorization"]


def test_unknown_role_lists_matches_and_known(make_hub: HubFactory) -> None:
    with pytest.raises(UnknownRoleError) as info:
        make_hub().completion("llm.inferense", HI)
    message = str(info.value)
    assert "Unknown role 'llm.inferense'. Did you mean 'llm.inference'?" in message
    assert "Known roles: 'llm.inference', 'llm.embedding'" in message
    assert info.value.matches == ("llm.inference",)


def test_unknown_role_uses_complete_defaults_with_one_warning(
    make_hub: HubFactory, server: StandInServer, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = server.chat_config()
    cfg["defaults"] = {"provider": "standin", "model": "default-model", "mode": "chat"}
    hub = make_hub(cfg)
    with caplog.at_level(logging.WARNING, logger="llmhub_runtime"):
        hub.completion("llm.summary", HI)
        hub.completion("llm.summary", HI)
    warnings = [r for r in caplog.records if "llm.summary" in r.getMessage()]
    assert len(warnings) == 1
    assert hub.resolve("llm.summary").from_defaults is True
    assert server.last_request is not None and server.last_request.body["model"] == "default-model"
    strict = make_hub(cfg, strict=True)
    with pytest.raises(UnknownRoleError):
        strict.completion("llm.summary", HI)


def test_incomplete_defaults_do_not_cover_unknown_roles(make_hub: HubFactory, server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["defaults"] = {"provider": "standin", "mode": "chat"}
    with pytest.raises(UnknownRoleError):
        make_hub(cfg).completion("llm.summary", HI)


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ([], "messages is empty"),
        ("", "empty string"),
        ([{"role": "robot", "content": "x"}], "messages[0] has role 'robot'"),
        ([{"role": "user"}], "messages[0] (user) has no 'content'"),
        (["hi"], "messages[0] is a str"),
        (42, "not int"),
    ],
)
def test_malformed_messages(make_hub: HubFactory, server: StandInServer, messages: Any, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        make_hub().completion("llm.inference", messages)
    assert fragment in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "empty string"),
        ([], "empty list"),
        ([1, 2], "input[0] is a int"),
        (["a", ""], "input[1] is an empty"),
        (None, "not NoneType"),
    ],
)
def test_bad_embedding_input(make_hub: HubFactory, value: Any, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        make_hub().embedding("llm.embedding", value)
    assert fragment in str(info.value)


def test_closed_hub(make_hub: HubFactory) -> None:
    hub = make_hub()
    hub.completion("llm.inference", HI)
    hub.close()
    with pytest.raises(HubClosedError):
        hub.completion("llm.inference", HI)


# --- provider errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error_type", "status"),
    [
        (Fault(status=401), AuthenticationError, 401),
        (Fault(status=404, message="The model `nope` does not exist"), ModelNotFoundError, 404),
        (Fault(status=400, error_type="context_length_exceeded"), ContextLengthError, 400),
        (Fault(status=400, message="bad param"), BadRequestError, 400),
        (Fault(status=500), ProviderServerError, 500),
    ],
)
@both_transports
def test_provider_errors_are_typed(
    make_hub: HubFactory, server: StandInServer, fault: Fault, error_type: type[Exception], status: int
) -> None:
    attempts = DEFAULT_MAX_ATTEMPTS if status >= 500 else 1  # only transient failures are retried by default
    server.enqueue("standin-chat", *[fault] * attempts)
    with pytest.raises(error_type) as info:
        make_hub().completion("llm.inference", HI)
    error = info.value
    assert type(error) is error_type
    assert (error.attempts, len(server.requests)) == (attempts, attempts)  # type: ignore[attr-defined]
    assert (error.role, error.provider, error.model, error.status_code) == (  # type: ignore[attr-defined]
        "llm.inference",
        "standin",
        "standin-chat",
        status,
    )
    assert type(error.__cause__).__module__.startswith("any_llm")


@both_transports
def test_rate_limit_carries_retry_after_and_headers(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer
) -> None:
    server.enqueue("standin-chat", *[Fault(status=429, headers={"Retry-After": "7", "X-Trace": "abc"})] * 3)
    with pytest.raises(RateLimitError) as info:
        make_hub().completion("llm.inference", HI)
    assert info.value.retry_after == 7.0
    assert info.value.headers["x-trace"] == "abc"
    assert info.value.attempts == DEFAULT_MAX_ATTEMPTS == 3  # llmhub's default retry, like the SDKs'
    assert timer.sleeps == [7.0, 7.0]


@both_transports
def test_async_errors_match_sync(make_hub: HubFactory, server: StandInServer) -> None:
    server.enqueue("standin-chat", Fault(status=401))
    with pytest.raises(AuthenticationError):
        asyncio.run(make_hub().acompletion("llm.inference", HI))


# --- hooks -----------------------------------------------------------------------------------------


@both_transports
def test_hooks_on_success_and_error(make_hub: HubFactory, server: StandInServer, recorder: Recorder) -> None:
    hub = make_hub(hooks=[recorder])
    hub.completion("llm.inference", HI)
    server.enqueue("standin-chat", Fault(status=401))
    with pytest.raises(AuthenticationError):
        hub.completion("llm.inference", HI)
    assert recorder.kinds() == ["start", "end", "start", "error"]
    end, error = recorder.events[1], recorder.events[3]
    assert (end.role, end.provider, end.model, end.mode, end.attempt) == (
        "llm.inference",
        "standin",
        "standin-chat",
        "chat",
        1,
    )
    assert end.usage is not None and end.usage.total_tokens == 7
    assert end.answered_model == "standin-chat"
    assert error.error_type == "AuthenticationError" and error.final is True


class AsyncRecorder:
    def __init__(self) -> None:
        self.kinds: list[str] = []

    async def on_start(self, event: Any) -> None:
        await asyncio.sleep(0)
        self.kinds.append(event.kind)

    async def on_end(self, event: Any) -> None:
        self.kinds.append(event.kind)


class Broken:
    def on_start(self, event: Any) -> None:
        raise RuntimeError("hook bug")

    def on_end(self, event: Any) -> None:
        raise RuntimeError("hook bug")


async def test_async_hooks_are_awaited(make_hub: HubFactory) -> None:
    hook = AsyncRecorder()
    await make_hub(hooks=[hook]).acompletion("llm.inference", HI)
    assert hook.kinds == ["start", "end"]


def test_async_hooks_run_in_sync_calls(make_hub: HubFactory) -> None:
    hook = AsyncRecorder()
    make_hub(hooks=[hook]).completion("llm.inference", HI)
    assert hook.kinds == ["start", "end"]


def test_failing_hook_never_masks_result_or_error(
    make_hub: HubFactory, server: StandInServer, caplog: pytest.LogCaptureFixture
) -> None:
    hub = make_hub(hooks=[Broken()])
    with caplog.at_level(logging.ERROR, logger="llmhub_runtime"):
        assert hub.completion("llm.inference", HI).choices[0].message.content
    assert "hook" in caplog.text and "failed in on_start" in caplog.text
    server.enqueue("standin-chat", Fault(status=401))
    with pytest.raises(AuthenticationError):
        hub.completion("llm.inference", HI)


# --- concurrency and clients ---------------------------------------------------------------------


@both_transports
async def test_hundred_concurrent_async_calls_share_one_client(make_hub: HubFactory) -> None:
    hub = make_hub()
    results = await asyncio.gather(*(hub.acompletion("llm.inference", f"n {i}") for i in range(120)))
    assert [r.choices[0].message.content for r in results] == [f"Stand-in reply to: n {i}" for i in range(120)]
    assert len(hub._clients.drain()) == 1


@both_transports
def test_threads_share_one_sync_client(make_hub: HubFactory) -> None:
    hub = make_hub()
    answers: list[str] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(5):
            text = hub.completion("llm.inference", f"t{n} {i}").choices[0].message.content
            with lock:
                answers.append(text or "")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == sorted(f"Stand-in reply to: t{n} {i}" for n in range(8) for i in range(5))
    assert len(hub._clients.drain()) == 1


@both_transports
async def test_sync_api_inside_running_loop_works(make_hub: HubFactory) -> None:
    response = make_hub().completion("llm.inference", HI)  # as in a Jupyter cell
    assert response.choices[0].message.content == "Stand-in reply to: hello there"


def test_shared_hub_is_one_per_path(tmp_path: Any, server: StandInServer) -> None:
    import yaml

    path = tmp_path / "llmhub.yaml"
    path.write_text(yaml.safe_dump(server.chat_config()))
    first = LLMHub.shared(path)
    assert LLMHub.shared(str(path)) is first
    first.close()
    assert LLMHub.shared(path) is not first
    LLMHub.shared(path).close()


def test_reprs(make_hub: HubFactory) -> None:
    hub = make_hub()
    assert repr(hub) == "<LLMHub roles=['llm.inference', 'llm.embedding'] open>"
    assert repr(hub.resolve("llm.inference")) == (
        "ResolvedCall(role='llm.inference', mode='chat', targets='standin/standin-chat', source='role')"
    )


def test_model_kwarg_is_refused_before_network(make_hub: HubFactory, server: StandInServer) -> None:
    with pytest.raises(InvalidInputError) as info:
        make_hub().completion("llm.inference", HI, model="gpt-4o")
    assert "'model' cannot be passed to a call: the role chooses the model" in str(info.value)
    with pytest.raises(InvalidInputError):
        make_hub().completion("llm.inference", HI, params_override={"model": "x"})
    assert server.requests == []


def test_defaults_params_reach_only_roles_of_the_defaults_mode(make_hub: HubFactory, server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["defaults"] = {"mode": "chat", "params": {"max_tokens": 64}}
    hub = make_hub(cfg)
    assert hub.resolve("llm.inference").params == {"max_tokens": 64}
    assert hub.resolve("llm.embedding").params == {}
    hub.embedding("llm.embedding", "x")
    assert server.last_request is not None and "max_tokens" not in server.last_request.body


def test_shared_default_path_keeps_the_hint(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from llmhub_runtime import ConfigNotFoundError

    monkeypatch.delenv("LLMHUB_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigNotFoundError, match=r"set \$LLMHUB_CONFIG or pass config_path="):
        LLMHub.shared()


@both_transports
async def test_aclose_closes_the_running_loops_client(make_hub: HubFactory) -> None:
    hub = make_hub()
    await hub.acompletion("llm.inference", HI)
    [per_loop] = hub._clients._by_loop.values()  # type: ignore[attr-defined]
    [inner] = [client.client for client in per_loop.values()]
    assert not inner.is_closed()
    await hub.aclose()
    assert inner.is_closed()
    with pytest.raises(HubClosedError):
        await hub.acompletion("llm.inference", HI)


@both_transports
def test_close_closes_the_sync_client(make_hub: HubFactory) -> None:
    hub = make_hub()
    hub.completion("llm.inference", HI)
    [inner] = [c.client for c in hub._clients._sync.values()]  # type: ignore[attr-defined]
    hub.close()
    assert inner.is_closed()


@pytest.mark.parametrize("provider", ["standin", "standin-anthropic"])
def test_aiohttp_transport(make_hub: HubFactory, server: StandInServer, provider: str) -> None:
    cfg = server.chat_config()
    cfg["providers"][provider]["transport"] = "aiohttp"
    cfg["roles"]["llm.inference"].update(provider=provider, params={"max_tokens": 50})
    hub = make_hub(cfg)
    assert hub.completion("llm.inference", HI).choices[0].message.content == "Stand-in reply to: hello there"
    chunks = list(hub.completion("llm.inference", HI, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Stand-in reply to: hello there"

    [client] = hub._clients._sync.values()  # type: ignore[attr-defined]
    assert "AioHttp" in type(client.client._client).__name__

    async def many() -> list[Any]:
        answers = list(await asyncio.gather(*(hub.acompletion("llm.inference", f"n {i}") for i in range(20))))
        await hub.aclose()  # close the loop's aiohttp session before the loop ends
        return answers

    assert len(asyncio.run(many())) == 20


def test_aiohttp_transport_on_an_unsuited_provider_says_so(make_hub: HubFactory, server: StandInServer) -> None:
    from llmhub_runtime import UsageError

    cfg = server.chat_config()
    cfg["providers"]["voy"] = {"kind": "voyage", "env_key": None, "transport": "aiohttp"}
    cfg["roles"]["llm.embedding"]["provider"] = "voy"
    with pytest.raises(UsageError, match="aiohttp works for OpenAI- and Anthropic-style providers, not 'voyage'"):
        make_hub(cfg).embedding("llm.embedding", "x")


@both_transports
def test_close_closes_clients_of_an_idle_loop(make_hub: HubFactory) -> None:
    hub = make_hub()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(hub.acompletion("llm.inference", HI))
        [per_loop] = hub._clients._by_loop.values()  # type: ignore[attr-defined]
        [inner] = [client.client for client in per_loop.values()]
        hub.close()  # from sync code, while the loop that owns the client sits idle
        assert inner.is_closed()
    finally:
        loop.close()
