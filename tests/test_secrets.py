"""No API key ever appears in reprs, errors, logs or hook events (parametrized over the surfaces).

The error tests go further than the message: the whole ``__cause__`` / ``__context__`` chain, every
attribute reachable from it (``.response.request.headers`` included), ``traceback.format_exception``
(with and without the frames' locals), ``logger.exception`` and ``llmhub call --debug``, for real
HTTP errors from the stand-in on both wires, and for a refused connection.
"""

from __future__ import annotations

import json
import logging
import pickle
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from llmhub_runtime import AuthenticationError, LLMHub, LLMHubError, ProviderError
from llmhub_runtime.cli import main
from llmhub_runtime.testing import StandInServer
from llmhub_runtime.testing.env import unused_port
from llmhub_runtime.testing.replies import Fault

from .conftest import Recorder  # type: ignore[import-not-found]

SECRET = "sk-llmhub-TEST-SECRET-0123456789"
HEADER_SECRET = "hdr-TEST-SECRET-abcdef987654"
URL_SECRET = "url-TEST-SECRET-5555aaaa"
SECRETS = (SECRET, HEADER_SECRET, URL_SECRET)
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def secret_hub(
    server: StandInServer, monkeypatch: pytest.MonkeyPatch, recorder: Recorder, make_hub: Callable[..., LLMHub]
) -> Iterator[LLMHub]:
    cfg = server.chat_config()
    cfg["providers"]["standin"]["env_key"] = "LLMHUB_SECRET_KEY"
    cfg["roles"]["llm.inference"]["retry"] = {"max_attempts": 2, "backoff": 0}
    monkeypatch.setenv("LLMHUB_SECRET_KEY", SECRET)
    yield make_hub(cfg, hooks=[recorder])


def surfaces(hub: LLMHub, server: StandInServer, recorder: Recorder, caplog: pytest.LogCaptureFixture) -> list[str]:
    texts = [repr(hub), str(hub), repr(hub.config), repr(hub.resolve("llm.inference")),
             hub.resolve("llm.inference").model_dump_json()]  # fmt: skip
    with caplog.at_level(logging.DEBUG):
        hub.completion("llm.inference", HI)
        list(hub.completion("llm.inference", HI, stream=True))
        server.enqueue(
            "standin-chat", Fault(status=500), Fault(status=401, message=f"Incorrect API key provided: {SECRET}")
        )
        with pytest.raises(LLMHubError) as info:
            hub.completion("llm.inference", HI)
    error: Any = info.value
    assert isinstance(error, AuthenticationError)
    texts += [str(error), repr(error), repr(error.__dict__), str(pickle.loads(pickle.dumps(error)).__dict__)]
    texts += [repr(e) for e in recorder.events]
    texts += [r.getMessage() for r in caplog.records] + [caplog.text]
    return texts


@pytest.mark.parametrize("surface", ["repr", "errors", "logs", "hook events"])
def test_no_secret_anywhere(
    secret_hub: LLMHub, server: StandInServer, recorder: Recorder, caplog: pytest.LogCaptureFixture, surface: str
) -> None:
    texts = surfaces(secret_hub, server, recorder, caplog)
    assert server.last_request is not None
    assert server.last_request.headers["authorization"] == f"Bearer {SECRET}"  # it was really used
    assert len(texts) > 10
    leaked = [t for t in texts if SECRET in t]
    assert leaked == []


def test_scrubbed_message_says_secure(secret_hub: LLMHub, server: StandInServer) -> None:
    server.enqueue("standin-chat", Fault(status=401, message=f"Incorrect API key provided: {SECRET}"))
    with pytest.raises(ProviderError) as info:
        secret_hub.completion("llm.inference", HI)
    assert "Incorrect API key provided: [secure]" in str(info.value)


# --- the exception chain -------------------------------------------------------------------------------

WIRES = {"openai": ("standin", "standin-chat"), "anthropic": ("standin-anthropic", "claude-secret")}
FAULTS = {
    "401": Fault(status=401, message=f"Incorrect API key provided: {SECRET}"),
    "429": Fault(status=429, message=f"Rate limit for key {SECRET}", headers={"Retry-After": "0"}),
    "500": Fault(status=500, message=f"internal error for {SECRET} / {HEADER_SECRET}"),
    "400": Fault(status=400, message=f"Authorization header 'Bearer {SECRET}' rejected param"),
    "refused": None,
}


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__, getattr(current, "original_exception", None)]
    return seen


def reachable_strings(value: Any, depth: int = 0, seen: set[int] | None = None) -> Iterator[str]:
    """Every string reachable from ``value`` through attributes, mappings and sequences (frames excluded)."""
    seen = set() if seen is None else seen
    if depth > 8 or id(value) in seen or (callable(value) and not isinstance(value, BaseException)):
        return
    seen.add(id(value))
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes | bytearray):
        yield bytes(value).decode("latin-1")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from reachable_strings(k, depth + 1, seen)
            yield from reachable_strings(v, depth + 1, seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from reachable_strings(item, depth + 1, seen)
    elif value is None or isinstance(value, int | float):
        return
    else:
        if isinstance(value, BaseException):
            yield from reachable_strings(list(value.args), depth + 1, seen)
            yield from reachable_strings(getattr(value, "__notes__", []), depth + 1, seen)
        for name in ("headers", "request", "response", "_request", "url", "text"):  # properties too
            try:
                attr = getattr(value, name, None)
            except Exception:  # noqa: S112 - a property that cannot be read holds nothing to leak
                continue
            if attr is not None and not callable(attr):
                yield from reachable_strings(attr if not hasattr(attr, "raw") else attr.raw, depth + 1, seen)
        try:
            attrs = vars(value)
        except TypeError:
            return
        for name, attr in attrs.items():
            if name not in ("__traceback__",):
                yield from reachable_strings(attr, depth + 1, seen)


def _library_locals(te: traceback.TracebackException | None, depth: int = 0) -> list[str]:
    """The locals' reprs of every library frame in the traceback (what Sentry-style reporters capture)."""
    if te is None or depth > 10:
        return []
    found = [f"{name}={value}" for frame in te.stack if "/tests/" not in frame.filename
             for name, value in (frame.locals or {}).items()]  # fmt: skip
    return found + _library_locals(te.__cause__, depth + 1) + _library_locals(te.__context__, depth + 1)


def leaks(error: BaseException) -> list[str]:
    chain = _chain(error)
    texts = [str(x) for x in chain] + [repr(x) for x in chain]
    texts += traceback.format_exception(error)
    texts += _library_locals(traceback.TracebackException.from_exception(error, capture_locals=True))
    for x in chain:
        texts += list(reachable_strings(x))
    return [t for t in texts if any(s in t for s in SECRETS)]


@pytest.fixture
def wire_hub(server: StandInServer, monkeypatch: pytest.MonkeyPatch, make_hub: Callable[..., LLMHub]) -> Any:
    def build(wire: str, *, dead: bool = False) -> LLMHub:
        provider, model = WIRES[wire]
        cfg = server.chat_config()
        entry = cfg["providers"][provider]
        entry["env_key"] = "LLMHUB_SECRET_KEY"
        entry["client_args"] = {"default_headers": {"X-Api-Key": HEADER_SECRET}}
        if dead:
            entry["api_base"] = f"http://127.0.0.1:{unused_port()}" + ("/v1" if wire == "openai" else "")
        cfg["roles"]["llm.inference"] = {"provider": provider, "model": model, "mode": "chat",
                                         "retry": {"max_attempts": 2, "backoff": 0}}  # fmt: skip
        monkeypatch.setenv("LLMHUB_SECRET_KEY", SECRET)
        return make_hub(cfg)

    return build


@pytest.mark.parametrize("wire", sorted(WIRES))
@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("stream", [False, True], ids=["call", "stream"])
def test_no_secret_in_the_exception_chain(
    wire_hub: Any, server: StandInServer, caplog: pytest.LogCaptureFixture, wire: str, fault: str, stream: bool
) -> None:
    hub = wire_hub(wire, dead=fault == "refused")
    item = FAULTS[fault]
    if item is not None:
        server.enqueue(WIRES[wire][1], item, item)
    logger = logging.getLogger("test_secrets")
    with pytest.raises(ProviderError) as info, caplog.at_level(logging.DEBUG):
        try:
            result = hub.completion("llm.inference", HI, stream=stream)
            list(result) if stream else None
        except ProviderError:
            logger.exception("call failed")
            raise
    error = info.value
    if item is not None:
        sent = server.requests[-1].headers
        assert sent["x-api-key"] == HEADER_SECRET  # both secrets really went out
        assert SECRET in sent.get("authorization", "") + sent.get("x-api-key", "") or wire == "anthropic"
    assert len(_chain(error)) >= 3  # the SDK's exceptions are still there to debug
    assert leaks(error) == []
    assert not [r for r in caplog.records if any(s in r.getMessage() for s in SECRETS)]
    assert not any(s in caplog.text for s in SECRETS)
    assert "call failed" in caplog.text and "Traceback" in caplog.text


def test_chain_keeps_what_debugging_needs(wire_hub: Any, server: StandInServer) -> None:
    hub = wire_hub("openai")
    server.enqueue("standin-chat", FAULTS["401"])
    with pytest.raises(AuthenticationError) as info:
        hub.completion("llm.inference", HI)
    cause: Any = info.value.__cause__
    assert type(cause).__module__ == "any_llm.exceptions"
    sdk: Any = cause.__cause__
    assert type(sdk).__name__ == "AuthenticationError" and type(sdk).__module__.startswith("openai")
    assert sdk.status_code == 401
    assert sdk.response.status_code == 401
    assert sdk.response.request.method == "POST"
    assert sdk.response.request.headers["authorization"] == "[secure]"
    assert sdk.response.request.headers["x-api-key"] == "[secure]"
    assert json.loads(sdk.response.text)["error"]["message"] == "Incorrect API key provided: [secure]"
    assert sdk.body["message"] == "Incorrect API key provided: [secure]"
    assert sdk.__traceback__ is None
    assert any("raised at" in note for note in sdk.__notes__)  # where it came from, without the frames


def test_cli_debug_traceback_has_no_key(
    server: StandInServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "llmhub.yaml"
    path.write_text(
        f"providers:\n  standin:\n    kind: openai\n    api_base: {server.openai_base}\n    env_key: LLMHUB_SECRET_KEY\n"
        f"    client_args: {{default_headers: {{X-Api-Key: {HEADER_SECRET}}}}}\n"
        "roles:\n  llm.inference: {provider: standin, model: standin-chat, mode: chat}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LLMHUB_SECRET_KEY", SECRET)
    server.enqueue("standin-chat", FAULTS["401"])
    assert main(["call", "llm.inference", "hi", "--config", str(path), "--debug"]) == 1
    captured = capsys.readouterr()
    assert "Traceback (most recent call last)" in captured.err
    assert "AuthenticationError" in captured.err
    assert not any(s in captured.out + captured.err for s in SECRETS)


# --- keys in api_base and client_args -------------------------------------------------------------------


def _keyed_config(server: StandInServer) -> dict[str, Any]:
    cfg = server.chat_config()
    base = server.openai_base.replace("http://", f"http://user:{URL_SECRET}@")
    cfg["providers"]["standin"].update(
        api_base=base + f"?api_key={URL_SECRET}&api-version=1",
        client_args={"default_headers": {"Authorization": f"Bearer {HEADER_SECRET}", "X-Trace": "visible"}},
    )
    return cfg


@pytest.mark.parametrize("surface", ["model_dump_json", "config json", "reprs"])
def test_keys_in_api_base_and_client_args_are_masked(server: StandInServer, surface: str) -> None:
    hub = LLMHub(config=_keyed_config(server))
    call = hub.resolve("llm.inference")
    texts = {
        "model_dump_json": [call.model_dump_json(), call.primary.model_dump_json()],
        "config json": [hub.config.model_dump_json(), hub.config.providers["standin"].model_dump_json()],
        "reprs": [repr(hub), repr(call), repr(call.primary), repr(hub.config), repr(hub.config.providers["standin"])],
    }[surface]
    assert not [t for t in texts if URL_SECRET in t or HEADER_SECRET in t]
    if surface != "reprs":
        assert "[secure]" in texts[0] and "visible" in texts[0] and "api-version=1" in texts[0]
    assert call.primary.api_base is not None and URL_SECRET in call.primary.api_base  # the real value is kept


@pytest.mark.parametrize("command", [["explain", "llm.inference"], ["explain", "llm.inference", "--json"],
                                     ["doctor", "--ping"], ["doctor", "--json"]])  # fmt: skip
def test_explain_and_doctor_mask_keys_in_api_base(
    server: StandInServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    import yaml

    path = tmp_path / "llmhub.yaml"
    path.write_text(yaml.safe_dump(_keyed_config(server)), encoding="utf-8")
    capsys.readouterr()
    argv = [command[0], *command[1:2]] if command[0] == "explain" else [command[0]]
    argv = [*argv, str(path)] if command[0] == "doctor" else [*argv, "--config", str(path)]
    argv += [c for c in command[1:] if c.startswith("--")]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == (1 if "--ping" in command else 0), captured  # a query string in api_base confuses the SDK's URL
    if command != ["doctor", "--json"]:  # offline doctor does not print the endpoint
        assert "[secure]" in captured.out
    assert not any(s in captured.out + captured.err for s in SECRETS)


@pytest.mark.parametrize("wire", sorted(WIRES))
def test_no_secret_after_a_stream_breaks(wire_hub: Any, server: StandInServer, wire: str) -> None:
    from llmhub_runtime import StreamInterruptedError

    hub = wire_hub(wire)
    server.enqueue(WIRES[wire][1], Fault(disconnect_after_chunks=2))
    with pytest.raises(StreamInterruptedError) as info:
        list(hub.completion("llm.inference", HI, stream=True))
    assert leaks(info.value) == []


@pytest.mark.parametrize("wire", sorted(WIRES))
def test_no_secret_in_async_errors(wire_hub: Any, server: StandInServer, wire: str) -> None:
    import asyncio

    hub = wire_hub(wire)
    server.enqueue(WIRES[wire][1], FAULTS["401"])
    with pytest.raises(AuthenticationError) as info:
        asyncio.run(hub.acompletion("llm.inference", HI))
    assert leaks(info.value) == []


@pytest.mark.parametrize("fault", ["401", "refused"])
def test_no_secret_from_a_key_in_the_api_base(
    server: StandInServer, make_hub: Callable[..., LLMHub], monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    port = server.port if fault == "401" else unused_port()
    cfg = server.chat_config()
    cfg["providers"]["standin"]["api_base"] = f"http://user:{URL_SECRET}@127.0.0.1:{port}/v1"
    server.enqueue("standin-chat", Fault(status=401, message=f"bad credentials user:{URL_SECRET}"))
    with pytest.raises(ProviderError) as info:
        make_hub(cfg).completion("llm.inference", HI)
    assert leaks(info.value) == []
    assert "http://[secure]@127.0.0.1" in str(info.value) or fault == "401"
