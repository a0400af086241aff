"""The HTTP side of the stand-in: a stdlib `ThreadingHTTPServer` and its request handler.

HTTP/1.1 with keep-alive, one daemon thread per connection, `TCP_NODELAY`; streams use chunked
transfer encoding so a connection can be dropped mid-body. The handler records each model request
on its `StandInServer`, asks it for the next queued/scripted item, applies faults, and writes what
`routes` computed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from llmhub_runtime.testing import anthropic_wire, openai_wire
from llmhub_runtime.testing.media import parse_multipart
from llmhub_runtime.testing.replies import TRICKLE_PIECES, Api, Fault, RecordedRequest, Reply
from llmhub_runtime.testing.routes import Endpoint, Outgoing

if TYPE_CHECKING:
    from llmhub_runtime.testing.server import StandInServer

__all__ = ["StandInHTTPServer"]

logger = logging.getLogger(__name__)

_POST_ROUTES: dict[str, Api] = {
    "/v1/chat/completions": "openai-chat",
    "/chat/completions": "openai-chat",
    "/v1/embeddings": "openai-embeddings",
    "/embeddings": "openai-embeddings",
    "/v1/messages": "anthropic-messages",
    "/messages": "anthropic-messages",
    "/v1/images/generations": "openai-images",
    "/images/generations": "openai-images",
    "/v1/audio/speech": "openai-speech",
    "/audio/speech": "openai-speech",
    "/v1/audio/transcriptions": "openai-transcriptions",
    "/audio/transcriptions": "openai-transcriptions",
    "/v1/moderations": "openai-moderations",
    "/moderations": "openai-moderations",
    "/v1/responses": "openai-responses",
    "/responses": "openai-responses",
    "/v1/rerank": "rerank",
    "/rerank": "rerank",
}
_DEFAULT_MODELS: dict[Api, str] = {"openai-moderations": "omni-moderation-latest"}
"""Endpoints whose model may be omitted (the real API picks one)."""
FILES_PREFIX = "/v1/files/standin/"
"""Where generated files (image URLs) are served from."""
_CONNECTION_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class StandInHTTPServer(ThreadingHTTPServer):
    """The listening server; `owner` holds the queues, scripts and history."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], owner: StandInServer) -> None:
        self.owner = owner
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        # Small writes (headers, then body or one SSE event) must not wait for Nagle + delayed ACK.
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("stand-in server: connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StandInHTTPServer
    server_version = "llmhub-standin/1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("stand-in %s - " + format, self.address_string(), *args)

    # routing -------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        owner = self.server.owner
        try:
            if path == "/health":
                self._send_json(200, {"status": "ok"})
            elif path in ("/v1/models", "/models"):
                if "anthropic-version" in self.headers:
                    self._send_json(200, anthropic_wire.model_list(owner.models))
                else:
                    self._send_json(200, openai_wire.model_list(owner.models, created=0))
            elif path.startswith(FILES_PREFIX):
                data = owner._file(path.removeprefix(FILES_PREFIX))
                if data is None:
                    self._send_json(404, openai_wire.not_found_body(path))
                else:
                    self._send(Outgoing(raw=data, content_type="image/png"))
            elif path.startswith(("/v1/models/", "/models/")):
                name = path.split("/models/", 1)[1]
                if "anthropic-version" in self.headers:
                    self._send_json(200, anthropic_wire.model_info(name))
                else:
                    self._send_json(200, openai_wire.model_list([name], created=0)["data"][0])
            else:
                self._send_json(404, openai_wire.not_found_body(path))
        except _CONNECTION_ERRORS:
            self.close_connection = True

    def do_POST(self) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        try:
            raw = self._read_body()
            if path in ("/v1/messages/count_tokens", "/messages/count_tokens"):
                body = _parse_json(raw)
                if not isinstance(body, dict):
                    self._send_json(400, anthropic_wire.bad_request_body("Request body is not valid JSON."))
                else:
                    self._send_json(200, anthropic_wire.count_tokens_response(body))
                return
            api = _POST_ROUTES.get(path)
            if api is None:
                self._send_json(404, openai_wire.not_found_body(path))
                return
            self._serve_model_request(api, path, raw)
        except _CONNECTION_ERRORS:
            self.close_connection = True

    # the model endpoints -------------------------------------------------------------------

    def _serve_model_request(self, api: Api, path: str, raw: bytes) -> None:
        owner = self.server.owner
        content_type = self.headers.get("Content-Type") or ""
        body = parse_multipart(content_type, raw) if "multipart/" in content_type else _parse_json(raw)
        headers = {key.lower(): value for key, value in self.headers.items()}
        model = str(body.get("model") or _DEFAULT_MODELS.get(api, "")) if isinstance(body, dict) else ""
        stream = body.get("stream") in (True, "true") if isinstance(body, dict) else False
        request = RecordedRequest(api=api, path=path, headers=headers, body=body, model=model, stream=stream)
        owner._record(request)
        endpoint = owner._endpoint(api)
        bad_request = anthropic_wire.bad_request_body if api == "anthropic-messages" else openai_wire.bad_request_body
        if not isinstance(body, dict):
            self._send_json(400, bad_request("Request body is not a valid JSON object."))
            return
        if not model:
            self._send_json(400, bad_request("You must provide a model parameter."))
            return
        required_key = owner._api_key
        if required_key is not None and not endpoint.auth_ok(headers, required_key):
            self._send(endpoint.error(body, Fault(status=401)))
            return
        refusal = endpoint.refusal(body)
        if refusal is not None:  # e.g. malformed tool_calls: a 400 like the real API's, no script consumed
            self._send(refusal)
            return
        try:
            item = owner._next_item(request)
        except Exception as exc:
            logger.warning("stand-in script for %r failed", model, exc_info=True)
            message = f"stand-in script for {model!r} raised {type(exc).__name__}: {exc}"
            self._send(endpoint.error(body, Fault(status=500, message=message)))
            return
        if isinstance(item, Fault):
            self._serve_fault(endpoint, body, item)
            return
        self._send(self._answer(endpoint, body, item))

    def _answer(self, endpoint: Endpoint, body: dict[str, Any], reply: Reply | None) -> Outgoing:
        try:
            return endpoint.answer(body, reply)
        except Exception as exc:
            logger.warning("stand-in server failed to answer", exc_info=True)
            message = f"stand-in server error: {type(exc).__name__}: {exc}"
            return endpoint.error(body, Fault(status=500, message=message))

    def _serve_fault(self, endpoint: Endpoint, body: dict[str, Any], fault: Fault) -> None:
        if fault.delay and self.server.stopping.wait(fault.delay):
            self._drop()
            return
        if fault.status is not None:
            self._send(endpoint.error(body, fault), extra_headers=fault.headers)
        elif fault.malformed:
            self._send(endpoint.malformed(body), extra_headers=fault.headers)
        elif fault.disconnect_after_chunks is not None:
            outgoing = self._answer(endpoint, body, None)
            if outgoing.events is None:
                self._drop()
            else:
                self._send(outgoing, extra_headers=fault.headers, disconnect_after=fault.disconnect_after_chunks)
        else:
            unstreamed = fault.unstreamed and body.get("stream")
            outgoing = self._answer(endpoint, {**body, "stream": False} if unstreamed else body, None)
            self._send(outgoing, extra_headers=fault.headers, fault=fault)

    # I/O -----------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(Outgoing(status=status, json=payload))

    def _send(
        self,
        outgoing: Outgoing,
        *,
        extra_headers: Mapping[str, str] | None = None,
        disconnect_after: int | None = None,
        fault: Fault | None = None,
    ) -> None:
        headers = {**outgoing.headers, **(extra_headers or {})}
        trickle = fault.trickle if fault is not None else 0
        end_after = fault.end_after_chunks if fault is not None else None
        self.send_response(outgoing.status)
        request_id = self.server.owner._request_ids.new("req_standin_")
        self.send_header("x-request-id", request_id)
        self.send_header("request-id", request_id)
        if outgoing.events is None:
            data = outgoing.body_bytes()
            self.send_header("Content-Type", outgoing.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not trickle:
                self.wfile.write(data)
                return
            size = -(-len(data) // TRICKLE_PIECES)
            for start in range(0, len(data), size):
                if not self._pause(trickle):
                    return
                self.wfile.write(data[start : start + size])
            return
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        pings = (b": ping\n\n",) * (fault.pings if fault is not None else 0)
        for index, event in enumerate((*pings, *outgoing.events)):
            if index >= len(pings) and end_after is not None and index - len(pings) >= end_after:
                break
            if disconnect_after is not None and index >= disconnect_after:
                self._drop()
                return
            if trickle and not self._pause(trickle):
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
        if disconnect_after is not None:
            self._drop()
            return
        self.wfile.write(b"0\r\n\r\n")

    def _pause(self, seconds: float) -> bool:
        """Wait ``seconds`` (a trickle); False, with the connection dropped, when the server is stopping."""
        if self.server.stopping.wait(seconds):
            self._drop()
            return False
        return True

    def _drop(self) -> None:
        """Close the connection abruptly (no response, or no end of the chunked body)."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
