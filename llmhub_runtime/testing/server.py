"""`StandInServer`: the loopback HTTP server, its reply queues, scripts, faults and request history.

Stdlib only: a `ThreadingHTTPServer` speaking HTTP/1.1 with keep-alive, one daemon thread per
connection, serving in a background thread. Streams use chunked transfer encoding.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections import deque
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from llmhub_runtime.testing import anthropic_wire, openai_wire
from llmhub_runtime.testing.embeddings import DEFAULT_DIMENSIONS
from llmhub_runtime.testing.replies import Api, Fault, RecordedRequest, Reply
from llmhub_runtime.testing.routes import Endpoint, Ids, Outgoing, endpoint_for

__all__ = ["Script", "StandInServer"]

logger = logging.getLogger(__name__)

Script = Callable[[RecordedRequest], Reply | Fault | None]
"""A persistent script: called for each request to its model; None means "default brain"."""

ANY_MODEL = "*"
_POST_ROUTES: dict[str, Api] = {
    "/v1/chat/completions": "openai-chat",
    "/chat/completions": "openai-chat",
    "/v1/embeddings": "openai-embeddings",
    "/embeddings": "openai-embeddings",
    "/v1/messages": "anthropic-messages",
    "/messages": "anthropic-messages",
}
_CONNECTION_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class StandInServer:
    """A loopback stand-in for the OpenAI and Anthropic APIs (see `llmhub_runtime.testing`)."""

    __test__ = False

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        embedding_dimensions: int = DEFAULT_DIMENSIONS,
    ) -> None:
        """Configure (not start) a server; `api_key`, when set, is required on every model request."""
        self._host = host
        self._requested_port = port
        self._api_key = api_key
        self._embedding_dimensions = embedding_dimensions
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Reply | Fault]] = {}
        self._scripts: dict[str, Script] = {}
        self._history: list[RecordedRequest] = []
        self._models: dict[str, None] = {}
        self._ids = Ids()
        self._request_ids = Ids()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------------------------

    def start(self) -> StandInServer:
        """Bind and serve in a background daemon thread; returns self."""
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self._host, self._requested_port), _Handler, self)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="llmhub-standin-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and interrupt pending delays. Idempotent."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> StandInServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self._httpd is not None else "stopped"
        return f"<StandInServer {state}>"

    # addresses -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (the server must be started)."""
        if self._httpd is None:
            raise RuntimeError("StandInServer is not running - call start() or use it as a context manager")
        port: int = self._httpd.server_address[1]
        return port

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://{self._host}:{self.port}"

    @property
    def openai_base(self) -> str:
        """Base URL for OpenAI-compatible clients (`url + "/v1"`)."""
        return self.url + "/v1"

    @property
    def anthropic_base(self) -> str:
        """Base URL for the Anthropic SDK (it appends `/v1/messages` itself)."""
        return self.url

    # scripting -----------------------------------------------------------------------------

    def enqueue(self, model: str, *items: Reply | Fault) -> None:
        """Queue one-shot replies/faults for `model` ("*" = any model), answered in FIFO order."""
        for item in items:
            if not isinstance(item, Reply | Fault):
                raise TypeError(f"enqueue() takes Reply or Fault items, got {type(item).__name__}")
        with self._lock:
            self._queues.setdefault(model, deque()).extend(items)
            if model != ANY_MODEL:
                self._models.setdefault(model, None)

    def script(self, model: str, fn: Script | None) -> None:
        """Answer every request to `model` ("*" = any model) with `fn(request)`; None removes the script.

        Queued items still come first. `fn` returning None means "use the default brain".
        """
        with self._lock:
            if fn is None:
                self._scripts.pop(model, None)
                return
            self._scripts[model] = fn
            if model != ANY_MODEL:
                self._models.setdefault(model, None)

    def pending(self, model: str) -> int:
        """How many queued items `model` has left."""
        with self._lock:
            return len(self._queues.get(model, ()))

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every model request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._history)

    @property
    def last_request(self) -> RecordedRequest | None:
        """The most recent model request, or None."""
        with self._lock:
            return self._history[-1] if self._history else None

    @property
    def models(self) -> list[str]:
        """Model names seen in requests, queues and scripts, in first-seen order."""
        with self._lock:
            return list(self._models)

    def reset(self) -> None:
        """Clear queues, scripts, history and seen models."""
        with self._lock:
            self._queues.clear()
            self._scripts.clear()
            self._history.clear()
            self._models.clear()

    def chat_config(self, model: str = "standin-chat", embedding_model: str = "standin-embed") -> dict[str, Any]:
        """A ready llmhub config dict whose roles point at this server."""
        return {
            "providers": {
                "standin": {"kind": "openai", "api_base": self.openai_base, "env_key": None},
                "standin-anthropic": {"kind": "anthropic", "api_base": self.anthropic_base, "env_key": None},
            },
            "roles": {
                "llm.inference": {"provider": "standin", "model": model, "mode": "chat"},
                "llm.embedding": {"provider": "standin", "model": embedding_model, "mode": "embedding"},
            },
        }

    # request handling (called from handler threads) ----------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._history.append(request)
            if request.model:
                self._models.setdefault(request.model, None)

    def _next_item(self, request: RecordedRequest) -> Reply | Fault | None:
        with self._lock:
            for key in (request.model, ANY_MODEL):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
            script = self._scripts.get(request.model) or self._scripts.get(ANY_MODEL)
        if script is None:
            return None
        result = script(request)
        if result is not None and not isinstance(result, Reply | Fault):
            raise TypeError(f"script for {request.model!r} returned {type(result).__name__}, not Reply | Fault | None")
        return result

    def _endpoint(self, api: Api) -> Endpoint:
        return endpoint_for(api, self._ids, embedding_dimensions=self._embedding_dimensions)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: StandInServer) -> None:
        self.owner = owner
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

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
    server: _HTTPServer
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
                if body is None:
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
        body = _parse_json(raw)
        headers = {key.lower(): value for key, value in self.headers.items()}
        model = str(body.get("model", "")) if isinstance(body, dict) else ""
        stream = bool(body.get("stream")) if isinstance(body, dict) else False
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
            self._send(self._answer(endpoint, body, None), extra_headers=fault.headers)

    # I/O -----------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(Outgoing(status=status, json=payload))

    def _send(
        self, outgoing: Outgoing, *, extra_headers: Mapping[str, str] | None = None, disconnect_after: int | None = None
    ) -> None:
        headers = {**outgoing.headers, **(extra_headers or {})}
        self.send_response(outgoing.status)
        request_id = self.server.owner._request_ids.new("req_standin_")
        self.send_header("x-request-id", request_id)
        self.send_header("request-id", request_id)
        if outgoing.events is None:
            data = outgoing.body_bytes()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        for index, event in enumerate(outgoing.events):
            if disconnect_after is not None and index >= disconnect_after:
                self._drop()
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
        if disconnect_after is not None:
            self._drop()
            return
        self.wfile.write(b"0\r\n\r\n")

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
