"""``llmhub call`` and ``llmhub embed``: one real call through the hub."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import ModeMismatchError
from ..hub import LLMHub
from ._common import CLIError, Formatter, config_path, err, out

__all__ = ["parse_param", "register"]


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    call = commands.add_parser(
        "call",
        parents=parents,
        formatter_class=Formatter,
        help="send a prompt to a chat role and stream the answer",
        description="Send PROMPT (or stdin) to a chat role and stream the answer to stdout as it\n"
        "arrives. Usage and latency go to stderr, so the answer pipes cleanly.",
        epilog="""\
Examples:
  llmhub call llm.inference "Three names for a grey cat"
  llmhub call llm.inference "Summarise this" < notes.txt      # stdin is the prompt
  git diff | llmhub call llm.inference --system "Write a commit message"
  llmhub call llm.inference "Say hi" --param temperature=0 --param max_tokens=20
  llmhub call llm.inference "List 3 colours" --param 'stop=["\\n"]'
  llmhub call llm.inference "Say hi" --json                    # the full response

--param values are parsed as JSON when they can be (0.2, 20, true, ["x"]), else kept as
text; they override the role's params for this call.
""",
    )
    call.add_argument("role", metavar="ROLE", help="a chat role, e.g. llm.inference")
    call.add_argument("prompt", nargs="?", metavar="PROMPT", help="the user message (default: read stdin)")
    call.add_argument("-s", "--system", metavar="TEXT", help="system prompt")
    _param_option(call)
    call.add_argument("--json", action="store_true", help="print the full response as JSON (no streaming)")
    call.add_argument("--no-stream", action="store_true", help="wait for the whole answer, then print it")
    call.set_defaults(func=run_call)

    embed = commands.add_parser(
        "embed",
        parents=parents,
        formatter_class=Formatter,
        help="embed text with an embedding role",
        description="Embed TEXT (one vector per argument; stdin when none) with an embedding\n"
        "role, and print each vector's dimension and first values.",
        epilog="""\
Examples:
  llmhub embed llm.embedding "the cat sat on the mat"
  llmhub embed llm.embedding "first text" "second text"
  llmhub embed llm.embedding --json < paragraph.txt > vector.json
""",
    )
    embed.add_argument("role", metavar="ROLE", help="an embedding role, e.g. llm.embedding")
    embed.add_argument("texts", nargs="*", metavar="TEXT", help="text to embed (default: read stdin)")
    _param_option(embed)
    embed.add_argument("--json", action="store_true", help="print the full response as JSON")
    embed.set_defaults(func=run_embed)


def _param_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=parse_param,
        help="override a param for this call (repeatable)",
    )


def parse_param(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` → ``(key, value)``, the value parsed as JSON when it is JSON."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


def _read_stdin(what: str) -> str:
    stdin = sys.stdin
    try:
        interactive = stdin is None or stdin.isatty()
    except (AttributeError, ValueError, OSError):
        interactive = True
    if interactive:
        raise CLIError(f"no {what} given: pass it as an argument, or pipe it on stdin")
    try:
        text = stdin.read()
    except OSError as exc:
        raise CLIError(f"could not read the {what} from stdin: {exc}") from exc
    if not text.strip():
        raise CLIError(f"the {what} on stdin is empty")
    return text


def _load_any_llm() -> None:
    import any_llm  # noqa: F401


def _usage_line(usage: Any, model: str | None, elapsed: float, first: float | None = None) -> str:
    parts = [model or "?"]
    if usage is not None:
        parts.append(f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens")
    else:
        parts.append("usage not reported")
    if first is not None:
        parts.append(f"first token {first:.2f}s")
    parts.append(f"total {elapsed:.2f}s")
    return "[" + " · ".join(parts) + "]"


def _given(text: str, what: str, purpose: str) -> str:
    """``text`` from the command line, refused when blank (the hub refuses an empty prompt too)."""
    if not text.strip():
        raise CLIError(f"the {what} is empty: pass the text {purpose}, or pipe it on stdin")
    return text


_COMMANDS = {"chat": "call ROLE PROMPT", "tool": "call ROLE PROMPT", "embedding": "embed ROLE TEXT"}
"""The llmhub command that calls each mode (the other modes are called from Python)."""


@contextmanager
def _cli_advice(command: str) -> Iterator[None]:
    """Turn the hub's mode mismatch (Python advice: "call embedding()") into command-line advice."""
    try:
        yield
    except ModeMismatchError as exc:
        wanted = " or ".join(repr(m) for m in exc.accepted)
        article = "an" if exc.accepted[0][:1] in "aeiou" else "a"
        usage = _COMMANDS.get(exc.mode)
        if usage is not None:
            fix = f"Use 'llmhub {usage.replace('ROLE', exc.role)}' for it"
        elif exc.use:
            fix = f"Mode {exc.mode!r} has no llmhub command: call hub.{exc.use}() from Python"
        else:
            fix = f"Mode {exc.mode!r} has no llmhub command"
        raise CLIError(
            f"Role {exc.role!r} has mode {exc.mode!r}, but 'llmhub {command}' needs {article} {wanted} role. "
            f"{fix}, or pick another role ('llmhub roles' lists them)."
        ) from exc


def run_call(args: argparse.Namespace) -> int:
    prompt = _given(args.prompt, "prompt", "to send") if args.prompt not in (None, "-") else _read_stdin("prompt")
    messages: list[dict[str, str]] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": prompt})
    params = dict(args.param)
    with LLMHub(config_path(args)) as hub, _cli_advice("call"):
        _load_any_llm()  # a one-off import cost, kept out of the latency shown
        started = time.perf_counter()
        if args.json or args.no_stream:
            response: Any = hub.completion(args.role, messages, params_override=params)
            elapsed = time.perf_counter() - started
            if args.json:
                out(response.model_dump_json(indent=2, exclude_none=True))
            else:
                text = response.choices[0].message.content if response.choices else None
                out(text or "")
            err(_usage_line(response.usage, response.model, elapsed))
            return 0
        chunks: Any = hub.completion(args.role, messages, params_override=params, stream=True)
        first: float | None = None
        usage = None
        model = None
        last = "\n"
        for chunk in chunks:
            model = chunk.model or model
            usage = chunk.usage or usage
            for choice in chunk.choices or ():
                piece = choice.delta.content if choice.delta else None
                if piece:
                    if first is None:
                        first = time.perf_counter() - started
                    out(piece, end="")
                    last = piece
        if not last.endswith("\n"):
            out()
        err(_usage_line(usage, model, time.perf_counter() - started, first))
    return 0


def run_embed(args: argparse.Namespace) -> int:
    several = len(args.texts) > 1
    texts = [_given(text, f"text #{n}" if several else "text", "to embed") for n, text in enumerate(args.texts, 1)]
    texts = texts or [_read_stdin("text")]
    with LLMHub(config_path(args)) as hub, _cli_advice("embed"):
        _load_any_llm()
        started = time.perf_counter()
        response = hub.embedding(args.role, texts if len(texts) > 1 else texts[0], params_override=dict(args.param))
        elapsed = time.perf_counter() - started
    if args.json:
        out(response.model_dump_json(indent=2, exclude_none=True))
    else:
        for item, text in zip(response.data, texts, strict=False):
            vector = list(item.embedding) if not isinstance(item.embedding, str) else []
            preview = ", ".join(f"{x:.4f}" for x in vector[:5]) + (", ..." if len(vector) > 5 else "")
            norm = math.sqrt(sum(x * x for x in vector))
            label = text if len(text) <= 40 else text[:37] + "..."
            out(f"{label!r}: dimension {len(vector)}, norm {norm:.3f}, [{preview}]")
    usage = response.usage
    tokens = f"{usage.prompt_tokens} input tokens" if usage is not None else "usage not reported"
    err(f"[{response.model or '?'} · {tokens} · total {elapsed:.2f}s]")
    return 0
