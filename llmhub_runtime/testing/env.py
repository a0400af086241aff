"""Test environment helpers: a port nobody listens on, and provider env vars stripped for a block."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["PROVIDER_ENV_PREFIXES", "clean_provider_env", "unused_port"]

PROVIDER_ENV_PREFIXES: tuple[str, ...] = (
    "ANTHROPIC", "AZURE", "AZURE_OPENAI", "AZURE_ANTHROPIC", "CEREBRAS", "COHERE", "DATABRICKS", "DEEPSEEK",
    "EDENAI", "FIREWORKS", "GEMINI", "GMI", "GOOGLE", "GOOGLE_GEMINI", "GROQ", "HUGGINGFACE", "INCEPTION",
    "LINER", "LLAMA", "LLAMAFILE", "LLAMACPP", "LM_STUDIO", "META", "MINIMAX", "MISTRAL", "MODEL", "MOONSHOT",
    "NEBIUS", "OLLAMA", "OPENAI", "OPENAI_COMPATIBLE", "OPENROUTER", "OTARI", "PERPLEXITY", "PORTKEY",
    "REQUESTY", "SAMBANOVA", "TOGETHER", "TYPESAFE", "VERTEXAI", "VERTEXAI_ANTHROPIC", "VOYAGE", "WATSONX",
    "XAI", "ZAI",
)  # fmt: skip
_EXTRA_NAMES = frozenset(
    {"HF_TOKEN", "OLLAMA_HOST", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "AZURE_OPENAI_ENDPOINT", "WATSONX_URL"}
)
_PATTERN = re.compile(rf"^(?:{'|'.join(PROVIDER_ENV_PREFIXES)})_(?:API_KEY|API_BASE|BASE_URL)$")


def unused_port() -> int:
    """A local TCP port with nothing listening on it (for "connection refused" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def is_provider_env_var(name: str) -> bool:
    """Whether `name` is a known provider's API key / base URL variable."""
    return name in _EXTRA_NAMES or _PATTERN.match(name) is not None


@contextmanager
def clean_provider_env(*, keep: Iterable[str] = ()) -> Iterator[None]:
    """Remove known providers' `*_API_KEY` / `*_API_BASE` / `*_BASE_URL` variables; restore them on exit.

    Names in `keep` stay. Variables set inside the block are removed on exit as well, if they are
    provider variables.
    """
    kept = set(keep)
    saved = {name: value for name, value in os.environ.items() if is_provider_env_var(name) and name not in kept}
    for name in saved:
        del os.environ[name]
    try:
        yield
    finally:
        for name in [n for n in os.environ if is_provider_env_var(n) and n not in kept]:
            del os.environ[name]
        os.environ.update(saved)
