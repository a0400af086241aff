"""OpenAI wire formats of the non-chat endpoints: images, speech, transcriptions and moderations.

Each answer is a pure function of the request (plus a scripted `Reply`); no HTTP here.

- Images: one 8x8 PNG per image (`media.png` of prompt and index), as `b64_json` (the default)
  or as a `url` the stand-in serves; usage counts the prompt's words in and 64 tokens (one per
  pixel) out per image.
- Speech: `media.wav` of the input (`pcm` for raw `response_format: pcm`; every other format
  gets WAV bytes too).
- Transcriptions: the INFO comment of a WAV made by the stand-in's speech endpoint, else
  "Stand-in transcript of <file name> (<n> bytes)"; in `json` (usage: one input token per
  started KiB of audio, the text's words out), `text`, `srt`, `vtt` or `verbose_json`.
- Moderations: one result per input string (one for a list of content parts); a category is
  flagged when the text contains one of its trigger words (see `TRIGGERS`).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from llmhub_runtime.testing.conversation import count_tokens
from llmhub_runtime.testing.media import UploadedFile, pcm, png, wav, wav_duration, wav_text
from llmhub_runtime.testing.replies import Reply

__all__ = [
    "CATEGORIES",
    "TRIGGERS",
    "images_response",
    "moderation_response",
    "speech_audio",
    "transcription_response",
]

IMAGE_TOKENS = 64

CATEGORIES: tuple[str, ...] = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
    "violence/graphic",
)  # fmt: skip

TRIGGERS: Mapping[str, frozenset[str]] = {
    "harassment": frozenset({"idiot", "stupid", "loser"}),
    "hate": frozenset({"hate"}),
    "illicit": frozenset({"steal", "hack", "smuggle"}),
    "self-harm": frozenset({"suicide"}),
    "sexual": frozenset({"explicit"}),
    "violence": frozenset({"kill", "attack", "murder", "hurt"}),
}
"""Lower-case words that flag each category (a text flags every category one of whose words it contains)."""

_WORDS = re.compile(r"[a-z]+")


def images_response(body: Mapping[str, Any], reply: Reply | None, *, created: int, url_for: Any) -> dict[str, Any]:
    """`ImagesResponse` for `POST /v1/images/generations`; `url_for(name, data)` stores a PNG and returns its URL."""
    prompt = str(body.get("prompt", ""))
    count = max(1, int(body.get("n") or 1))
    as_url = body.get("response_format") == "url"
    revised = reply.text if reply is not None and reply.text is not None else prompt
    data = []
    for index in range(count):
        image = reply.image if reply is not None and reply.image is not None else png(f"{prompt}\x00{index}")
        item: dict[str, Any] = {"revised_prompt": revised}
        if as_url:
            item["url"] = url_for(f"{_digest(image)}.png", image)
        else:
            item["b64_json"] = base64.b64encode(image).decode("ascii")
        data.append(item)
    if reply is not None and reply.usage is not None:
        input_tokens, output_tokens = reply.usage
    else:
        input_tokens, output_tokens = max(count_tokens(prompt), 1), IMAGE_TOKENS * count
    return {
        "created": created,
        "data": data,
        "output_format": "png",
        "size": body.get("size") or "1024x1024",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"text_tokens": input_tokens, "image_tokens": 0},
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        },
    }


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def speech_audio(body: Mapping[str, Any], reply: Reply | None) -> tuple[bytes, str]:
    """The audio bytes and content type for `POST /v1/audio/speech`."""
    if reply is not None and reply.audio is not None:
        return reply.audio, "application/octet-stream"
    text, voice = str(body.get("input", "")), str(body.get("voice", ""))
    if body.get("response_format") == "pcm":
        return pcm(text, voice), "audio/pcm"
    return wav(text, voice), "audio/wav"


def transcription_response(form: Mapping[str, Any], reply: Reply | None) -> tuple[Any, str]:
    """The body (a dict for JSON formats, else text) and content type for `POST /v1/audio/transcriptions`."""
    upload = form.get("file")
    audio = upload.data if isinstance(upload, UploadedFile) else b""
    name = upload.filename if isinstance(upload, UploadedFile) else None
    if reply is not None and reply.text is not None:
        text = reply.text
    else:
        text = wav_text(audio) or f"Stand-in transcript of {name or 'audio'} ({len(audio)} bytes)"
    duration = wav_duration(audio) or 1.0
    response_format = str(form.get("response_format") or "json")
    if response_format == "text":
        return text + "\n", "text/plain; charset=utf-8"
    if response_format in ("srt", "vtt"):
        end = _timestamp(duration, "," if response_format == "srt" else ".")
        start = _timestamp(0.0, "," if response_format == "srt" else ".")
        cue = f"{start} --> {end}\n{text}\n"
        return (f"1\n{cue}" if response_format == "srt" else f"WEBVTT\n\n{cue}"), "text/plain; charset=utf-8"
    if response_format == "verbose_json":
        granularities = form.get("timestamp_granularities[]") or []
        verbose: dict[str, Any] = {
            "task": "transcribe",
            "language": str(form.get("language") or "english"),
            "duration": duration,
            "text": text,
            "segments": [
                {
                    "id": 0, "seek": 0, "start": 0.0, "end": duration, "text": text, "tokens": [],
                    "temperature": 0.0, "avg_logprob": 0.0, "compression_ratio": 1.0, "no_speech_prob": 0.0,
                }
            ],
        }  # fmt: skip
        if "word" in granularities:
            words = text.split() or [""]
            step = duration / len(words)
            verbose["words"] = [
                {"word": word, "start": round(i * step, 3), "end": round((i + 1) * step, 3)}
                for i, word in enumerate(words)
            ]
        return verbose, "application/json"
    if reply is not None and reply.usage is not None:
        input_tokens, output_tokens = reply.usage
    else:
        input_tokens, output_tokens = max(1, math.ceil(len(audio) / 1024)), count_tokens(text)
    usage = {
        "type": "tokens",
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }
    return {"text": text, "usage": usage}, "application/json"


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def moderation_response(body: Mapping[str, Any], reply: Reply | None, *, response_id: str) -> dict[str, Any]:
    """The `ModerationCreateResponse` for `POST /v1/moderations`."""
    raw = body.get("input", "")
    texts: list[str]
    if isinstance(raw, str):
        texts = [raw]
    elif isinstance(raw, Sequence) and raw and all(isinstance(item, Mapping) for item in raw):
        texts = [" ".join(str(part.get("text", "")) for part in raw if part.get("type") == "text")]
    elif isinstance(raw, Sequence):
        texts = [str(item) for item in raw]
    else:
        texts = [str(raw)]
    results = [_moderate(text, reply) for text in texts]
    model = (reply.model if reply is not None else None) or str(body.get("model") or "omni-moderation-latest")
    return {"id": response_id, "model": model, "results": results}


def _moderate(text: str, reply: Reply | None) -> dict[str, Any]:
    if reply is not None and reply.categories is not None:
        hits = set(reply.categories)
    else:
        words = set(_WORDS.findall(text.lower()))
        hits = {category for category, triggers in TRIGGERS.items() if words & triggers}
    return {
        "flagged": bool(hits),
        "categories": {category: category in hits for category in CATEGORIES},
        "category_scores": {category: 0.9 if category in hits else 0.001 for category in CATEGORIES},
        "category_applied_input_types": {category: ["text"] for category in CATEGORIES},
    }
