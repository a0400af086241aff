"""``llmhub init``: write a starter ``llmhub.yaml`` for the keys in the environment (or the local model)."""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..config_loader import config_from_dict
from ..local import BASE_ENV_VAR, DEFAULT_BASE, DEFAULT_MODEL_ALIAS
from ..resolver import Resolver
from ._common import CLIError, Formatter, config_path, out
from ._config import sdk_warnings
from ._schema import SHIPPED_SCHEMA

__all__ = ["KNOWN_PROVIDERS", "StarterProvider", "register", "starter_config"]


@dataclass(frozen=True)
class StarterProvider:
    """A provider ``init`` knows how to start with: its key variable and sensible models."""

    kind: str
    env_key: str
    chat_model: str
    embedding_model: str | None = None


KNOWN_PROVIDERS: tuple[StarterProvider, ...] = (
    StarterProvider("openai", "OPENAI_API_KEY", "gpt-4o-mini", "text-embedding-3-small"),
    StarterProvider("anthropic", "ANTHROPIC_API_KEY", "claude-3-5-haiku-latest"),
    StarterProvider("gemini", "GEMINI_API_KEY", "gemini-2.0-flash", "text-embedding-004"),
    StarterProvider("mistral", "MISTRAL_API_KEY", "mistral-small-latest", "mistral-embed"),
    StarterProvider("groq", "GROQ_API_KEY", "llama-3.1-8b-instant"),
    StarterProvider("deepseek", "DEEPSEEK_API_KEY", "deepseek-chat"),
)
"""In order of preference: the first one with a key is the chat role's primary target."""

LOCAL_BASE = f"${{{BASE_ENV_VAR}:-{DEFAULT_BASE}}}"
"""The local model's address: ``$LLMHUB_LOCAL_BASE``, else the port ``llmhub serve-local`` prefers."""


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    keys = ", ".join(p.env_key for p in KNOWN_PROVIDERS)
    parser = commands.add_parser(
        "init",
        parents=parents,
        formatter_class=Formatter,
        help="write a starter llmhub.yaml (chat + embedding roles)",
        description="Write a starter llmhub.yaml with a chat role (llm.inference) and an embedding\n"
        "role (llm.embedding), for the providers whose API keys are set in the environment,\n"
        "or for the local model with --local. An existing file is kept unless --force.",
        epilog=f"""\
Keys looked for, in this order: {keys}.
The first one found is the chat role's primary target; the others become its fallbacks.

Examples:
  export OPENAI_API_KEY=sk-...  &&  llmhub init
  llmhub init --local                    # no key: SmolLM2 on llama.cpp, see 'llmhub serve-local'
  llmhub init config/dev.yaml --force    # overwrite
""",
    )
    parser.add_argument("path", nargs="?", metavar="PATH", help="file to write (default: --config)")
    parser.add_argument("--local", action="store_true", help="use the local model (llmhub serve-local)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(func=run)


def _detected(environ: dict[str, str]) -> list[StarterProvider]:
    return [p for p in KNOWN_PROVIDERS if environ.get(p.env_key, "").strip()]


def _project_name(path: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.resolve().parent.name).strip("-")
    return name or "my-project"


def _local_provider() -> dict[str, Any]:
    return {"kind": "llamacpp", "api_base": LOCAL_BASE, "env_key": None, "timeout": 120}


def starter_config(path: Path, *, local: bool, environ: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The starter config as a dict, and notes on the choices made (for the user)."""
    notes: list[str] = []
    providers: dict[str, Any] = {}
    roles: dict[str, Any] = {}
    found = [] if local else _detected(environ)
    if not local and not found:
        names = ", ".join(p.env_key for p in KNOWN_PROVIDERS)
        raise CLIError(
            f"no provider API key in the environment (looked for {names}). "
            "Set one (e.g. export OPENAI_API_KEY=...) and run 'llmhub init' again, "
            "or run 'llmhub init --local' for the local model (no key needed)."
        )
    if local:
        providers["local"] = _local_provider()
        roles["llm.inference"] = {
            "description": "Chat with the local model (start it with 'llmhub serve-local').",
            "provider": "local",
            "model": DEFAULT_MODEL_ALIAS,
            "mode": "chat",
            "params": {"temperature": 0.2, "max_tokens": 256},
        }
        roles["llm.embedding"] = {
            "description": "Sentence embeddings from the local model.",
            "provider": "local",
            "model": DEFAULT_MODEL_ALIAS,
            "mode": "embedding",
        }
        notes.append(
            f"start the model with 'llmhub serve-local' (it serves at {DEFAULT_BASE}; if that port is taken, "
            f"export the {BASE_ENV_VAR} line it prints)"
        )
        return {"project": _project_name(path), "providers": providers, "roles": roles}, notes

    for provider in found:
        providers[provider.kind] = {"env_key": provider.env_key, "timeout": 60}
    primary, *others = found
    chat: dict[str, Any] = {
        "description": "General chat.",
        "provider": primary.kind,
        "model": primary.chat_model,
        "mode": "chat",
        "params": {"temperature": 0.2},
        "retry": {"max_attempts": 2},
    }
    if others:
        chat["fallbacks"] = [{"provider": p.kind, "model": p.chat_model} for p in others]
    roles["llm.inference"] = chat
    embedder = next((p for p in found if p.embedding_model), None)
    if embedder is not None:
        roles["llm.embedding"] = {
            "description": "Text embeddings.",
            "provider": embedder.kind,
            "model": embedder.embedding_model,
            "mode": "embedding",
        }
    else:
        providers["local"] = _local_provider()
        roles["llm.embedding"] = {
            "description": "Text embeddings from the local model (start it with 'llmhub serve-local').",
            "provider": "local",
            "model": DEFAULT_MODEL_ALIAS,
            "mode": "embedding",
        }
        notes.append(
            f"no embedding model is known for {', '.join(p.kind for p in found)}, so llm.embedding uses "
            "the local model: run 'llmhub serve-local', or point the role at another provider"
        )
    used = ", ".join(f"{p.kind} ({p.env_key})" for p in found)
    notes.insert(0, f"providers with a key set: {used}")
    return {"project": _project_name(path), "providers": providers, "roles": roles}, notes


def render(config: dict[str, Any]) -> str:
    """The YAML text ``init`` writes, headed by the schema comment."""
    body = yaml.safe_dump(config, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)
    header = (
        f"# yaml-language-server: $schema={SHIPPED_SCHEMA.as_uri()}\n"
        "# Written by 'llmhub init'. Validate with 'llmhub check'; see a role with 'llmhub explain ROLE'.\n"
        "# API keys are read from the environment variables named by env_key, never stored here.\n\n"
    )
    return header + body


def run(args: argparse.Namespace) -> int:
    path = config_path(args, args.path)
    if path.exists() and not args.force:
        raise CLIError(f"{path} already exists; pass --force to overwrite it")
    config, notes = starter_config(path, local=args.local, environ=dict(os.environ))
    text = render(config)
    written = config_from_dict(yaml.safe_load(text), path=str(path))  # what we write must validate
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    roles = config["roles"]
    summary = ", ".join(f"{name} ({role['provider']}/{role['model']})" for name, role in roles.items())
    out(f"Wrote {path}: {summary}")
    for warning in sdk_warnings(Resolver(written)):
        out(f"warning: {warning}")
    for note in notes:
        out(f"note: {note}")
    flag = "" if str(path) == "llmhub.yaml" else f" --config {path}"
    out(f'Next: llmhub check {path}  then  llmhub call llm.inference "Hello"{flag}')
    return 0
