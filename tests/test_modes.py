"""The modes beyond chat and embedding, end to end: hub → any-llm → real SDK → HTTP → stand-in.

image, speech, transcription, rerank, moderation, responses and tool roles: the answer's shape,
role params on the wire, mode enforcement and input checks before any network, a retry on a 503,
usage in hook events, and capability problems reported at load.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from any_llm.types.audio import Transcription
from any_llm.types.completion import ChatCompletion
from any_llm.types.image import ImagesResponse
from any_llm.types.moderation import ModerationResponse
from any_llm.types.rerank import RerankResponse
from any_llm.types.responses import Response

from llmhub_runtime import ConfigValidationError, InvalidInputError, LLMHub, ModeMismatchError, load_config
from llmhub_runtime.testing import Fault, StandInServer
from llmhub_runtime.testing.media import UploadedFile, png, wav
from llmhub_runtime.testing.timer import FakeTimer

from .conftest import Recorder  # type: ignore[import-not-found]

HubFactory = Callable[..., LLMHub]
needs_together = pytest.mark.skipif(
    importlib.util.find_spec("together") is None, reason="rerank goes through any-llm's together provider (SDK missing)"
)
WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CLOCK: dict[str, Any] = {
    "type": "function",
    "function": {"name": "get_time", "description": "Current time in a timezone", "parameters": {"type": "object"}},
}
RETRY = {"max_attempts": 2, "backoff": 0.5}


def modes_config(server: StandInServer) -> dict[str, Any]:
    cfg = server.chat_config()
    cfg["providers"]["together"] = {"api_base": server.openai_base, "env_key": None}
    standin = {"provider": "standin", "retry": RETRY}
    cfg["roles"].update(
        {
            "img": {
                **standin,
                "model": "gpt-image-1",
                "mode": "image",
                "params": {"size": "1024x1024", "quality": "low"},
            },
            "tts": {**standin, "model": "tts-1", "mode": "speech", "params": {"voice": "alloy"}},
            "stt": {**standin, "model": "whisper-1", "mode": "transcription", "params": {"language": "en"}},
            "mod": {**standin, "model": "omni-moderation-latest", "mode": "moderation"},
            "rsp": {
                **standin,
                "model": "gpt-4.1",
                "mode": "responses",
                "params": {"instructions": "Be brief.", "max_output_tokens": 50},
            },
            "rr": {
                "provider": "together",
                "model": "rerank-v1",
                "mode": "rerank",
                "params": {"top_n": 2},
                "retry": RETRY,
            },
            "agent": {**standin, "model": "gpt-tools", "mode": "tool", "tools": [WEATHER], "tool_choice": "required"},
        }
    )
    return cfg


@pytest.fixture
def hub(make_hub: HubFactory, server: StandInServer, recorder: Recorder) -> LLMHub:
    return make_hub(modes_config(server), hooks=[recorder])


def body(server: StandInServer) -> Any:
    assert server.last_request is not None
    return server.last_request.body


def end_usage(recorder: Recorder) -> tuple[int, int] | None:
    end = recorder.events[-1]
    assert end.kind == "end"
    return (end.usage.input_tokens, end.usage.output_tokens) if end.usage is not None else None


# --- image ------------------------------------------------------------------------------------------


def test_image(hub: LLMHub, server: StandInServer, recorder: Recorder) -> None:
    response = hub.image("img", "a red cat", n=2)

    assert isinstance(response, ImagesResponse)
    assert [base64.b64decode(d.b64_json or "") for d in response.data or []] == [
        png("a red cat\x000"),
        png("a red cat\x001"),
    ]
    wire = body(server)
    assert (wire["model"], wire["prompt"], wire["size"], wire["quality"], wire["n"]) == (
        "gpt-image-1", "a red cat", "1024x1024", "low", 2,
    )  # fmt: skip
    assert recorder.kinds() == ["start", "end"]
    assert recorder.events[-1].mode == "image"
    assert end_usage(recorder) == (3, 128)


async def test_aimage(hub: LLMHub, server: StandInServer) -> None:
    response = await hub.aimage("img", "a red cat", params_override={"size": "1536x1024"}, response_format="url")

    [image] = response.data or []
    assert image.url is not None and image.url.startswith(server.url)
    assert (body(server)["size"], body(server)["response_format"]) == ("1536x1024", "url")


# --- speech and transcription ---------------------------------------------------------------------------


def test_speech_voice_from_role_params(hub: LLMHub, server: StandInServer, recorder: Recorder) -> None:
    audio = hub.speech("tts", "hello there")

    assert audio == wav("hello there", "alloy")
    assert body(server) == {"model": "tts-1", "input": "hello there", "voice": "alloy"}
    assert recorder.kinds() == ["start", "end"] and recorder.events[-1].usage is None


async def test_aspeech_call_voice_wins(hub: LLMHub, server: StandInServer) -> None:
    audio = await hub.aspeech("tts", "hello there", voice="echo", response_format="wav")

    assert audio == wav("hello there", "echo")
    assert (body(server)["voice"], body(server)["response_format"]) == ("echo", "wav")


def test_speech_without_a_voice_fails_before_network(make_hub: HubFactory, server: StandInServer) -> None:
    cfg = modes_config(server)
    cfg["roles"]["tts"]["params"] = {}
    with pytest.raises(InvalidInputError) as info:
        make_hub(cfg).speech("tts", "hello")
    assert str(info.value) == (
        "speech() needs voice= for role 'tts' (target standin/tts-1): set it in the role's params "
        "(params: {voice: ...}) or pass voice=... in the call."
    )
    assert server.requests == []


def test_transcription_of_bytes(hub: LLMHub, server: StandInServer, recorder: Recorder) -> None:
    audio = hub.speech("tts", "the quick brown fox")
    result = hub.transcription("stt", audio)

    assert isinstance(result, Transcription)
    assert result.text == "the quick brown fox"
    form = body(server)
    assert (form["model"], form["language"]) == ("whisper-1", "en")
    assert isinstance(form["file"], UploadedFile) and form["file"].data == audio
    assert end_usage(recorder) == (7, 4)


async def test_atranscription_of_a_path_and_a_file(hub: LLMHub, server: StandInServer, tmp_path: Path) -> None:
    path = tmp_path / "clip.wav"
    path.write_bytes(wav("one two three"))

    from_path = await hub.atranscription("stt", path, language="fr")
    upload = body(server)["file"]
    with path.open("rb") as handle:
        from_file = await hub.atranscription("stt", handle)

    assert (from_path.text, from_file.text) == ("one two three", "one two three")
    assert (upload.filename, upload.content_type, body(server)["language"]) == ("clip.wav", "audio/wav", "en")
    assert server.requests[0].body["language"] == "fr"


# --- rerank ---------------------------------------------------------------------------------------------


@needs_together
def test_rerank(hub: LLMHub, server: StandInServer, recorder: Recorder) -> None:
    ranked = hub.rerank("rr", "red cat", ["a dog", "a red cat", "the cat"])

    assert isinstance(ranked, RerankResponse)
    assert [(r.index, r.relevance_score) for r in ranked.results] == [(1, 1.0), (2, 0.5)]
    assert (body(server)["query"], body(server)["top_n"]) == ("red cat", 2)
    assert server.last_request is not None and server.last_request.api == "rerank"
    assert end_usage(recorder) == (9, 0)


@needs_together
async def test_arerank_call_kwargs_win(hub: LLMHub, server: StandInServer) -> None:
    ranked = await hub.arerank("rr", "red cat", ["a dog", "a red cat", "the cat"], top_n=1)

    assert [r.index for r in ranked.results] == [1]
    assert body(server)["top_n"] == 1


# --- moderation -----------------------------------------------------------------------------------------


def test_moderation(hub: LLMHub, server: StandInServer, recorder: Recorder) -> None:
    result = hub.moderation("mod", ["I will kill you", "a nice day"])

    assert isinstance(result, ModerationResponse)
    assert [r.flagged for r in result.results] == [True, False]
    assert result.results[0].categories["violence"] is True
    assert body(server) == {"model": "omni-moderation-latest", "input": ["I will kill you", "a nice day"]}
    assert recorder.kinds() == ["start", "end"] and recorder.events[-1].usage is None


async def test_amoderation(hub: LLMHub) -> None:
    result = await hub.amoderation("mod", "you idiot")
    assert [(r.flagged, r.categories["harassment"]) for r in result.results] == [(True, True)]


# --- responses ------------------------------------------------------------------------------------------


def test_responses(hub: LLMHub, server: StandInServer, recorder: Recorder) -> None:
    response = hub.responses("rsp", "say hello world")

    assert isinstance(response, Response)
    assert response.output_text == "hello world"
    wire = body(server)
    assert (wire["input"], wire["instructions"], wire["max_output_tokens"]) == ("say hello world", "Be brief.", 50)
    assert end_usage(recorder) == (5, 2)
    assert recorder.events[-1].answered_model == "gpt-4.1"


async def test_aresponses_with_items(hub: LLMHub, server: StandInServer) -> None:
    response = await hub.aresponses(
        "rsp", [{"role": "user", "content": "say hi there"}], params_override={"max_output_tokens": 1}
    )
    assert (response.status, response.output_text) == ("incomplete", "hi")
    assert body(server)["max_output_tokens"] == 1


def test_responses_does_not_stream(hub: LLMHub, server: StandInServer) -> None:
    with pytest.raises(InvalidInputError, match=r"responses\(\) does not stream"):
        hub.responses("rsp", "hi", stream=True)
    assert server.requests == []


# --- tool roles -----------------------------------------------------------------------------------------


def test_tool_role_returns_tool_calls_without_tools_in_the_call(
    hub: LLMHub, server: StandInServer, recorder: Recorder
) -> None:
    response = hub.completion("agent", "weather in Rome?")

    assert isinstance(response, ChatCompletion)
    [call] = response.choices[0].message.tool_calls or []
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Rome"})
    assert (body(server)["tools"], body(server)["tool_choice"]) == ([WEATHER], "required")
    assert recorder.events[-1].mode == "tool"
    assert hub.resolve("agent").primary.param_sources["tools"] == "role"


async def test_tool_role_async_and_streamed(hub: LLMHub, server: StandInServer) -> None:
    response = await hub.acompletion("agent", "what now?")
    stream = hub.completion("agent", "what now?", stream=True)
    names = [
        tc.function.name
        for chunk in stream
        for choice in chunk.choices
        for tc in choice.delta.tool_calls or []
        if tc.function is not None and tc.function.name
    ]

    assert [tc.function.name for tc in response.choices[0].message.tool_calls or []] == ["get_weather"]
    assert names == ["get_weather"]
    assert body(server)["tools"] == [WEATHER] and body(server)["stream"] is True


def test_tools_in_the_call_win(hub: LLMHub, server: StandInServer) -> None:
    response = hub.completion("agent", "what time is it in Tokyo?", tools=[CLOCK])

    assert [tc.function.name for tc in response.choices[0].message.tool_calls or []] == ["get_time"]
    assert body(server)["tools"] == [CLOCK]
    assert "tool_choice" not in body(server)  # the role's tool_choice goes with the role's tools

    hub.completion("agent", "hello", tool_choice="none")
    assert (body(server)["tools"], body(server)["tool_choice"]) == ([WEATHER], "none")


def test_chat_role_may_carry_tools(make_hub: HubFactory, server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["roles"]["llm.inference"]["tools"] = [WEATHER]
    response = make_hub(cfg).completion("llm.inference", "hello there")

    assert response.choices[0].message.content == "Stand-in reply to: hello there"
    assert body(server)["tools"] == [WEATHER] and "tool_choice" not in body(server)


# --- mode enforcement and bad input, before any network ------------------------------------------------

SYNC_CALLS: dict[str, Callable[[LLMHub, str], Any]] = {
    "completion": lambda hub, role: hub.completion(role, "hi"),
    "embedding": lambda hub, role: hub.embedding(role, "hi"),
    "image": lambda hub, role: hub.image(role, "a cat"),
    "speech": lambda hub, role: hub.speech(role, "hi"),
    "transcription": lambda hub, role: hub.transcription(role, b"RIFF"),
    "rerank": lambda hub, role: hub.rerank(role, "q", ["d"]),
    "moderation": lambda hub, role: hub.moderation(role, "hi"),
    "responses": lambda hub, role: hub.responses(role, "hi"),
}
ASYNC_CALLS: dict[str, Callable[[LLMHub, str], Awaitable[Any]]] = {
    "completion": lambda hub, role: hub.acompletion(role, "hi"),
    "embedding": lambda hub, role: hub.aembedding(role, "hi"),
    "image": lambda hub, role: hub.aimage(role, "a cat"),
    "speech": lambda hub, role: hub.aspeech(role, "hi"),
    "transcription": lambda hub, role: hub.atranscription(role, b"RIFF"),
    "rerank": lambda hub, role: hub.arerank(role, "q", ["d"]),
    "moderation": lambda hub, role: hub.amoderation(role, "hi"),
    "responses": lambda hub, role: hub.aresponses(role, "hi"),
}
# method -> (a role of another mode, its mode, the method that serves it)
MISMATCHES = {
    "completion": ("img", "image", "image"),
    "embedding": ("agent", "tool", "completion"),
    "image": ("llm.inference", "chat", "completion"),
    "speech": ("stt", "transcription", "transcription"),
    "transcription": ("tts", "speech", "speech"),
    "rerank": ("llm.embedding", "embedding", "embedding"),
    "moderation": ("rsp", "responses", "responses"),
    "responses": ("mod", "moderation", "moderation"),
}
NEEDS = {"completion": "'chat' role (or a 'tool' role)"}


def _mismatch_message(method: str) -> str:
    role, mode, right = MISMATCHES[method]
    needs = NEEDS.get(method, f"{method!r} role")
    expected = "'chat' or 'tool'" if method == "completion" else repr(method)
    an = "an" if method[0] in "aeiou" else "a"  # "an 'embedding' role", "an 'image' role"
    return (
        f"Role {role!r} has mode {mode!r}, but {method}() needs {an} {needs}. "
        f"Call {right}() or a{right}() for {mode!r} roles, or point {method}() at {an} {expected} role."
    )


@pytest.mark.parametrize("method", sorted(SYNC_CALLS))
def test_mode_mismatch_names_the_right_method(hub: LLMHub, server: StandInServer, method: str) -> None:
    with pytest.raises(ModeMismatchError) as info:
        SYNC_CALLS[method](hub, MISMATCHES[method][0])
    assert str(info.value) == _mismatch_message(method)
    assert (info.value.method, info.value.mode) == (method, MISMATCHES[method][1])
    assert server.requests == []


@pytest.mark.parametrize("method", sorted(ASYNC_CALLS))
async def test_async_mode_mismatch(hub: LLMHub, server: StandInServer, method: str) -> None:
    with pytest.raises(ModeMismatchError) as info:
        await ASYNC_CALLS[method](hub, MISMATCHES[method][0])
    assert str(info.value) == _mismatch_message(method)
    assert server.requests == []


BAD_INPUT: list[tuple[Callable[[LLMHub], Any], str]] = [
    (lambda hub: hub.image("img", ""), "image prompt is empty; pass the text."),
    (lambda hub: hub.image("img", 42), "image prompt must be a string, not int."),
    (lambda hub: hub.speech("tts", "   "), "speech input is empty; pass the text."),
    (lambda hub: hub.transcription("stt", b""), "the audio is empty (0 bytes); pass the recording to transcribe."),
    (lambda hub: hub.transcription("stt", "/no/such/clip.wav"), "audio file '/no/such/clip.wav' does not exist or is not a file."),
    (lambda hub: hub.transcription("stt", io.StringIO("text")), "the audio file object must be opened in binary mode ('rb'), it gave str."),
    (lambda hub: hub.transcription("stt", 3.5), "audio must be bytes, a path or a binary file object, not float."),
    (lambda hub: hub.rerank("rr", "q", []), "rerank documents is an empty list; pass at least one document."),
    (lambda hub: hub.rerank("rr", "q", "one doc"), "rerank documents must be a list of strings, not str."),
    (lambda hub: hub.rerank("rr", "q", ["ok", 7]), "rerank documents[1] is a int; every document must be a string."),
    (lambda hub: hub.rerank("rr", "q", ["ok", " "]), "rerank documents[1] is an empty string; providers reject empty documents."),
    (lambda hub: hub.rerank("rr", ["q"], ["d"]), "rerank query must be a string, not list."),
    (lambda hub: hub.moderation("mod", []), "moderation input is an empty list; pass at least one item."),
    (lambda hub: hub.moderation("mod", [1]), "moderation input[0] is a int; each item must be a string or a content part such as {'type': 'text', 'text': ...}."),
    (lambda hub: hub.responses("rsp", ""), "responses input is empty; pass the text."),
    (lambda hub: hub.responses("rsp", ["hi"]), "responses input[0] is a str; each item must be a dict such as {'role': 'user', 'content': ...}."),
]  # fmt: skip


@pytest.mark.parametrize(("call", "message"), BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_bad_input_before_network(
    hub: LLMHub, server: StandInServer, call: Callable[[LLMHub], Any], message: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        call(hub)
    assert str(info.value) == message
    assert server.requests == []


# --- a retry on a 503, for every mode --------------------------------------------------------------------

RETRIED: dict[str, tuple[str, Callable[[LLMHub], Any], Callable[[LLMHub], Awaitable[Any]]]] = {
    "image": ("gpt-image-1", lambda h: h.image("img", "a cat"), lambda h: h.aimage("img", "a cat")),
    "speech": ("tts-1", lambda h: h.speech("tts", "hi"), lambda h: h.aspeech("tts", "hi")),
    "transcription": ("whisper-1", lambda h: h.transcription("stt", wav("hi")), lambda h: h.atranscription("stt", wav("hi"))),
    "rerank": ("rerank-v1", lambda h: h.rerank("rr", "q", ["q"]), lambda h: h.arerank("rr", "q", ["q"])),
    "moderation": ("omni-moderation-latest", lambda h: h.moderation("mod", "hi"), lambda h: h.amoderation("mod", "hi")),
    "responses": ("gpt-4.1", lambda h: h.responses("rsp", "hi"), lambda h: h.aresponses("rsp", "hi")),
    "tool": ("gpt-tools", lambda h: h.completion("agent", "hi"), lambda h: h.acompletion("agent", "hi")),
}  # fmt: skip


def _skip_without_together(mode: str) -> None:
    if mode == "rerank" and importlib.util.find_spec("together") is None:
        pytest.skip("rerank goes through any-llm's together provider (SDK missing)")


@pytest.mark.parametrize("mode", sorted(RETRIED))
def test_retry_on_503(hub: LLMHub, server: StandInServer, timer: FakeTimer, recorder: Recorder, mode: str) -> None:
    _skip_without_together(mode)
    model, call, _ = RETRIED[mode]
    server.enqueue(model, Fault(status=503))

    call(hub)

    assert timer.sleeps == [0.5]
    assert [r.model for r in server.requests] == [model, model]
    assert recorder.kinds() == ["start", "error", "start", "end"]
    error = recorder.events[1]
    assert (error.error_type, error.wait, error.mode) == ("ProviderServerError", 0.5, mode)


@pytest.mark.parametrize("mode", sorted(RETRIED))
async def test_async_retry_on_503(
    hub: LLMHub, server: StandInServer, timer: FakeTimer, recorder: Recorder, mode: str
) -> None:
    _skip_without_together(mode)
    model, _, acall = RETRIED[mode]
    server.enqueue(model, Fault(status=503))

    await acall(hub)

    assert timer.sleeps == [0.5]
    assert len(server.requests) == 2
    assert recorder.kinds() == ["start", "error", "start", "end"]


def test_usage_report_counts_the_new_modes(hub: LLMHub) -> None:
    hub.image("img", "a red cat")
    hub.responses("rsp", "say hello world")
    hub.moderation("mod", "hi")
    report = hub.usage()
    assert (report.roles["img"].input_tokens, report.roles["img"].output_tokens) == (3, 64)
    assert (report.roles["rsp"].input_tokens, report.roles["rsp"].output_tokens) == (5, 2)
    assert (report.roles["mod"].calls, report.roles["mod"].input_tokens) == (1, 0)


# --- config: capabilities and tools, at load ------------------------------------------------------------

CAPABILITY_YAML = """\
providers:
  claude: {kind: anthropic, env_key: null}
  oai: {kind: openai, env_key: null}
roles:
  llm.embedding:
    provider: claude
    model: some-embedder
    mode: embedding
  llm.image:
    provider: oai
    model: gpt-image-1
    mode: image
    fallbacks:
      - provider: deepseek
        model: deepseek-chat
  llm.rerank:
    provider: oai
    model: rerank
    mode: rerank
  llm.ok:
    provider: oai
    model: tts-1
    mode: speech
"""


def test_capability_problems_at_load_with_key_path_and_line(tmp_path: Path) -> None:
    path = tmp_path / "llmhub.yaml"
    path.write_text(CAPABILITY_YAML, encoding="utf-8")
    with pytest.raises(ConfigValidationError) as info:
        load_config(path)
    problems = [(p.key_path, p.line, p.message) for p in info.value.problems]
    assert problems == [
        (
            "roles.llm.embedding.mode",
            8,
            "provider 'claude' (any-llm 'anthropic') does not support mode 'embedding' "
            "(any-llm's SUPPORTS_EMBEDDING is False for it)",
        ),
        (
            "roles.llm.image.fallbacks[0].provider",
            14,
            "provider 'deepseek' (any-llm 'deepseek') does not support mode 'image' "
            "(any-llm's SUPPORTS_IMAGE_GENERATION is False for it)",
        ),
        (
            "roles.llm.rerank.mode",
            19,
            "provider 'oai' (any-llm 'openai') does not support mode 'rerank' (any-llm's SUPPORTS_RERANK is False for it)",
        ),
    ]
    assert f"{path}:8: roles.llm.embedding.mode: provider 'claude'" in str(info.value)


def test_capability_problem_for_defaults_and_env_overlays(tmp_path: Path) -> None:
    path = tmp_path / "llmhub.yaml"
    path.write_text(
        "defaults: {provider: anthropic, model: m, mode: moderation}\n"
        "roles:\n"
        "  r: {provider: openai, model: m, mode: responses}\n"
        "envs:\n"
        "  prod:\n"
        "    roles:\n"
        "      r: {provider: groq}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigValidationError) as info:
        load_config(path)
    assert [(p.key_path, p.line) for p in info.value.problems] == [("defaults.mode", 1)]
    assert "provider 'anthropic' (any-llm 'anthropic') does not support mode 'moderation'" in str(info.value)


def test_unknown_capability_never_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmhub_runtime import config_from_dict, providers

    assert providers.supports_mode("no-such-provider", "chat") is None
    assert providers.supports_mode("openai", "no-such-mode") is None
    unknown = dict.fromkeys(providers.CAPABILITY_FLAGS)  # as when any-llm's source cannot be read
    monkeypatch.setattr(providers, "provider_capabilities", lambda kind: unknown)
    config = config_from_dict({"roles": {"r": {"provider": "anthropic", "model": "m", "mode": "embedding"}}})
    assert config.roles["r"].mode == "embedding"


TOOL_PROBLEMS = [
    # a tool role without tools: gets them per call (issue 13); an explicitly empty list is still a mistake
    ({"mode": "tool", "tools": []}, "roles.r.tools", "role 'r' has mode 'tool' and an empty 'tools:' list; list its tool definitions, or leave 'tools:' out to pass tools= in each call"),
    ({"mode": "embedding", "tools": [WEATHER]}, "roles.r.tools", "'tools' is only for chat and tool roles; role 'r' has mode 'embedding'"),
    ({"mode": "image", "tool_choice": "auto"}, "roles.r.tool_choice", "'tool_choice' is only for chat and tool roles; role 'r' has mode 'image'"),
    ({"mode": "chat", "tool_choice": "required"}, "roles.r.tool_choice", "tool_choice needs tools; list them under 'tools:'"),
    ({"mode": "tool", "tools": [WEATHER, WEATHER]}, "roles.r.tools[1].function.name", "tool 'get_weather' is listed twice"),
    ({"mode": "tool", "tools": [WEATHER], "params": {"tools": []}}, "roles.r.params.tools", "'tools' is set both here and as the role's 'tools'; keep one"),
    (
        {"mode": "tool", "tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "get_wether"}}},
        "roles.r.tool_choice.function.name",
        "tool_choice names 'get_wether', which is not one of the role's tools (get_weather)",
    ),
    ({"mode": "tool", "tools": [{"function": {"name": "bad name!"}}]}, "roles.r.tools[0].function.name", "String should match pattern '^[A-Za-z0-9_-]{1,64}$' (got 'bad name!')"),
    ({"mode": "tool", "tools": [{"function": {"name": "f", "parms": {}}}]}, "roles.r.tools[0].function.parms", "unknown key 'parms' (allowed: name, description, parameters, strict)"),
    ({"mode": "tool", "tools": [WEATHER], "tool_choice": "always"}, "roles.r.tool_choice", "'always' is not one of 'auto', 'required' or 'none'"),
]  # fmt: skip


@pytest.mark.parametrize(("role", "key_path", "message"), TOOL_PROBLEMS, ids=[k for _, k, _ in TOOL_PROBLEMS])
def test_tool_config_problems(role: dict[str, Any], key_path: str, message: str) -> None:
    from llmhub_runtime import config_from_dict

    with pytest.raises(ConfigValidationError) as info:
        config_from_dict({"roles": {"r": {"provider": "openai", "model": "m", **role}}})
    assert [(p.key_path, p.message) for p in info.value.problems][:1] == [(key_path, message)]


def test_tool_choice_suggests_the_tool(tmp_path: Path) -> None:
    path = tmp_path / "llmhub.yaml"
    path.write_text(
        "roles:\n"
        "  agent:\n"
        "    provider: openai\n"
        "    model: gpt-4o\n"
        "    mode: tool\n"
        "    tools:\n"
        "      - function: {name: get_weather, parameters: {type: object}}\n"
        "    tool_choice: {type: function, function: {name: get_wether}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigValidationError) as info:
        load_config(path)
    [problem] = info.value.problems
    assert (problem.key_path, problem.line, problem.suggestion) == (
        "roles.agent.tool_choice.function.name",
        8,
        "get_weather",
    )
