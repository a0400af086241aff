"""Deterministic media for the stand-in: tiny PNG images, tiny WAV speech, and multipart uploads.

- `png(seed)`: an 8x8 RGB PNG whose two colours come from SHA-256 of `seed` (same seed, same bytes).
- `wav(text, voice)`: 16-bit mono 8 kHz PCM, 0.1 s of a square tone per word (pitch from the
  voice), carrying `text` in a standard RIFF `LIST/INFO/ICMT` comment and `voice` in `IART`.
  `wav_text(data)` reads the comment back, so the stand-in's transcription of its own speech is
  the original text.
- `parse_multipart(content_type, body)`: a `multipart/form-data` body as a dict of fields, with
  file parts as `UploadedFile`.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

__all__ = ["SAMPLE_RATE", "UploadedFile", "parse_multipart", "pcm", "png", "wav", "wav_duration", "wav_text"]

SAMPLE_RATE = 8000
_SAMPLES_PER_WORD = SAMPLE_RATE // 10
_PNG_SIDE = 8


@dataclass(frozen=True, repr=False)
class UploadedFile:
    """A file part of a multipart upload (its repr leaves the bytes out)."""

    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:
        return f"UploadedFile(filename={self.filename!r}, content_type={self.content_type!r}, size={len(self.data)})"


def png(seed: str) -> bytes:
    """An 8x8 PNG: left half one colour, right half another, both derived from `seed`."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    left, right = digest[0:3], digest[3:6]
    row = b"\x00" + left * (_PNG_SIDE // 2) + right * (_PNG_SIDE // 2)  # filter byte 0, then RGB pixels
    header = struct.pack(">IIBBBBB", _PNG_SIDE, _PNG_SIDE, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(row * _PNG_SIDE, 9))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pcm(text: str, voice: str = "") -> bytes:
    """The raw samples of `wav(text, voice)` (16-bit little-endian mono, 8 kHz)."""
    words = max(1, len(text.split()))
    period = 8 + hashlib.sha256(voice.encode("utf-8")).digest()[0] % 24  # samples per tone period
    half = period // 2
    samples = [1000 if (index % period) < half else -1000 for index in range(words * _SAMPLES_PER_WORD)]
    return struct.pack(f"<{len(samples)}h", *samples)


def wav(text: str, voice: str = "") -> bytes:
    """A WAV file speaking `text` as a tone, with `text` in its INFO comment and `voice` as its artist."""
    data = pcm(text, voice)
    fmt = struct.pack("<HHIIHH", 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)
    comment, artist = text.encode("utf-8") + b"\x00", voice.encode("utf-8") + b"\x00"
    info = b"INFO" + _riff_chunk(b"ICMT", comment) + _riff_chunk(b"IART", artist)
    body = b"WAVE" + _riff_chunk(b"fmt ", fmt) + _riff_chunk(b"LIST", info) + _riff_chunk(b"data", data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def _riff_chunks(data: bytes) -> dict[bytes, bytes]:
    """Top-level chunks of a RIFF/WAVE file, plus the sub-chunks of its INFO list (empty if not a WAV)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return {}
    chunks: dict[bytes, bytes] = {}
    position = 12
    while position + 8 <= len(data):
        kind = data[position : position + 4]
        (size,) = struct.unpack("<I", data[position + 4 : position + 8])
        payload = data[position + 8 : position + 8 + size]
        if kind == b"LIST" and payload[:4] == b"INFO":
            chunks.update(_riff_sub_chunks(payload[4:]))
        chunks.setdefault(kind, payload)
        position += 8 + size + (size % 2)
    return chunks


def _riff_sub_chunks(data: bytes) -> dict[bytes, bytes]:
    chunks: dict[bytes, bytes] = {}
    position = 0
    while position + 8 <= len(data):
        kind = data[position : position + 4]
        (size,) = struct.unpack("<I", data[position + 4 : position + 8])
        chunks[kind] = data[position + 8 : position + 8 + size]
        position += 8 + size + (size % 2)
    return chunks


def wav_text(data: bytes) -> str | None:
    """The INFO comment of a WAV file (what `wav()` spoke), or None."""
    comment = _riff_chunks(data).get(b"ICMT")
    return comment.rstrip(b"\x00").decode("utf-8", errors="replace") if comment is not None else None


def wav_duration(data: bytes) -> float | None:
    """Seconds of audio in a PCM WAV file, or None if `data` is not one."""
    chunks = _riff_chunks(data)
    fmt, samples = chunks.get(b"fmt "), chunks.get(b"data")
    if fmt is None or samples is None or len(fmt) < 16:
        return None
    byte_rate = struct.unpack("<I", fmt[8:12])[0]
    return round(len(samples) / byte_rate, 3) if byte_rate else None


def parse_multipart(content_type: str, body: bytes) -> dict[str, Any] | None:
    """Fields of a `multipart/form-data` body (repeated names, e.g. `x[]`, become lists); None if unreadable."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    head = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return None
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        value: Any
        if filename is not None:
            value = UploadedFile(filename=filename, content_type=part.get_content_type(), data=data)
        else:
            value = data.decode(part.get_content_charset() or "utf-8", errors="replace")
        if name in fields:
            existing = fields[name]
            fields[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        elif name.endswith("[]"):
            fields[name] = [value]
        else:
            fields[name] = value
    return fields
