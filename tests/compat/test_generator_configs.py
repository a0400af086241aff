"""Files in the shapes rethink-llmhub 2.3.0's generator writes load, pass `llmhub check`, and run.

The fixtures are written by hand from the generator's emitters (see their header comments) and are
used unedited: the SDKs reach the stand-in through OPENAI_BASE_URL / ANTHROPIC_BASE_URL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmhub_runtime import (
    ConfigValidationError,
    InvalidInputError,
    LLMHub,
    ModeMismatchError,
    config_from_dict,
    load_config,
)
from llmhub_runtime.cli import main
from llmhub_runtime.testing import StandInServer

from .conftest import FIXTURES  # type: ignore[import-not-found]

GENERATED = FIXTURES / "generated_llmhub.yaml"
MACHINE = FIXTURES / "machine_llmhub.yaml"
WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_both_shapes_load_with_their_legacy_parts() -> None:
    generated, machine = load_config(GENERATED), load_config(MACHINE)
    modes = {name: role.mode for name, role in generated.roles.items()}
    assert modes == {
        "llm.inference": "chat", "llm.preprocess": "chat", "llm.embedding": "embedding", "llm.voice": "audio",
        "llm.agent": "tool", "llm.misc": "other", "llm.image": "image",
    }  # fmt: skip
    assert generated.roles["llm.agent"].tools is None
    assert machine.meta is not None
    assert machine.meta["llm.answer"]["backups"] == ["openai/gpt-4o-mini", "openai/gpt-4o"]
    assert machine.meta["llm.search"]["relaxations_applied"] == ["dropped provider allowlist"]


def test_check_says_what_each_legacy_part_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(GENERATED)]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note: role")]
    assert notes == [
        "note: role 'llm.voice': mode 'audio' (llmhub-runtime 1.x) is served by completion() as a chat completion, "
        "as 1.x did; audio goes in and out through chat params (modalities, audio). For text to speech use mode "
        "'speech', for speech to text mode 'transcription'",
        "note: role 'llm.agent': mode 'tool' without 'tools:': each call must pass tools=[...]",
        "note: role 'llm.misc': mode 'other' (llmhub-runtime 1.x) is served by completion() like 'chat', as 1.x "
        "did; give the role a specific mode if its model is not a chat model",
    ]
    assert main(["check", str(MACHINE), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["notes"][:2] == [
        "role 'llm.router': mode 'tool' without 'tools:': each call must pass tools=[...]",
        "meta: generator notes for 3 roles (llmhub generate); shown by 'llmhub explain', never used for calls",
    ]


def test_explain_shows_the_generators_notes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "llm.search", "--config", str(MACHINE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == (
        'meta {"rationale": "Selected openai/text-embedding-3-small (score: 0.700). Applied 1 relaxation(s)", '
        '"relaxations_applied": ["dropped provider allowlist"], "backups": []}   '
        "(written by llmhub generate; not used for calls)"
    )


def test_unknown_keys_elsewhere_stay_errors() -> None:
    data = yaml.safe_load(GENERATED.read_text())
    data["metadata"] = {}
    data["roles"]["llm.voice"]["mdoe"] = "audio"
    with pytest.raises(ConfigValidationError) as caught:
        config_from_dict(data)
    found = {(p.key_path, p.suggestion) for p in caught.value.problems}
    assert found == {("metadata", "meta"), ("roles.llm.voice.mdoe", "mode")}


def test_a_generated_file_runs_every_role(published_env: StandInServer) -> None:
    server = published_env
    with LLMHub(GENERATED) as hub:
        answer = hub.completion("llm.inference", "hello")  # anthropic
        assert answer.choices[0].message.content == "Stand-in reply to: hello"
        assert (server.last_request.api, server.last_request.model) == (
            "anthropic-messages",
            "claude-3-5-sonnet-20241022",
        )

        for role in ("llm.preprocess", "llm.voice", "llm.misc"):  # chat, and 1.x's audio and other
            reply = hub.completion(role, [{"role": "user", "content": f"via {role}"}])
            assert reply.choices[0].message.content == f"Stand-in reply to: via {role}"
            assert (server.last_request.path, server.last_request.model) == ("/v1/chat/completions", "gpt-4o-mini")
        assert server.last_request.body["temperature"] == 0.5

        vectors = hub.embedding("llm.embedding", ["a", "b"])
        assert [len(item.embedding) for item in vectors.data] == [16, 16]

        image = hub.image("llm.image", "a red square")
        assert image.data and image.data[0].b64_json
        assert server.last_request.body["size"] == "1024x1024"

        unlisted = hub.completion("llm.unlisted", "hi")  # 1.x served unknown roles from defaults: so does llmhub
        assert unlisted.model == "gpt-4o-mini"
        assert server.last_request.body["max_completion_tokens"] == 1024
        assert len(server.requests) == 7


async def test_legacy_modes_async_and_their_mismatch(published_env: StandInServer) -> None:
    with LLMHub(GENERATED) as hub:
        reply = await hub.acompletion("llm.voice", "hello voice")
        assert reply.choices[0].message.content == "Stand-in reply to: hello voice"
        with pytest.raises(ModeMismatchError, match=r"Role 'llm\.misc' has mode 'other', but embedding"):
            hub.embedding("llm.misc", "x")
        with pytest.raises(ModeMismatchError) as caught:
            hub.completion("llm.embedding", "x")
        assert "needs a 'chat' role (or a 'tool' role)" in str(caught.value)
    assert len(published_env.requests) == 1


def test_tool_role_without_tools_takes_them_per_call(published_env: StandInServer) -> None:
    server = published_env
    with LLMHub(MACHINE) as hub:
        with pytest.raises(InvalidInputError) as caught:
            hub.completion("llm.router", "weather in Rome?")
        assert str(caught.value) == (
            "Role 'llm.router' has mode 'tool' but no tools for target openai/gpt-4o-mini: pass tools=[...] in the "
            "call, or list them under the role's 'tools:' in llmhub.yaml."
        )
        assert server.requests == []  # refused before any network

        response = hub.completion("llm.router", "weather in Rome?", tools=[WEATHER], tool_choice="required")
        [call] = response.choices[0].message.tool_calls or []
        assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Rome"})
        assert server.last_request.body["tools"] == [WEATHER]
        assert server.last_request.headers["authorization"] == "Bearer sk-test-openai"  # `openai: {}`: default key

        answer = hub.completion("llm.answer", "hi")  # anthropic, with meta beside it
        assert answer.choices[0].message.content == "Stand-in reply to: hi"


def test_fixture_files_are_what_they_say(tmp_path: Path) -> None:
    """The hand-written fixtures keep the generator's key order (yaml.dump with sort_keys=False)."""
    for path, top in ((GENERATED, ["project", "env", "providers", "roles", "defaults"]),
                      (MACHINE, ["project", "env", "providers", "roles", "meta"])):  # fmt: skip
        data = yaml.safe_load(path.read_text())
        assert list(data) == top
        for role in data["roles"].values():
            assert list(role) == ["provider", "model", "mode", "params"]
