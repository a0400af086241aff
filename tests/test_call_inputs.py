"""Call-time mistakes are ``InvalidInputError`` naming the parameter and the fix, before any request or event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from llmhub_runtime import ConfigValidationError, InvalidInputError, LLMHub
from llmhub_runtime.testing import StandInServer
from llmhub_runtime.testing.timer import FakeTimer

from .conftest import Recorder  # type: ignore[import-not-found]

HubFactory = Callable[..., LLMHub]
HI = [{"role": "user", "content": "hello"}]
WIRES = {"openai": "standin", "anthropic": "standin-anthropic"}


def hub_for(make_hub: HubFactory, server: StandInServer, recorder: Recorder, wire: str = "openai",
            params: dict[str, Any] | None = None) -> LLMHub:  # fmt: skip
    cfg = server.chat_config()
    cfg["roles"]["llm.inference"] = {"provider": WIRES[wire], "model": "m", "mode": "chat",
                                     "retry": {"max_attempts": 3}, "params": params or {}}  # fmt: skip
    return make_hub(cfg, hooks=[recorder])


def assert_nothing_happened(server: StandInServer, recorder: Recorder, timer: FakeTimer) -> None:
    assert server.requests == []
    assert recorder.events == []  # refused before the first attempt
    assert timer.sleeps == []


BAD_PARAMS = [
    ("temperature", "hot", "a number"),
    ("max_tokens", "ten", "an integer"),
    ("stop", 123, "a string or a list of strings"),
    ("response_format", "json", "{'type': 'json_object'}"),
    ("tools", "not-a-list", "a list of tool dicts"),
    ("top_p", [0.5], "a number"),
]


@pytest.mark.parametrize("wire", sorted(WIRES))
@pytest.mark.parametrize(("name", "value", "fix"), BAD_PARAMS, ids=[b[0] for b in BAD_PARAMS])
def test_bad_call_kwargs(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, timer: FakeTimer,
    wire: str, name: str, value: Any, fix: str,
) -> None:  # fmt: skip
    with pytest.raises(InvalidInputError) as info:
        hub_for(make_hub, server, recorder, wire).completion("llm.inference", HI, **{name: value})
    text = str(info.value)
    assert f"{name}={value!r} (passed to completion())" in text
    assert f"pass {fix}" in text
    assert "nothing was sent" in text
    assert_nothing_happened(server, recorder, timer)


@pytest.mark.parametrize(("name", "value", "fix"), BAD_PARAMS[:3], ids=[b[0] for b in BAD_PARAMS[:3]])
def test_bad_params_override_and_role_params(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, timer: FakeTimer, name: str, value: Any, fix: str
) -> None:
    hub = hub_for(make_hub, server, recorder)
    with pytest.raises(InvalidInputError) as info:
        hub.completion("llm.inference", HI, params_override={name: value})
    assert f"{name}={value!r} (in params_override)" in str(info.value)
    role_hub = hub_for(make_hub, server, recorder, params={name: value})
    with pytest.raises(InvalidInputError) as info:
        role_hub.completion("llm.inference", HI)
    assert f"{name}={value!r} (in the params of role 'llm.inference' (standin/m))" in str(info.value)
    assert_nothing_happened(server, recorder, timer)


def test_a_call_value_of_none_drops_a_bad_role_param(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder
) -> None:
    hub = hub_for(make_hub, server, recorder, params={"temperature": "hot"})
    hub.completion("llm.inference", HI, temperature=None)
    assert "temperature" not in server.requests[-1].body


def test_async_calls_check_too(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, timer: FakeTimer
) -> None:
    hub = hub_for(make_hub, server, recorder, "anthropic")
    with pytest.raises(InvalidInputError, match="max_tokens='ten'"):
        asyncio.run(hub.acompletion("llm.inference", HI, max_tokens="ten"))
    assert_nothing_happened(server, recorder, timer)


@pytest.mark.parametrize("override", [[("temperature", 0.2)], "temperature=0.2", 3, {1: "x"}])
def test_params_override_must_be_a_mapping_of_names(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, timer: FakeTimer, override: Any
) -> None:
    with pytest.raises(InvalidInputError, match="params_override"):
        hub_for(make_hub, server, recorder).completion("llm.inference", HI, params_override=override)
    with pytest.raises(InvalidInputError, match="params_override"):
        hub_for(make_hub, server, recorder).embedding("llm.embedding", "x", params_override=override)
    assert_nothing_happened(server, recorder, timer)


@pytest.mark.parametrize("role", [[], {}, 3, None, ("llm.inference",)])
def test_the_role_must_be_a_name(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, timer: FakeTimer, role: Any
) -> None:
    hub = hub_for(make_hub, server, recorder)
    with pytest.raises(InvalidInputError, match=r"the role must be a role name such as 'llm\.inference'"):
        hub.completion(role, HI)
    with pytest.raises(InvalidInputError):
        hub.resolve(role)
    with pytest.raises(InvalidInputError):
        asyncio.run(hub.aembedding(role, "x"))
    assert_nothing_happened(server, recorder, timer)


@pytest.mark.parametrize("bad_role", [["user"], {"user": 1}, 7, None])
def test_a_message_role_must_be_a_known_string(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, timer: FakeTimer, bad_role: Any
) -> None:
    with pytest.raises(InvalidInputError, match=r"messages\[1\] has role .*expected one of assistant"):
        hub_for(make_hub, server, recorder).completion(
            "llm.inference", [{"role": "user", "content": "a"}, {"role": bad_role, "content": "b"}]
        )
    assert_nothing_happened(server, recorder, timer)


@pytest.mark.parametrize("timeout", ["abc", -1, 0, True, [3]])
def test_timeout_must_be_positive_seconds(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, timer: FakeTimer, timeout: Any
) -> None:
    with pytest.raises(InvalidInputError, match=r"timeout=.* is not valid: pass the seconds per attempt"):
        hub_for(make_hub, server, recorder).completion("llm.inference", HI, timeout=timeout)
    assert_nothing_happened(server, recorder, timer)


# --- stream belongs to the call ------------------------------------------------------------------------


def test_stream_in_params_override_is_refused(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, timer: FakeTimer
) -> None:
    with pytest.raises(InvalidInputError) as info:
        hub_for(make_hub, server, recorder).completion("llm.inference", HI, params_override={"stream": True})
    assert "'stream' is not a parameter (in params_override)" in str(info.value)
    assert "completion(..., stream=True)" in str(info.value)
    assert_nothing_happened(server, recorder, timer)


def test_stream_in_role_params_is_refused_at_load(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, timer: FakeTimer
) -> None:
    with pytest.raises(ConfigValidationError) as info:
        hub_for(make_hub, server, recorder, params={"stream": True})
    [problem] = info.value.problems
    assert problem.key_path == "roles.llm.inference.params.stream"
    assert problem.message == "'stream' belongs to the call (stream=True), not to params"
    assert_nothing_happened(server, recorder, timer)


def test_stream_as_a_kwarg_of_another_mode_is_refused(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder, timer: FakeTimer
) -> None:
    with pytest.raises(InvalidInputError, match=r"'stream' is not a parameter \(passed to embedding\(\)\)"):
        hub_for(make_hub, server, recorder).embedding("llm.embedding", "x", stream=True)
    assert_nothing_happened(server, recorder, timer)


def test_stream_false_in_params_override_is_refused_too(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder
) -> None:
    with pytest.raises(InvalidInputError):
        hub_for(make_hub, server, recorder).completion("llm.inference", HI, params_override={"stream": False})


def test_a_stream_none_in_params_override_is_just_dropped(
    make_hub: HubFactory, server: StandInServer, recorder: Recorder
) -> None:
    chunks = list(hub_for(make_hub, server, recorder).completion(
        "llm.inference", HI, stream=True, params_override={"stream": None}
    ))  # fmt: skip
    assert chunks
    assert server.requests[-1].stream is True
    assert server.requests[-1].body["stream_options"] == {"include_usage": True}
