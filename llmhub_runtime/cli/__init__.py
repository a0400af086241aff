"""The ``llmhub`` command line: check, inspect and call the roles of an ``llmhub.yaml``.

stdlib ``argparse`` only; each command lives in its own module and registers its parser.
``main(argv)`` returns the exit status (the console script exits with it), so tests call it
in-process.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from .. import __version__
from ..config_loader import CONFIG_ENV_VAR
from ..errors import ConfigValidationError, LLMHubError
from . import _cache, _calls, _config, _doctor, _init, _schema, _serve
from ._common import CLIError, Formatter, err

__all__ = ["build_parser", "main"]

DEBUG_ENV_VAR = "LLMHUB_DEBUG"

QUICKSTART = """\
llmhub calls LLMs by role ("llm.inference", "llm.embedding") as configured in a validated
llmhub.yaml; every provider call goes through any-llm.

Quick start:
  export OPENAI_API_KEY=sk-...        # or ANTHROPIC_API_KEY, GEMINI_API_KEY, ...
  llmhub init                         # write a starter llmhub.yaml for the keys you have
  llmhub check                        # validate it, offline
  llmhub call llm.inference "Three names for a grey cat"

No key? Run a small model on this machine:
  llmhub init --local  &&  llmhub serve-local     # then, in another shell, llmhub call ...

Run 'llmhub COMMAND --help' for examples, e.g. 'llmhub call --help'.
"""

EPILOG = f"""\
The config is PATH where a command takes one, else --config, else ${CONFIG_ENV_VAR}, else
./llmhub.yaml. API keys are read from the environment variables the config names.

Exit status: 0 success, 1 error or problems found, 2 bad command line, 130 interrupted.
Set {DEBUG_ENV_VAR}=1 (or pass --debug) to see tracebacks.
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``llmhub`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="llmhub", description=QUICKSTART, epilog=EPILOG, formatter_class=Formatter)
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        help=f"llmhub.yaml to use (default: ${CONFIG_ENV_VAR} or ./llmhub.yaml)",
    )
    parser.add_argument("--debug", action="store_true", default=False, help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"llmhub {__version__}")
    # The same options after the subcommand ("llmhub explain ROLE --config x.yaml"); SUPPRESS
    # keeps an absent one from overwriting what was given before the subcommand.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in (_config, _calls, _init, _schema, _serve, _doctor, _cache):
        module.register(commands, [common])
    return parser


def _debug_wanted(argv: Sequence[str]) -> bool:
    return "--debug" in argv or os.environ.get(DEBUG_ENV_VAR, "").strip().lower() in {"1", "true", "yes", "on"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``llmhub`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    debug = bool(getattr(args, "debug", False)) or _debug_wanted(arguments)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        err("llmhub: interrupted")
        return 130
    except BrokenPipeError:  # `llmhub call ... | head`: the reader left; that is fine
        _silence_stdout()
        return 0
    except Exception as exc:
        if debug:
            traceback.print_exc()
        err(_error_text(exc, debug))
        return exc.code if isinstance(exc, CLIError) else 1
    return code


def _error_text(exc: Exception, debug: bool) -> str:
    if isinstance(exc, ConfigValidationError):
        lines = [str(problem) for problem in exc.problems]
        count = len(lines)
        head = f"llmhub: error: {count} problem{'s' if count != 1 else ''} in {exc.path or 'the config'}"
        return "\n".join([head, *(f"  {line}" for line in lines)])
    if isinstance(exc, CLIError | LLMHubError):
        return f"llmhub: error: {exc}"
    hint = "" if debug else f" (set {DEBUG_ENV_VAR}=1 for the traceback)"
    return f"llmhub: error: unexpected {type(exc).__name__}: {exc}{hint}"


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
