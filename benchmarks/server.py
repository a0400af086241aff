"""A fast loopback OpenAI-compatible server for the benchmarks, run in its own process.

Answers are fixed and small, so the client side dominates what is measured:

- ``POST /v1/chat/completions``: a JSON completion, or with ``"stream": true`` an SSE stream of
  ``STREAM_CHUNKS`` content chunks, a finish chunk and (with ``stream_options.include_usage``)
  a usage chunk, sent as HTTP/1.1 chunked transfer encoding in one write;
- ``POST /v1/embeddings``: one ``EMBED_DIMS``-dimension vector per input, as floats or base64;
- ``GET /stats``: connections open now, the peak, accepted, and ``used`` (how many distinct
  connections carried a request); ``POST /stats/reset`` sets the peak to the connections open
  now and zeroes the others.

HTTP/1.1 keep-alive, TCP_NODELAY, a plain ``asyncio.Protocol`` (no framework). Responses are
built once per (model, shape) and cached. Run ``python benchmarks/server.py`` — it prints
``PORT <n>`` on stdout and serves until stdin closes or it gets SIGTERM; it binds 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import struct
import sys
from typing import Any

__all__ = ["EMBED_DIMS", "REPLY_TEXT", "STREAM_CHUNKS", "main"]

STREAM_CHUNKS = 200
"""Content chunks in a streamed answer (a finish chunk and a usage chunk follow)."""
EMBED_DIMS = 128
REPLY_TEXT = "Hello from the llmhub benchmark server."
_CREATED = 1_700_000_000
_MAX_REQUEST = 8 * 1024 * 1024


class Stats:
    """Connection counters, read through ``GET /stats``."""

    def __init__(self) -> None:
        self.open = 0
        self.peak = 0
        self.accepted = 0
        self.requests = 0
        self.used: set[int] = set()

    def opened(self) -> None:
        self.open += 1
        self.accepted += 1
        self.peak = max(self.peak, self.open)

    def reset(self) -> None:
        self.peak = self.open
        self.accepted = 0
        self.requests = 0
        self.used.clear()

    def as_json(self) -> bytes:
        data = {
            "open": self.open,
            "peak": self.peak,
            "accepted": self.accepted,
            "requests": self.requests,
            "used": len(self.used),
        }
        return json.dumps(data).encode()


def _response(status: str, body: bytes, content_type: bytes = b"application/json") -> bytes:
    return (
        b"HTTP/1.1 " + status.encode() + b"\r\ncontent-type: " + content_type
        + b"\r\ncontent-length: " + str(len(body)).encode()
        + b"\r\nconnection: keep-alive\r\n\r\n" + body
    )  # fmt: skip


def _chat_json(model: str) -> bytes:
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": _CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": REPLY_TEXT, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16},
        "system_fingerprint": "fp_bench",
    }
    return _response("200 OK", json.dumps(body, separators=(",", ":")).encode())


def _chat_sse(model: str, usage: bool) -> bytes:
    def chunk(delta: dict[str, Any], finish: str | None = None, usage_block: Any = None) -> dict[str, Any]:
        choices = [] if usage_block else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        out: dict[str, Any] = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": _CREATED,
            "model": model,
            "system_fingerprint": "fp_bench",
            "choices": choices,
        }
        if usage:
            out["usage"] = usage_block
        return out

    events = [chunk({"role": "assistant", "content": "tok0 "})]
    events += [chunk({"content": f"tok{i} "}) for i in range(1, STREAM_CHUNKS)]
    events.append(chunk({}, finish="stop"))
    if usage:
        events.append(
            chunk(
                {},
                usage_block={"prompt_tokens": 9, "completion_tokens": STREAM_CHUNKS, "total_tokens": 9 + STREAM_CHUNKS},
            )
        )
    parts = [b"data: " + json.dumps(e, separators=(",", ":")).encode() + b"\n\n" for e in events]
    parts.append(b"data: [DONE]\n\n")
    body = b"".join(b"%x\r\n%b\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
        b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n"
    )
    return head + body


def _embeddings(model: str, count: int, b64: bool) -> bytes:
    floats = [((i % 17) - 8) / 16.0 for i in range(EMBED_DIMS)]
    vector: Any = base64.b64encode(struct.pack(f"<{EMBED_DIMS}f", *floats)).decode() if b64 else floats
    body = {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": vector} for i in range(count)],
        "model": model,
        "usage": {"prompt_tokens": count * 4, "total_tokens": count * 4},
    }
    return _response("200 OK", json.dumps(body, separators=(",", ":")).encode())


class Responder:
    """Builds (and caches) the bytes for one request."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.cache: dict[tuple[Any, ...], bytes] = {}

    def answer(self, method: bytes, path: bytes, body: bytes) -> bytes:
        if path.startswith(b"/v1/"):
            path = path[3:]
        if method == b"POST" and path == b"/chat/completions":
            data = json.loads(body)
            model = str(data.get("model", "bench"))
            if data.get("stream"):
                usage = bool((data.get("stream_options") or {}).get("include_usage"))
                return self._cached(("sse", model, usage), lambda: _chat_sse(model, usage))
            return self._cached(("json", model), lambda: _chat_json(model))
        if method == b"POST" and path == b"/embeddings":
            data = json.loads(body)
            model = str(data.get("model", "bench"))
            raw = data.get("input")
            count = len(raw) if isinstance(raw, list) and raw and not isinstance(raw[0], int) else 1
            b64 = data.get("encoding_format") == "base64"
            return self._cached(("emb", model, count, b64), lambda: _embeddings(model, count, b64))
        if path == b"/stats":
            if method == b"POST":
                self.stats.reset()
            return _response("200 OK", self.stats.as_json())
        return _response("404 Not Found", b'{"error":{"message":"not found","type":"invalid_request_error"}}')

    def _cached(self, key: tuple[Any, ...], build: Any) -> bytes:
        found = self.cache.get(key)
        if found is None:
            if len(self.cache) > 256:
                self.cache.clear()
            found = self.cache[key] = build()
        return found


class Connection(asyncio.Protocol):
    """One client connection: parse HTTP/1.1 requests (Content-Length bodies), answer each."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.stats = responder.stats
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stats.opened()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.open -= 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > _MAX_REQUEST:
                    self._fail()
                return
            head = self.buffer[:end]
            lines = head.split(b"\r\n")
            try:
                method, path, _ = lines[0].split(b" ", 2)
            except ValueError:
                self._fail()
                return
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            body = self.buffer[end + 4 : total]
            self.buffer = self.buffer[total:]
            self.stats.requests += 1
            self.stats.used.add(id(self))
            try:
                out = self.responder.answer(method, path.split(b"?", 1)[0], body)
            except (ValueError, KeyError, TypeError):
                out = _response(
                    "400 Bad Request", b'{"error":{"message":"bad request","type":"invalid_request_error"}}'
                )
            assert self.transport is not None
            self.transport.write(out)

    def _fail(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def serve(port: int, ready: Any) -> None:
    """Serve on 127.0.0.1:``port`` until stdin closes or SIGTERM."""
    loop = asyncio.get_running_loop()
    responder = Responder(Stats())
    server = await loop.create_server(lambda: Connection(responder), "127.0.0.1", port, backlog=4096)
    ready(server.sockets[0].getsockname()[1])
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    stdin = sys.stdin.fileno()
    loop.add_reader(stdin, lambda: None if os.read(stdin, 1024) else stop.set())
    async with server:
        await stop.wait()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0

    def ready(bound: int) -> None:
        print(f"PORT {bound}", flush=True)

    asyncio.run(serve(port, ready))


if __name__ == "__main__":
    main()
