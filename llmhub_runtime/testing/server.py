"""`StandInServer`: lifecycle, reply queues, scripts and request history of the loopback server.

The HTTP side (stdlib `ThreadingHTTPServer`, HTTP/1.1 keep-alive, daemon threads) is in `handler`;
what each endpoint answers is in `routes`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any

from llmhub_runtime.testing.embeddings import DEFAULT_DIMENSIONS
from llmhub_runtime.testing.handler import FILES_PREFIX, StandInHTTPServer
from llmhub_runtime.testing.replies import Api, Fault, RecordedRequest, Reply
from llmhub_runtime.testing.routes import Endpoint, Ids, endpoint_for

__all__ = ["Script", "StandInServer"]

Script = Callable[[RecordedRequest], Reply | Fault | None]
"""A persistent script: called for each request to its model; None means "default brain"."""

ANY_MODEL = "*"


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
        self._files: dict[str, bytes] = {}
        self._ids = Ids()
        self._request_ids = Ids()
        self._httpd: StandInHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------------------------

    def start(self) -> StandInServer:
        """Bind and serve in a background daemon thread; returns self."""
        if self._httpd is not None:
            return self
        httpd = StandInHTTPServer((self._host, self._requested_port), self)
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
            self._files.clear()

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
        return endpoint_for(
            api, self._ids, embedding_dimensions=self._embedding_dimensions, store_file=self._store_file
        )

    def _store_file(self, name: str, data: bytes) -> str:
        with self._lock:
            self._files[name] = data
        return f"{self.url}{FILES_PREFIX}{name}"

    def _file(self, name: str) -> bytes | None:
        with self._lock:
            return self._files.get(name)
