"""Errors are classified by HTTP status and exception type, never by message text; local mistakes are not retried.

Every case is a real HTTP answer (or a real local failure) on the OpenAI and the Anthropic wire.
"""

from __future__ import annotations

import contextlib
import errno
import sys
from collections.abc import Callable
from typing import Any

import pytest

from llmhub_runtime import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    InvalidInputError,
    LLMHub,
    ModelNotFoundError,
    ProviderConnectionError,
    ProviderError,
    ProviderServerError,
    ProviderTimeoutError,
    RateLimitError,
    RequestTooLargeError,
    UnknownRoleError,
)
from llmhub_runtime.testing import StandInServer, unused_port
from llmhub_runtime.testing.replies import Fault
from llmhub_runtime.testing.timer import FakeTimer

from .conftest import Recorder  # type: ignore[import-not-found]

HubFactory = Callable[..., LLMHub]
HI = [{"role": "user", "content": "hello"}]
WIRES = {"openai": "standin", "anthropic": "standin-anthropic"}
PRIMARY = "primary-model"
BACKUP = "backup-model"


def chain_config(server: StandInServer, wire: str, *, attempts: int = 3, fallback: bool = True,
                 base: str | None = None) -> dict[str, Any]:  # fmt: skip
    cfg = server.chat_config()
    if base is not None:
        cfg["providers"][WIRES[wire]]["api_base"] = base
    cfg["roles"]["llm.inference"] = {
        "provider": WIRES[wire],
        "model": PRIMARY,
        "mode": "chat",
        "retry": {"max_attempts": attempts, "backoff": 0.5, "max_retry_after": 30},
        "fallbacks": [{"role": "llm.backup"}] if fallback else [],
    }
    cfg["roles"]["llm.backup"] = {"provider": "standin", "model": BACKUP, "mode": "chat"}
    return cfg


def models_called(server: StandInServer) -> list[str]:
    return [r.model for r in server.requests]


# --- status decides, message text never does ---------------------------------------------------------


@pytest.mark.parametrize("wire", sorted(WIRES))
@pytest.mark.parametrize(
    "message",
    ["Missing Authorization header value for tool 'x'", "invalid api key format in param 'user'",
     "permission to use this parameter is denied", "the context length of 'stop' is too long",
     "rate limit field invalid", "content policy field 'safety' unknown"],
)  # fmt: skip
def test_a_400_is_a_bad_request_whatever_its_message_says(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer, wire: str, message: str
) -> None:
    server.enqueue(PRIMARY, Fault(status=400, message=message))
    with pytest.raises(BadRequestError) as info:
        make_hub(chain_config(server, wire)).completion("llm.inference", HI)
    assert type(info.value) is BadRequestError
    assert info.value.status_code == 400
    assert message in info.value.message
    assert models_called(server) == [PRIMARY]  # raised at once: neither retried nor fallen back
    assert timer.sleeps == []


@pytest.mark.parametrize("wire", sorted(WIRES))
def test_a_401_is_authentication_whatever_its_message_says(
    make_hub: HubFactory, server: StandInServer, wire: str
) -> None:
    server.enqueue(PRIMARY, Fault(status=401, message="bad request: invalid parameter"))
    assert make_hub(chain_config(server, wire)).completion("llm.inference", HI).model == BACKUP
    assert models_called(server) == [PRIMARY, BACKUP]


@pytest.mark.parametrize("wire", sorted(WIRES))
@pytest.mark.parametrize(
    ("status", "error_type", "requests"),
    [
        (401, AuthenticationError, 1),
        (403, AuthenticationError, 1),
        (404, ModelNotFoundError, 1),
        (408, ProviderTimeoutError, 2),
        (409, ProviderError, 1),
        (413, RequestTooLargeError, 1),
        (422, BadRequestError, 1),
        (429, RateLimitError, 2),
        (500, ProviderServerError, 2),
        (502, ProviderServerError, 2),
        (503, ProviderServerError, 2),
        (504, ProviderServerError, 2),
        (529, ProviderServerError, 2),
    ],
)
def test_each_status_has_its_class_and_policy(
    make_hub: HubFactory, server: StandInServer, wire: str, status: int, error_type: type[Exception], requests: int
) -> None:
    server.enqueue(PRIMARY, Fault(status=status), Fault(status=status))
    with pytest.raises(error_type) as info:
        make_hub(chain_config(server, wire, attempts=2, fallback=False)).completion("llm.inference", HI)
    assert type(info.value) is error_type
    assert info.value.status_code == status  # type: ignore[attr-defined]
    assert info.value.attempts == requests  # type: ignore[attr-defined]
    assert models_called(server) == [PRIMARY] * requests


def test_413_is_a_bad_request_that_moves_to_the_next_target(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer
) -> None:
    assert issubclass(RequestTooLargeError, BadRequestError)
    server.enqueue(PRIMARY, Fault(status=413))
    assert make_hub(chain_config(server, "openai")).completion("llm.inference", HI).model == BACKUP
    assert models_called(server) == [PRIMARY, BACKUP]
    assert timer.sleeps == []


def test_408_is_retried_with_backoff(make_hub: HubFactory, server: StandInServer, timer: FakeTimer) -> None:
    server.enqueue(PRIMARY, Fault(status=408))
    assert make_hub(chain_config(server, "anthropic")).completion("llm.inference", HI).model == PRIMARY
    assert timer.sleeps == [0.5]


def test_context_length_is_read_from_the_structured_code(make_hub: HubFactory, server: StandInServer) -> None:
    server.enqueue(PRIMARY, Fault(status=400, message="anything at all", error_type="context_length_exceeded"))
    with pytest.raises(ContextLengthError):
        make_hub(chain_config(server, "openai", fallback=False)).completion("llm.inference", HI)


# --- Retry-After on every retryable status ---------------------------------------------------------------


@pytest.mark.parametrize("wire", sorted(WIRES))
@pytest.mark.parametrize("status", [429, 500, 503, 529])
@pytest.mark.parametrize("header", [("Retry-After", "7"), ("retry-after-ms", "7000")])
def test_retry_after_is_honoured_on_every_retryable_status(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer, recorder: Recorder,
    wire: str, status: int, header: tuple[str, str],
) -> None:  # fmt: skip
    server.enqueue(PRIMARY, Fault(status=status, headers=dict([header])))
    hub = make_hub(chain_config(server, wire), hooks=[recorder])
    assert hub.completion("llm.inference", HI).model == PRIMARY
    assert timer.sleeps == [7.0]
    assert [e.wait for e in recorder.events if e.kind == "error"] == [7.0]


@pytest.mark.parametrize("status", [503, 529])
def test_a_retry_after_over_the_cap_moves_on_at_once(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer, status: int
) -> None:
    server.enqueue(PRIMARY, Fault(status=status, headers={"Retry-After": "120"}))
    assert make_hub(chain_config(server, "anthropic")).completion("llm.inference", HI).model == BACKUP
    assert timer.sleeps == []


def test_server_error_keeps_retry_after_seconds(make_hub: HubFactory, server: StandInServer) -> None:
    server.enqueue(PRIMARY, Fault(status=503, headers={"Retry-After": "3"}))
    with pytest.raises(ProviderServerError) as info:
        make_hub(chain_config(server, "openai", attempts=1, fallback=False)).completion("llm.inference", HI)
    assert info.value.retry_after == 3.0


# --- local mistakes are not server failures ------------------------------------------------------------


@pytest.mark.parametrize("wire", sorted(WIRES))
@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"metadata": {"note": object()}}, "not JSON serializable"),
        ({"temperature": float("nan")}, "Out of range float values"),
        ({"messages_extra": {1, 2}}, "TypeError"),
    ],
    ids=["not-json", "nan", "set"],
)
def test_local_mistakes_are_invalid_input_with_no_request_and_no_retry(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer, recorder: Recorder,
    wire: str, kwargs: dict[str, Any], fragment: str,
) -> None:  # fmt: skip
    hub = make_hub(chain_config(server, wire), hooks=[recorder])
    with pytest.raises(InvalidInputError) as info:
        hub.completion("llm.inference", HI, **kwargs)
    assert fragment in str(info.value)
    assert "nothing was sent" in str(info.value)
    assert server.requests == []
    assert timer.sleeps == []
    assert [e.kind for e in recorder.events].count("start") == 1  # one attempt, not max_attempts


def test_tools_given_as_a_string_is_invalid_input_on_the_anthropic_wire(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer
) -> None:
    with pytest.raises(InvalidInputError) as info:
        make_hub(chain_config(server, "anthropic")).completion("llm.inference", HI, tools="not-a-list")
    assert "tools" in str(info.value)
    assert server.requests == [] and timer.sleeps == []


def test_local_mistakes_in_async_calls_too(make_hub: HubFactory, server: StandInServer, timer: FakeTimer) -> None:
    import asyncio

    hub = make_hub(chain_config(server, "openai"))
    with pytest.raises(InvalidInputError):
        asyncio.run(hub.acompletion("llm.inference", HI, metadata={"x": object()}))
    assert server.requests == [] and timer.sleeps == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")
def test_running_out_of_file_descriptors_is_not_a_server_error(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer, recorder: Recorder
) -> None:
    """EMFILE on this machine re-raises its OSError after one attempt: no retry, no fallback, no request."""
    import os
    import resource

    hub = make_hub(chain_config(server, "openai"), hooks=[recorder])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    held: list[int] = []
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 16, hard))
    try:
        with contextlib.suppress(OSError):
            while len(held) < 64:
                held.append(os.open(os.devnull, os.O_RDONLY))
        with pytest.raises(OSError) as info:
            hub.completion("llm.inference", HI)
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert not isinstance(info.value, ProviderError)
    assert info.value.errno == errno.EMFILE
    assert server.requests == [] and timer.sleeps == []
    assert [e.kind for e in recorder.events].count("start") == 1


# --- what a connection error says -----------------------------------------------------------------------


@pytest.mark.parametrize("wire", sorted(WIRES))
def test_a_refused_connection_names_the_base_and_what_to_do(
    make_hub: HubFactory, server: StandInServer, wire: str
) -> None:
    port = unused_port()
    base = f"http://user:sk-in-the-url-1234@127.0.0.1:{port}" + ("/v1" if wire == "openai" else "")
    with pytest.raises(ProviderConnectionError) as info:
        make_hub(chain_config(server, wire, attempts=1, fallback=False, base=base)).completion("llm.inference", HI)
    text = str(info.value)
    assert f"Connection to http://[secure]@127.0.0.1:{port}" in text
    assert "sk-in-the-url-1234" not in text
    assert "Is the server running?" in text
    assert "`llmhub serve-local`" in text and "`llmhub doctor --ping`" in text
    assert "[Errno 111]" in text  # the operating system's reason


# --- UnknownRoleError stays short ----------------------------------------------------------------------


def test_unknown_role_lists_at_most_twenty_roles() -> None:
    known = [f"role.{i:05d}" for i in range(10_000)]
    error = UnknownRoleError("role.x", known, ["role.00001"])
    assert len(str(error)) < 1_000
    assert "'role.00019'" in str(error) and "'role.00020'" not in str(error)
    assert "and 9980 more" in str(error)
    assert error.known == tuple(known)  # every name is still there for code


def test_unknown_role_from_a_hub_with_many_roles(server: StandInServer) -> None:
    cfg = server.chat_config()
    for i in range(50):
        cfg["roles"][f"team.role{i}"] = {"provider": "standin", "model": "m", "mode": "chat"}
    with pytest.raises(UnknownRoleError) as info:
        LLMHub(config=cfg, strict=True).completion("team.rol", HI)
    assert "and 32 more" in str(info.value)


def test_local_mistakes_in_other_modes(make_hub: HubFactory, server: StandInServer, timer: FakeTimer) -> None:
    cfg = chain_config(server, "openai")
    cfg["roles"]["llm.responses"] = {
        "provider": "standin",
        "model": "r",
        "mode": "responses",
        "retry": {"max_attempts": 3},
    }
    cfg["roles"]["llm.embedding"]["retry"] = {"max_attempts": 3}
    hub = make_hub(cfg)
    with pytest.raises(InvalidInputError, match=r"metadata\.x: Input should be a valid string"):
        hub.responses("llm.responses", "hi", metadata={"x": object()})  # any-llm's ResponsesParams says so
    with pytest.raises(InvalidInputError, match="not JSON serializable"):
        hub.embedding("llm.embedding", "hi", user=object())
    assert server.requests == [] and timer.sleeps == []
