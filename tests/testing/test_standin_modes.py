"""The stand-in's non-chat endpoints: images, speech, transcriptions, moderations, responses, rerank.

Served to the real openai SDK (and any-llm's `together` provider for rerank), scripted with
`Reply` and faulted with `Fault` like the chat endpoints.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from any_llm import AnyLLM

from llmhub_runtime.testing import Fault, Reply, StandInServer, ToolCall
from llmhub_runtime.testing.media import UploadedFile, parse_multipart, pcm, png, wav, wav_duration, wav_text
from llmhub_runtime.testing.rerank_wire import relevance

needs_together = pytest.mark.skipif(
    importlib.util.find_spec("together") is None, reason="rerank goes through any-llm's together provider (SDK missing)"
)
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


# media helpers -----------------------------------------------------------------------------------


def test_png_is_a_deterministic_8x8_image() -> None:
    image = png("a red cat")
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    assert image[16:24] == (8).to_bytes(4, "big") * 2  # IHDR width, height
    assert png("a red cat") == image
    assert png("a blue cat") != image


def test_wav_carries_its_text_and_lasts_a_tenth_of_a_second_per_word() -> None:
    audio = wav("hello there world", "alloy")
    assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"
    assert wav_text(audio) == "hello there world"
    assert wav_duration(audio) == 0.3
    assert audio.endswith(pcm("hello there world", "alloy"))
    assert wav("hello there world", "echo") != audio
    assert wav_text(b"not audio") is None and wav_duration(b"RIFF") is None


def test_multipart_form_fields_files_and_lists() -> None:
    request = httpx.Request(
        "POST",
        "http://x/",
        files={"file": ("a.wav", b"RIFFdata", "audio/wav")},
        data={"model": "m", "timestamp_granularities[]": ["word", "segment"]},
    )
    fields = parse_multipart(request.headers["content-type"], request.read())
    assert fields is not None
    assert fields["model"] == "m"
    assert fields["timestamp_granularities[]"] == ["word", "segment"]
    assert fields["file"] == UploadedFile("a.wav", "audio/wav", b"RIFFdata")
    assert repr(fields["file"]) == "UploadedFile(filename='a.wav', content_type='audio/wav', size=8)"
    assert parse_multipart("application/json", b"{}") is None


# images ------------------------------------------------------------------------------------------


def test_images_b64_json_by_default_with_usage(server: StandInServer, oai: openai.OpenAI) -> None:
    response = oai.images.generate(model="gpt-image-1", prompt="a red cat", n=2, size="1024x1024")

    assert [base64.b64decode(d.b64_json or "") for d in response.data or []] == [
        png("a red cat\x000"),
        png("a red cat\x001"),
    ]
    assert [d.revised_prompt for d in response.data or []] == ["a red cat", "a red cat"]
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens) == (3, 128, 131)
    assert response.size == "1024x1024"
    assert server.last_request is not None and server.last_request.api == "openai-images"
    assert server.last_request.body["n"] == 2


def test_images_as_urls_the_server_serves(server: StandInServer, oai: openai.OpenAI) -> None:
    response = oai.images.generate(model="dall-e-3", prompt="a red cat", response_format="url")
    [image] = response.data or []
    assert image.url is not None and image.url.startswith(server.url + "/v1/files/standin/")
    fetched = httpx.get(image.url)
    assert (fetched.status_code, fetched.headers["content-type"], fetched.content) == (
        200,
        "image/png",
        png("a red cat\x000"),
    )
    assert httpx.get(server.url + "/v1/files/standin/nope.png").status_code == 404


def test_images_scripted(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("gpt-image-1", Reply(image=b"custom", text="a revised prompt", usage=(7, 9)))
    response = oai.images.generate(model="gpt-image-1", prompt="anything")
    [image] = response.data or []
    assert (base64.b64decode(image.b64_json or ""), image.revised_prompt) == (b"custom", "a revised prompt")
    assert response.usage is not None and (response.usage.input_tokens, response.usage.output_tokens) == (7, 9)


# speech and transcription ----------------------------------------------------------------------------


def test_speech_returns_a_wav_of_the_input(server: StandInServer, oai: openai.OpenAI) -> None:
    audio = oai.audio.speech.create(model="tts-1", input="hello there", voice="alloy")
    raw = oai.audio.speech.create(model="tts-1", input="hello there", voice="alloy", response_format="pcm")
    server.enqueue("tts-1", Reply(audio=b"\x01\x02"))
    scripted = oai.audio.speech.create(model="tts-1", input="hello there", voice="alloy")

    assert audio.content == wav("hello there", "alloy")
    assert audio.response.headers["content-type"] == "audio/wav"
    assert raw.content == pcm("hello there", "alloy")
    assert scripted.content == b"\x01\x02"
    assert server.requests[0].body == {"model": "tts-1", "input": "hello there", "voice": "alloy"}


def test_transcription_of_stand_in_speech_is_its_text(server: StandInServer, oai: openai.OpenAI) -> None:
    audio = wav("the quick brown fox", "alloy")
    result = oai.audio.transcriptions.create(model="whisper-1", file=("fox.wav", audio, "audio/wav"), language="en")

    assert result.text == "the quick brown fox"
    assert result.usage is not None and result.usage.type == "tokens"
    assert len(audio) == 6498  # 4 words: 0.4 s of 16-bit 8 kHz samples plus the headers
    assert (result.usage.input_tokens, result.usage.output_tokens) == (7, 4)  # 7 KiB of audio started, 4 words
    request = server.last_request
    assert request is not None and (request.api, request.model, request.stream) == (
        "openai-transcriptions",
        "whisper-1",
        False,
    )
    assert request.body["language"] == "en"
    assert request.body["file"] == UploadedFile("fox.wav", "audio/wav", audio)


def test_transcription_formats(oai: openai.OpenAI) -> None:
    audio = wav("one two", "x")
    text = oai.audio.transcriptions.create(model="w", file=("a.wav", audio), response_format="text")
    srt = oai.audio.transcriptions.create(model="w", file=("a.wav", audio), response_format="srt")
    vtt = oai.audio.transcriptions.create(model="w", file=("a.wav", audio), response_format="vtt")
    verbose = oai.audio.transcriptions.create(
        model="w", file=("a.wav", audio), response_format="verbose_json", timestamp_granularities=["word"]
    )
    other = oai.audio.transcriptions.create(model="w", file=("clip.mp3", b"\xff\xfb\x90\x00"))

    assert text == "one two\n"
    assert srt == "1\n00:00:00,000 --> 00:00:00,200\none two\n"
    assert vtt == "WEBVTT\n\n00:00:00.000 --> 00:00:00.200\none two\n"
    assert (verbose.text, verbose.duration, [w.word for w in verbose.words or []]) == ("one two", 0.2, ["one", "two"])
    assert other.text == "Stand-in transcript of clip.mp3 (4 bytes)"


# moderations -------------------------------------------------------------------------------------------


def test_moderations_flag_trigger_words(server: StandInServer, oai: openai.OpenAI) -> None:
    several = oai.moderations.create(model="omni-moderation-latest", input=["I will kill you", "a nice day"])
    parts = oai.moderations.create(
        input=[{"type": "text", "text": "you idiot"}, {"type": "image_url", "image_url": {"url": "data:,"}}]
    )
    server.enqueue("omni-moderation-latest", Reply(categories=["hate"]))
    scripted = oai.moderations.create(model="omni-moderation-latest", input="a nice day")

    assert [r.flagged for r in several.results] == [True, False]
    assert several.results[0].categories.violence is True and several.results[0].category_scores.violence == 0.9
    assert several.results[0].categories.hate is False
    assert several.id.startswith("modr-standin-") and several.model == "omni-moderation-latest"
    assert [(r.flagged, r.categories.harassment) for r in parts.results] == [(True, True)]
    assert parts.model == "omni-moderation-latest"
    assert scripted.results[0].flagged is True and scripted.results[0].categories.hate is True


# responses ---------------------------------------------------------------------------------------------


def test_responses_text_with_usage_and_instructions(server: StandInServer, oai: openai.OpenAI) -> None:
    response = oai.responses.create(model="gpt-4.1", input="say hello world", instructions="Be brief.")

    assert response.output_text == "hello world"
    assert response.status == "completed" and response.id.startswith("resp_standin_")
    assert response.instructions == "Be brief."
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.total_tokens) == (5, 2, 7)
    assert server.last_request is not None and server.last_request.api == "openai-responses"


def test_responses_tool_calls_and_results(server: StandInServer, oai: openai.OpenAI) -> None:
    called = oai.responses.create(
        model="gpt-4.1", input="weather in Rome?", tools=[WEATHER_TOOL], tool_choice="required"
    )
    [call] = called.output
    assert call.type == "function_call"
    assert (call.name, json.loads(call.arguments), call.call_id) == ("get_weather", {"city": "Rome"}, call.call_id)

    answered = oai.responses.create(
        model="gpt-4.1",
        input=[
            {"role": "user", "content": "weather in Rome?"},
            {"type": "function_call", "call_id": call.call_id, "name": "get_weather", "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 24C"},
        ],
    )
    assert answered.output_text == "Tool result: sunny, 24C"
    server.enqueue("gpt-4.1", Reply(tool_calls=[ToolCall("get_weather", {"city": "Oslo"}, id="call_1")]))
    scripted = oai.responses.create(model="gpt-4.1", input="hi", tools=[WEATHER_TOOL])
    assert [(item.type, getattr(item, "call_id", None)) for item in scripted.output] == [("function_call", "call_1")]


def test_responses_json_schema_and_max_output_tokens(oai: openai.OpenAI) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    shaped = oai.responses.create(
        model="m",
        input="Weather in 'Rome'",
        text={"format": {"type": "json_schema", "name": "w", "schema": schema}},
    )
    cut = oai.responses.create(model="m", input="say one two three four", max_output_tokens=2)

    assert json.loads(shaped.output_text) == {"city": "Rome"}
    assert (cut.status, cut.output_text) == ("incomplete", "one two")
    assert cut.incomplete_details is not None and cut.incomplete_details.reason == "max_output_tokens"


def test_responses_stream_events(oai: openai.OpenAI) -> None:
    events = list(oai.responses.create(model="m", input="say hello there world", stream=True))

    assert [e.type for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 3,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "hello there world"
    completed = events[-1].response  # type: ignore[union-attr]
    assert completed.output_text == "hello there world"
    assert completed.usage is not None and completed.usage.output_tokens == 3


async def test_responses_stream_tool_call_through_any_llm(server: StandInServer) -> None:
    llm = AnyLLM.create("openai", api_key="x", api_base=server.openai_base, max_retries=0)
    stream = await llm.aresponses("m", "weather in Rome?", tools=[WEATHER_TOOL], tool_choice="required", stream=True)
    events = [event async for event in stream]  # type: ignore[union-attr]

    deltas = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    assert json.loads(deltas) == {"city": "Rome"}
    assert events[-1].type == "response.completed"


# rerank ------------------------------------------------------------------------------------------------


def test_relevance_is_the_share_of_query_words() -> None:
    assert relevance("red cat", "a red cat sat") == 1.0
    assert relevance("red cat", "The cat") == 0.5
    assert relevance("red cat", "a dog") == 0.0
    assert relevance("", "anything") == 0.0


@needs_together
def test_rerank_through_any_llm_together(server: StandInServer) -> None:
    llm = AnyLLM.create("together", api_key="x", api_base=server.openai_base, max_retries=0)
    ranked = llm._rerank("rerank-v1", "red cat", ["a dog", "a red cat", "the cat"], top_n=2)
    server.enqueue("rerank-v1", Reply(scores=[0.1, 0.2, 0.3]))
    scripted = llm._rerank("rerank-v1", "red cat", ["a", "b", "c"])

    assert [(r.index, r.relevance_score) for r in ranked.results] == [(1, 1.0), (2, 0.5)]
    assert ranked.usage is not None and ranked.usage.total_tokens == 9
    assert ranked.model == "rerank-v1" and (ranked.id or "").startswith("rerank-standin-")
    assert [r.index for r in scripted.results] == [2, 1, 0]
    request = server.requests[0]
    assert (request.api, request.path, request.body["top_n"]) == ("rerank", "/v1/rerank", 2)


def test_rerank_return_documents(oai: openai.OpenAI) -> None:
    body = oai.post(
        "/rerank",
        cast_to=httpx.Response,
        body={"model": "r", "query": "cat", "documents": ["dog", "cat"], "return_documents": True},
    ).json()
    assert body["object"] == "rerank"
    assert body["results"] == [
        {"index": 1, "relevance_score": 1.0, "document": {"text": "cat"}},
        {"index": 0, "relevance_score": 0.0, "document": {"text": "dog"}},
    ]


# faults on every new endpoint ----------------------------------------------------------------------------

CALLS: dict[str, Callable[[openai.OpenAI], Any]] = {
    "images": lambda c: c.images.generate(model="m", prompt="p"),
    "speech": lambda c: c.audio.speech.create(model="m", input="hi", voice="alloy"),
    "transcriptions": lambda c: c.audio.transcriptions.create(model="m", file=("a.wav", wav("hi"))),
    "moderations": lambda c: c.moderations.create(model="m", input="hi"),
    "responses": lambda c: c.responses.create(model="m", input="hi"),
    "rerank": lambda c: c.post(
        "/rerank", cast_to=httpx.Response, body={"model": "m", "query": "q", "documents": ["d"]}
    ),
}


@pytest.mark.parametrize("endpoint", sorted(CALLS))
@pytest.mark.parametrize(("status", "error_class"), [(429, openai.RateLimitError), (503, openai.InternalServerError)])
def test_status_faults(
    server: StandInServer, oai: openai.OpenAI, endpoint: str, status: int, error_class: type[Exception]
) -> None:
    server.enqueue("m", Fault(status=status, headers={"Retry-After": "3"}))

    with pytest.raises(error_class) as caught:
        CALLS[endpoint](oai)

    assert caught.value.status_code == status  # type: ignore[attr-defined]
    assert caught.value.response.headers["retry-after"] == "3"  # type: ignore[attr-defined]
    assert server.pending("m") == 0
    CALLS[endpoint](oai)  # the queue is drained: the next call is answered
    assert len(server.requests) == 2


@pytest.mark.parametrize("endpoint", ["images", "moderations", "responses", "transcriptions"])
def test_malformed_json(server: StandInServer, oai: openai.OpenAI, endpoint: str) -> None:
    server.enqueue("m", Fault(malformed=True))
    with pytest.raises((json.JSONDecodeError, openai.APIResponseValidationError)):
        CALLS[endpoint](oai)


def test_scripts_and_auth_cover_the_new_endpoints(server: StandInServer) -> None:
    server.script("m", lambda request: Fault(status=500) if request.api == "openai-speech" else None)
    client = openai.OpenAI(api_key="x", base_url=server.openai_base, max_retries=0)
    with pytest.raises(openai.InternalServerError):
        client.audio.speech.create(model="m", input="hi", voice="alloy")
    assert client.moderations.create(model="m", input="hi").results[0].flagged is False

    with StandInServer(api_key="sk-right") as keyed:
        wrong = openai.OpenAI(api_key="sk-wrong", base_url=keyed.openai_base, max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            wrong.audio.transcriptions.create(model="m", file=io.BytesIO(wav("hi")))


def test_stream_disconnect_mid_responses(server: StandInServer, oai: openai.OpenAI) -> None:
    server.enqueue("m", Fault(disconnect_after_chunks=3))
    events: list[Any] = []
    with pytest.raises(httpx.RemoteProtocolError):
        events.extend(oai.responses.create(model="m", input="say a b c d", stream=True))
    assert [e.type for e in events] == ["response.created", "response.in_progress", "response.output_item.added"]
