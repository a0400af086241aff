"""Fuzzing the loader: any text yields a ``RuntimeConfig`` or a ``ConfigError``, never another exception.

A seeded mutator (so failures replay) over the bad-config corpus and a good config: deletions,
insertions of YAML punctuation, tags, anchors, tabs, control characters and ``${``, repeated and
swapped lines. Bounded: a fixed number of mutants, each small.
"""

from __future__ import annotations

import contextlib
import random
from pathlib import Path
from typing import Any

import pytest

from llmhub_runtime import ConfigError, RuntimeConfig, config_from_dict, load_config

SEEDS = sorted((Path(__file__).parent / "bad_configs").glob("*.yaml"))
GOOD = """\
x-base: &base {provider: openai, model: gpt-4o-mini}
providers:
  local: {kind: openai, api_base: "${LOCAL_BASE:-http://127.0.0.1:8080/v1}", env_key: null, extra_params: [top_k]}
roles:
  llm.inference:
    <<: *base
    params: {temperature: 0.7, max_tokens: 20}
    timeout: 30
    retry: {max_attempts: 2}
    fallbacks: [{role: llm.backup}, {provider: local, model: small, params: {top_k: 3}}]
  llm.backup: {provider: local, model: tiny}
  llm.embedding: {provider: local, model: embed, mode: embedding}
defaults: {provider: openai, mode: chat}
envs:
  prod: {roles: {llm.inference: {model: gpt-4o}}}
"""
PIECES = [
    "{",
    "}",
    "[",
    "]",
    ":",
    ", ",
    "- ",
    "&a ",
    "*a",
    "<<: ",
    "!!int ",
    "!!float ",
    "!!bool ",
    "!!timestamp ",
    "!!binary ",
    "!x ",
    "? ",
    "|",
    ">",
    "'",
    '"',
    "#",
    "\t",
    "\n",
    "  ",
    "\x07",
    "\ufeff",
    "${",
    "${A:-${B}}",
    "$$",
    "}",
    ".inf",
    ".nan",
    "9" * 40,
    "no",
    "~",
    "null",
    "[[[[[[",
    "]]]]]]",
    "%YAML 1.1\n",
    "---\n",
    "...\n",
]


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        lines = text.splitlines(keepends=True) or [""]
        choice = rng.random()
        if choice < 0.3:
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(PIECES) + text[at:]
        elif choice < 0.5 and text:
            at = rng.randrange(len(text))
            text = text[:at] + text[at + rng.randint(1, 8) :]
        elif choice < 0.7:
            index = rng.randrange(len(lines))
            lines.insert(index, lines[index])
            text = "".join(lines)
        elif choice < 0.85 and len(lines) > 1:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
        else:
            at = rng.randrange(len(text) + 1)
            text = text[:at] + "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6))) + text[at:]
    return text


@pytest.mark.timeout(120)
def test_mutated_files_give_a_config_or_a_config_error(tmp_path: Path) -> None:
    rng = random.Random(20261202)
    sources = [GOOD, *(path.read_text() for path in SEEDS)]
    path = tmp_path / "llmhub.yaml"
    outcomes = {"ok": 0, "error": 0}
    for _ in range(400):
        path.write_text(mutate(rng.choice(sources), rng), encoding="utf-8")
        try:
            assert isinstance(load_config(path), RuntimeConfig)
            outcomes["ok"] += 1
        except ConfigError as exc:
            assert str(exc)
            outcomes["error"] += 1
    assert outcomes["error"] > 100  # the mutator does break things


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["str", "int", "float", "none", "bool", "list", "dict"] if depth < 4 else ["str", "int", "none"]
    kind = rng.choice(kinds)
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "dict":
        keys = ["provider", "model", "mode", "params", "roles", "fallbacks", "role", "timeout", "x", "tools", 1]
        return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return {
        "str": lambda: rng.choice(["openai", "chat", "m", "${NOPE}", "", "embedding", "a"]),
        "int": lambda: rng.choice([0, -1, 3, 10**40]),
        "float": lambda: rng.choice([0.5, float("inf"), float("nan")]),
        "none": lambda: None,
        "bool": lambda: rng.random() < 0.5,
    }[kind]()


@pytest.mark.timeout(60)
def test_random_dicts_give_a_config_or_a_config_error() -> None:
    rng = random.Random(7)
    for _ in range(300):
        data = {
            "roles": {"a": random_value(rng), "b": {"provider": "openai", "model": "m", "fallbacks": random_value(rng)}}
        }
        if rng.random() < 0.3:
            data["roles"]["a"] = data  # a cycle
        with contextlib.suppress(ConfigError):
            config_from_dict(data)
