"""Each `Fault` makes the real SDKs raise their own exception classes."""

from __future__ import annotations

import json
import threading
from typing import Any

import anthropic
import httpx
import openai
import pytest
from any_llm import AnyLLM
from any_llm.exceptions import ContextLengthExceededError, ModelNotFoundError, RateLimitError

from llmhub_runtime.testing import Fault, Reply, StandInServer

pytestmark = pytest.mark.both_transports  # the oai/claude fixtures: sync httpx clients, or async ones on aiohttp

HELLO: Any = [{"role": "user", "content": "hello there"}]

OPENAI_CLASSES = [
    (400, openai.BadRequestError, "invalid_request_error"),
    (401, openai.AuthenticationError, "invalid_request_error"),
    (403, openai.PermissionDeniedError, "invalid_request_error"),
    (404, openai.NotFoundError, "invalid_request_error"),
    (409, openai.ConflictError, "invalid_request_error"),
    (422, openai.UnprocessableEntityError, "invalid_request_error"),
    (429, openai.RateLimitError, "requests"),
    (500, openai.InternalServerError, "server_error"),
    (503, openai.InternalServerError, "server_error"),
    (529, openai.InternalServerError, "server_error"),
]
ANTHROPIC_CLASSES = [
    (400, anthropic.BadRequestError, "invalid_request_error"),
    (401, anthropic.AuthenticationError, "authentication_error"),
    (403, anthropic.PermissionDeniedError, "permission_error"),
    (404, anthropic.NotFoundError, "not_found_error"),
    (413, anthropic.RequestTooLargeError, "request_too_large"),
    (429, anthropic.RateLimitError, "rate_limit_error"),
    (500, anthropic.InternalServerError, "api_error"),
    (503, anthropic.InternalServerError, "api_error"),
    (529, anthropic.OverloadedError, "overloaded_error"),
]


def _claude_message(client: anthropic.Anthropic, **kwargs: Any) -> Any:
    return client.messages.create(model="claude-x", max_tokens=50, messages=HELLO, **kwargs)


# status faults ------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(("status", "error_class", "error_type"), OPENAI_CLASSES)
def test_openai_status_faults(
    server: StandInServer, oai: openai.OpenAI, status: int, error_class: type[Exception], error_type: str, stream: bool
) -> None:
    server.enqueue("m", Fault(status=status))

    with pytest.raises(error_class) as caught:
        oai.chat.completions.create(model="m", messages=HELLO, stream=stream)

    error = caught.value
    assert isinstance(error, openai.APIStatusError)
    assert error.status_code == status
    assert isinstance(error.body, dict)
    assert error.body["type"] == error_type
    assert error.body["message"]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(("status", "error_class", "error_type"), ANTHROPIC_CLASSES)
def test_anthropic_status_faults(
    server: StandInServer,
    claude: anthropic.Anthropic,
    status: int,
    error_class: type[Exception],
    error_type: str,
    stream: bool,
) -> None:
    server.enqueue("claude-x", Fault(status=status))

    with pytest.raises(error_class) as caught:
        _claude_message(claude, stream=stream)

    error = caught.value
    assert isinstance(error, anthropic.APIStatusError)
    assert error.status_code == status
    assert error.body == {"type": "error", "error": {"type": error_type, "message": error.body["error"]["message"]}}


def test_retry_after_header_and_custom_message(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("m", Fault(status=429, headers={"Retry-After": "2"}, message="slow down", error_type="tokens"))

    with pytest.raises(openai.RateLimitError) as caught:
        oai.chat.completions.create(model="m", messages=HELLO)

    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.body == {"message": "slow down", "type": "tokens", "param": None, "code": "rate_limit_exceeded"}


def test_anthropic_retry_after_header(server: StandInServer, claude: anthropic.Anthropic) -> None:
    server.enqueue("claude-x", Fault(status=429, headers={"Retry-After": "7"}))

    with pytest.raises(anthropic.RateLimitError) as caught:
        _claude_message(claude)

    assert caught.value.response.headers["retry-after"] == "7"


def test_embeddings_fault(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("e", Fault(status=404))

    with pytest.raises(openai.NotFoundError, match="The model `e` does not exist"):
        oai.embeddings.create(model="e", input="x")


def test_context_length_wording_is_classified_by_any_llm(server: StandInServer) -> None:
    server.enqueue("m", Fault.context_length())
    server.enqueue("claude-x", Fault.context_length())
    oai = AnyLLM.create("openai", api_key="x", api_base=server.openai_base, unified_exceptions=True, max_retries=0)
    claude = AnyLLM.create(
        "anthropic", api_key="x", api_base=server.anthropic_base, unified_exceptions=True, max_retries=0
    )

    with pytest.raises(ContextLengthExceededError) as from_openai:
        oai.completion(model="m", messages=HELLO)
    with pytest.raises(ContextLengthExceededError) as from_anthropic:
        claude.completion(model="claude-x", messages=HELLO)

    assert from_openai.value.code == "context_length_exceeded"
    assert from_openai.value.status_code == 400
    assert from_anthropic.value.status_code == 400


def test_any_llm_reads_rate_limit_and_not_found(server: StandInServer) -> None:
    server.enqueue("m", Fault(status=429, headers={"Retry-After": "3"}), Fault(status=404))
    llm = AnyLLM.create("openai", api_key="x", api_base=server.openai_base, unified_exceptions=True, max_retries=0)

    with pytest.raises(RateLimitError) as limited:
        llm.completion(model="m", messages=HELLO)
    with pytest.raises(ModelNotFoundError):
        llm.completion(model="m", messages=HELLO)

    assert limited.value.retry_after == "3"


# malformed, delay, disconnect ---------------------------------------------------------------


def test_malformed_json_body(server: StandInServer, oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    server.enqueue("m", Fault(malformed=True))
    server.enqueue("claude-x", Fault(malformed=True))

    with pytest.raises(json.JSONDecodeError):
        oai.chat.completions.create(model="m", messages=HELLO)
    with pytest.raises(json.JSONDecodeError):
        _claude_message(claude)


def test_malformed_stream_event(server: StandInServer, oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    server.enqueue("m", Fault(malformed=True))
    server.enqueue("claude-x", Fault(malformed=True))

    with pytest.raises(json.JSONDecodeError):
        list(oai.chat.completions.create(model="m", messages=HELLO, stream=True))
    with pytest.raises(json.JSONDecodeError):
        list(_claude_message(claude, stream=True))


def test_malformed_embeddings(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("e", Fault(malformed=True))

    with pytest.raises(json.JSONDecodeError):
        oai.embeddings.create(model="e", input="x")


def test_delay_beyond_client_timeout_raises_timeout(server: StandInServer) -> None:
    server.enqueue("m", Fault(delay=1.0))
    server.enqueue("claude-x", Fault(delay=1.0))

    oai = openai.OpenAI(api_key="x", base_url=server.openai_base, max_retries=0, timeout=0.1)
    claude = anthropic.Anthropic(api_key="x", base_url=server.anthropic_base, max_retries=0, timeout=0.1)

    with oai, pytest.raises(openai.APITimeoutError):
        oai.chat.completions.create(model="m", messages=HELLO)
    with claude, pytest.raises(anthropic.APITimeoutError):
        _claude_message(claude)


def test_delay_only_fault_then_default_answer(server: StandInServer, oai: openai.OpenAI) -> None:
    server.script("m", lambda request: Reply(text="scripted"))
    server.enqueue("m", Fault(delay=0.05, headers={"x-standin-test": "yes"}))

    raw = oai.chat.completions.with_raw_response.create(model="m", messages=HELLO)

    assert raw.headers["x-standin-test"] == "yes"
    assert raw.parse().choices[0].message.content == "Stand-in reply to: hello there"


def test_delay_then_status(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("m", Fault(delay=0.05, status=503))

    with pytest.raises(openai.InternalServerError):
        oai.chat.completions.create(model="m", messages=HELLO)


def test_openai_disconnect_after_three_chunks(server: StandInServer, oai: openai.OpenAI, transport: str) -> None:
    server.enqueue("m", Fault(disconnect_after_chunks=3))
    received: list[Any] = []

    # openai 2.x lets httpx's error through; 3.x (on httpx2) wraps it in APIConnectionError, cause kept
    with pytest.raises((httpx.RemoteProtocolError, openai.APIConnectionError)) as info:
        for chunk in oai.chat.completions.create(model="m", messages=HELLO, stream=True):
            received.append(chunk)
    error: BaseException | None = info.value
    while error is not None and type(error).__name__ != "RemoteProtocolError":
        error = error.__cause__ or error.__context__
    wording = "Not enough data to satisfy transfer length" if transport == "aiohttp" else "incomplete chunked read"
    assert error is not None and wording in str(error)

    text = "".join(c.choices[0].delta.content or "" for c in received)
    if transport == "aiohttp":  # aiohttp drops what it buffered but had not handed over when the connection broke
        assert len(received) <= 3 and "Stand-in reply".startswith(text)
    else:
        assert len(received) == 3
        assert text == "Stand-in reply"


def test_anthropic_disconnect_after_three_events(
    server: StandInServer, claude: anthropic.Anthropic, transport: str
) -> None:
    server.enqueue("claude-x", Fault(disconnect_after_chunks=3))
    received: list[str] = []

    with pytest.raises(httpx.RemoteProtocolError):
        for event in _claude_message(claude, stream=True):
            received.append(event.type)

    # message_start, ping, content_block_start were sent; the SDK does not surface pings.
    sent = ["message_start", "content_block_start"]
    assert received == (sent[: len(received)] if transport == "aiohttp" else sent)  # see the OpenAI twin


def test_disconnect_without_stream_drops_the_connection(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("m", Fault(disconnect_after_chunks=0))

    with pytest.raises(openai.APIConnectionError):
        oai.chat.completions.create(model="m", messages=HELLO)

    assert oai.chat.completions.create(model="m", messages=HELLO).choices[0].message.content


def test_script_can_return_faults(server: StandInServer, oai: openai.OpenAI) -> None:
    calls: list[int] = []

    def flaky(request: Any) -> Fault | None:
        calls.append(1)
        return Fault(status=500) if len(calls) == 1 else None

    server.script("m", flaky)

    with pytest.raises(openai.InternalServerError):
        oai.chat.completions.create(model="m", messages=HELLO)
    assert oai.chat.completions.create(model="m", messages=HELLO).choices[0].message.content


def test_stop_interrupts_a_pending_delay() -> None:
    server = StandInServer().start()
    server.enqueue("m", Fault(delay=30))
    with httpx.Client(base_url=server.openai_base, timeout=10) as client:
        errors: list[BaseException] = []

        def call() -> None:
            try:
                client.post("/chat/completions", json={"model": "m", "messages": HELLO})
            except httpx.HTTPError as exc:
                errors.append(exc)

        worker = threading.Thread(target=call)
        worker.start()
        while not server.requests:
            worker.join(0.01)
        server.stop()
        worker.join(5)

    assert not worker.is_alive()
    assert len(errors) == 1
    assert isinstance(errors[0], httpx.RemoteProtocolError)
