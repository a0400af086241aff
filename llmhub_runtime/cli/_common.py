"""What every command shares: output, the config path, credential status, the error type."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config_loader import default_config_path
from ..models import Target

__all__ = [
    "CLIError",
    "Formatter",
    "config_path",
    "credential_label",
    "credential_state",
    "err",
    "out",
    "table",
]


class CLIError(Exception):
    """A command-line mistake or a refusal; printed as ``llmhub: error: MESSAGE``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples in descriptions and epilogs as written."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)


def out(text: str = "", *, end: str = "\n") -> None:
    """Write to stdout (the answer: what a pipe should receive)."""
    sys.stdout.write(text + end)
    sys.stdout.flush()


def err(text: str = "", *, end: str = "\n") -> None:
    """Write to stderr (status, usage, latency, errors)."""
    sys.stderr.write(text + end)
    sys.stderr.flush()


def config_path(args: argparse.Namespace, positional: str | None = None) -> Path:
    """The config file a command reads: PATH argument, else ``--config``, else the default.

    The default is ``$LLMHUB_CONFIG``, else ``./llmhub.yaml``.
    """
    chosen = positional or getattr(args, "config", None)
    return Path(chosen) if chosen else default_config_path()


def credential_state(target: Target) -> str:
    """``set``, ``missing`` or ``not needed`` for the target's key; never the key itself."""
    if target.env_key is None:
        return "not needed"
    return "set" if os.environ.get(target.env_key, "").strip() else "missing"


def credential_label(target: Target) -> str:
    """Credential state with the variable's name, e.g. ``missing (OPENAI_API_KEY)``."""
    state = credential_state(target)
    return state if target.env_key is None else f"{state} ({target.env_key})"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain left-aligned text table."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)
