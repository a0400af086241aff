"""Integration tests: ``$LLMHUB_CONFIG`` points at the stand-in's config, as a user's would.

Sockets are limited to 127.0.0.1 (see ../conftest.py). The standard multimodal tests download
their sample image, PDF and WAV with ``httpx.get``; ``offline_test_media`` answers those
downloads with small local files of the same types, so the tests run offline. (The SDKs use
``httpx.Client``/``AsyncClient``, never ``httpx.get``, so model calls are untouched.)
"""

from __future__ import annotations

import io
import struct
import wave
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_tests.conftest import base_vcr_config
from llmhub_runtime.testing import StandInServer


@pytest.fixture(autouse=True)
def _llmhub_config_env(monkeypatch: pytest.MonkeyPatch, config_path: Path) -> None:
    monkeypatch.setenv("LLMHUB_CONFIG", str(config_path))


@pytest.fixture
def server(standin: StandInServer) -> Iterator[StandInServer]:
    """The session's stand-in with no queued replies, scripts or recorded requests left from other tests."""
    standin.reset()
    yield standin
    standin.reset()


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    """langchain-tests' VCR config; loopback calls to the stand-in pass through and nothing is recorded."""
    return {**base_vcr_config(), "ignore_localhost": True, "record_mode": "none"}


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 800)
    return buffer.getvalue()


@pytest.fixture
def offline_test_media(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Answer ``httpx.get`` of a .png/.pdf/.wav URL with a local file; anything else fails loudly."""
    media = {".png": _png(), ".pdf": _pdf(), ".wav": _wav()}

    def fake_get(url: str, **_: Any) -> httpx.Response:
        suffix = Path(httpx.URL(url).path).suffix
        if suffix not in media:
            raise AssertionError(f"offline_test_media has no sample for {url}")
        return httpx.Response(200, content=media[suffix], request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", fake_get)
    monkeypatch.setenv("LANGCHAIN_TESTS_USER_AGENT", "langchain-llmhub-tests/0.1 (offline)")
    return media
