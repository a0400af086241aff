"""``llmhub cache stats|clear`` over a sqlite cache the hub filled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmhub_runtime import LLMHub
from llmhub_runtime.testing.server import StandInServer


def write_config(server: StandInServer, path: Path) -> Path:
    config = path / "llmhub.yaml"
    config.write_text(
        f"""\
providers:
  standin: {{kind: openai, api_base: "{server.openai_base}", env_key: null}}
roles:
  llm.inference: {{provider: standin, model: standin-chat, cache: {{backend: sqlite, path: "{path / "c.sqlite"}"}}}}
  llm.embedding: {{provider: standin, model: standin-embed, mode: embedding,
                   cache: {{backend: sqlite, path: "{path / "c.sqlite"}"}}}}
  llm.plain: {{provider: standin, model: standin-chat}}
"""
    )
    return config


def test_stats_and_clear_per_role(run: Callable[..., Any], tmp_path: Path) -> None:
    with StandInServer() as server:
        config = write_config(server, tmp_path)
        with LLMHub(config) as hub:
            hub.completion("llm.inference", "one")
            hub.completion("llm.inference", "two")
            hub.embedding("llm.embedding", ["a", "b", "c"])
    stats = run("cache", "stats", "--config", str(config))
    assert stats.code == 0
    rows = {line.split()[0]: line.split()[1:3] for line in stats.out.splitlines()[1:]}
    assert rows == {"llm.inference": ["sqlite", "2"], "llm.embedding": ["sqlite", "3"]}
    cleared = run("cache", "clear", "llm.embedding", "--config", str(config))
    assert cleared.code == 0 and "llm.embedding  sqlite   3        cleared" in cleared.out
    after = run("cache", "--config", str(config))  # stats is the default action
    rows = {line.split()[0]: line.split()[1:3] for line in after.out.splitlines()[1:]}
    assert rows == {"llm.inference": ["sqlite", "2"], "llm.embedding": ["sqlite", "0"]}


def test_unknown_or_uncached_role_is_a_clear_error(run: Callable[..., Any], tmp_path: Path) -> None:
    with StandInServer() as server:
        config = write_config(server, tmp_path)
    missing = run("cache", "clear", "llm.nope", "--config", str(config))
    assert missing.code == 1 and "role 'llm.nope' is not in" in missing.err and "llmhub roles" in missing.err
    plain = run("cache", "stats", "llm.plain", "--config", str(config))
    assert plain.code == 1 and "role 'llm.plain' has no cache:" in plain.err
