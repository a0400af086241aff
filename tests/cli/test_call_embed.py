"""``llmhub call`` and ``llmhub embed`` through any-llm and the openai SDK to the stand-in server."""

from __future__ import annotations

import io
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from llmhub_runtime.cli import main
from llmhub_runtime.testing import Fault, Reply
from llmhub_runtime.testing.server import StandInServer

from .conftest import Result

USAGE = re.compile(r"^\[(?P<model>[^ ]+) · (?P<usage>[^·]+) · (first token [0-9.]+s · )?total [0-9.]+s\]$")


def test_call_streams_the_answer_and_reports_usage(
    run: Callable[..., Result], config_file: Path, server: StandInServer, keyed: None
) -> None:
    server.enqueue("gpt-test", Reply(chunks=["Grey", " cats", " rule."], usage=(7, 3)))
    result = run("call", "llm.inference", "Three names", "--config", str(config_file))
    assert result.code == 0
    assert result.out == "Grey cats rule.\n"
    match = USAGE.match(result.err.strip())
    assert match is not None, result.err
    assert match["model"] == "gpt-test"
    assert match["usage"].strip() == "7 prompt + 3 completion tokens"
    assert "first token" in result.err
    request = server.last_request
    assert request is not None and request.stream
    assert request.body["messages"] == [{"role": "user", "content": "Three names"}]
    assert request.body["stream_options"] == {"include_usage": True}
    assert (request.body["temperature"], request.body["max_completion_tokens"]) == (0.2, 64)
    assert request.headers["authorization"] == "Bearer sk-cli-secret-4242"


def test_system_prompt_and_params_parsed_as_json(
    run: Callable[..., Result], config_file: Path, server: StandInServer, keyed: None
) -> None:
    result = run(
        "call",
        "llm.inference",
        "hi",
        "--system",
        "Be brief.",
        "-p",
        "temperature=0",
        "--param",
        "max_tokens=7",
        "-p",
        'stop=["\\n"]',
        "-p",
        "user=alice",
        "--config",
        str(config_file),
    )
    assert result.code == 0
    body = server.last_request.body  # type: ignore[union-attr]
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert body["temperature"] == 0
    assert body["max_completion_tokens"] == 7  # any-llm sends max_tokens under OpenAI's current name
    assert body["stop"] == ["\n"]
    assert body["user"] == "alice"


def test_prompt_from_stdin(
    run: Callable[..., Result],
    config_file: Path,
    server: StandInServer,
    keyed: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("summarise: the cat sat\n"))
    result = run("call", "llm.inference", "--config", str(config_file))
    assert result.code == 0
    assert result.out == "Stand-in reply to: summarise: the cat sat\n"
    assert server.last_request.body["messages"][-1]["content"] == "summarise: the cat sat\n"  # type: ignore[union-attr]


def test_no_prompt_on_a_terminal_is_an_error(
    run: Callable[..., Result], config_file: Path, keyed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    result = run("call", "llm.inference", "--config", str(config_file))
    assert result.code == 1
    assert result.err == "llmhub: error: no prompt given: pass it as an argument, or pipe it on stdin\n"


def test_json_prints_the_full_response(
    run: Callable[..., Result], config_file: Path, server: StandInServer, keyed: None
) -> None:
    server.enqueue("gpt-test", Reply(text="hello", usage=(2, 1)))
    result = run("call", "llm.inference", "hi", "--json", "--config", str(config_file))
    assert result.code == 0
    response = json.loads(result.out)
    assert response["choices"][0]["message"]["content"] == "hello"
    assert response["usage"]["prompt_tokens"] == 2 and response["usage"]["completion_tokens"] == 1
    assert response["model"] == "gpt-test"
    assert server.last_request is not None and not server.last_request.stream


def test_no_stream_prints_the_text(
    run: Callable[..., Result], config_file: Path, server: StandInServer, keyed: None
) -> None:
    server.enqueue("gpt-test", Reply(text="whole answer", usage=(4, 2)))
    result = run("call", "llm.inference", "hi", "--no-stream", "--config", str(config_file))
    assert (result.code, result.out) == (0, "whole answer\n")
    assert "4 prompt + 2 completion tokens" in result.err
    assert "first token" not in result.err


def test_missing_credential_is_one_line_and_exit_1(run: Callable[..., Result], config_file: Path) -> None:
    result = run("call", "llm.inference", "hi", "--config", str(config_file))
    assert result.code == 1
    assert result.out == ""
    assert result.err == (
        "llmhub: error: No API key for provider 'standin' (needed by role 'llm.inference'): environment variable "
        "STANDIN_KEY is not set or empty. Set it (export STANDIN_KEY=...) or change providers.standin.env_key in "
        "llmhub.yaml.\n"
    )


def test_unknown_role(run: Callable[..., Result], config_file: Path, keyed: None) -> None:
    result = run("call", "llm.embeding", "hi", "--config", str(config_file))
    assert result.code == 1
    assert result.err.startswith("llmhub: error: Unknown role 'llm.embeding'. Did you mean 'llm.embedding'?")


def test_calling_an_embedding_role_names_the_command_to_use(
    run: Callable[..., Result], config_file: Path, server: StandInServer, keyed: None
) -> None:
    result = run("call", "llm.embedding", "hi", "--config", str(config_file))
    assert result.code == 1
    assert result.err == (
        "llmhub: error: Role 'llm.embedding' has mode 'embedding', but 'llmhub call' needs a 'chat' or 'tool' role. "
        "Use 'llmhub embed llm.embedding TEXT' for it, or pick another role ('llmhub roles' lists them).\n"
    )
    assert server.requests == []


@pytest.mark.parametrize("prompt", ["", "  \n"], ids=["empty", "blank"])
def test_an_empty_prompt_is_refused_before_any_request(
    run: Callable[..., Result], config_file: Path, server: StandInServer, keyed: None, prompt: str
) -> None:
    result = run("call", "llm.inference", prompt, "--config", str(config_file))
    assert (result.code, result.out) == (1, "")
    assert result.err == "llmhub: error: the prompt is empty: pass the text to send, or pipe it on stdin\n"
    assert server.requests == []


def test_an_empty_text_to_embed_is_refused_before_any_request(
    run: Callable[..., Result], config_file: Path, server: StandInServer, keyed: None
) -> None:
    result = run("embed", "llm.embedding", "fine", "", "--config", str(config_file))
    assert (result.code, result.out) == (1, "")
    assert result.err == "llmhub: error: the text #2 is empty: pass the text to embed, or pipe it on stdin\n"
    assert server.requests == []


def test_a_provider_failure_after_the_fallback_is_one_error(
    run: Callable[..., Result], config_file: Path, server: StandInServer, keyed: None
) -> None:
    server.enqueue("gpt-test", Fault(status=500))
    server.enqueue("gpt-backup", Fault(status=503))
    result = run("call", "llm.inference", "hi", "--config", str(config_file))
    assert result.code == 1
    assert result.out == ""
    errors = [line for line in result.err.splitlines() if line.startswith("llmhub: error:")]
    assert errors == ["llmhub: error: All 2 targets for role 'llm.inference' failed:"]
    assert "standin/gpt-test after 1 attempt(s): ProviderServerError" in result.err
    assert "open/gpt-backup after 1 attempt(s): ProviderServerError" in result.err
    assert "Traceback" not in result.err


def test_the_fallback_answers_when_the_primary_fails(
    run: Callable[..., Result], config_file: Path, server: StandInServer, keyed: None
) -> None:
    server.enqueue("gpt-test", Fault(status=500))
    server.enqueue("gpt-backup", Reply(text="from the backup"))
    result = run("call", "llm.inference", "hi", "--config", str(config_file))
    assert (result.code, result.out) == (0, "from the backup\n")
    assert result.err.splitlines()[-1].startswith("[gpt-backup · ")


def test_bad_param_syntax_is_a_usage_error(capsys: pytest.CaptureFixture[str], config_file: Path, keyed: None) -> None:
    assert main(["call", "llm.inference", "hi", "-p", "novalue", "--config", str(config_file)]) == 2
    assert "argument -p/--param: expected KEY=VALUE, got 'novalue'" in capsys.readouterr().err


def test_embed_prints_dimension_and_preview(
    run: Callable[..., Result], config_file: Path, server: StandInServer, keyed: None
) -> None:
    result = run("embed", "llm.embedding", "the cat sat", "quarterly revenue", "--config", str(config_file))
    assert result.code == 0
    lines = result.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("'the cat sat': dimension 16, norm 1.000, [")
    assert lines[1].startswith("'quarterly revenue': dimension 16, norm 1.000, [")
    assert lines[0].endswith(", ...]")
    assert re.match(r"^\[embed-test · \d+ input tokens · total [0-9.]+s\]$", result.err.strip())
    assert server.last_request is not None
    assert server.last_request.body["input"] == ["the cat sat", "quarterly revenue"]


def test_embed_json_and_stdin(
    run: Callable[..., Result],
    config_file: Path,
    server: StandInServer,
    keyed: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a paragraph"))
    result = run("embed", "llm.embedding", "--json", "--config", str(config_file))
    assert result.code == 0
    response = json.loads(result.out)
    (item,) = response["data"]
    assert len(item["embedding"]) == 16
    assert math.isclose(math.sqrt(sum(x * x for x in item["embedding"])), 1.0, rel_tol=1e-5)
    assert server.last_request.body["input"] == "a paragraph"  # type: ignore[union-attr]


def test_embed_on_a_chat_role_says_so(run: Callable[..., Result], config_file: Path, keyed: None) -> None:
    result = run("embed", "llm.inference", "x", "--config", str(config_file))
    assert result.code == 1
    assert result.err == (
        "llmhub: error: Role 'llm.inference' has mode 'chat', but 'llmhub embed' needs an 'embedding' role. "
        "Use 'llmhub call llm.inference PROMPT' for it, or pick another role ('llmhub roles' lists them).\n"
    )


def test_the_python_message_uses_the_right_article() -> None:
    from llmhub_runtime.errors import ModeMismatchError

    message = str(ModeMismatchError("llm.inference", "chat", "embedding", "embedding", use="completion"))
    assert "but embedding() needs an 'embedding' role." in message
    assert "or point embedding() at an 'embedding' role." in message
    chat = str(ModeMismatchError("r", "image", "completion", "chat", accepted=("chat", "tool"), use="image"))
    assert "but completion() needs a 'chat' role (or a 'tool' role)." in chat
