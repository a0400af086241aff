"""Capability flags read from any-llm's source with ``ast`` equal the real classes', exactly.

``provider_capabilities(kind)`` must give, for every provider id and every flag llmhub checks,
what ``AnyLLM.get_provider_class(kind).SUPPORTS_X`` is, without importing any-llm. Providers whose
class cannot be imported here (a missing SDK at import time) are skipped.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from any_llm import AnyLLM

from llmhub_runtime import load_config
from llmhub_runtime.models import MODES
from llmhub_runtime.providers import CAPABILITY_FLAGS, MODE_FLAGS, provider_capabilities, supports_mode

PROVIDERS = sorted(AnyLLM.get_supported_providers())


def _provider_class(kind: str) -> Any:
    try:
        return AnyLLM.get_provider_class(kind)
    except ImportError as exc:
        pytest.skip(f"any-llm's {kind!r} provider class cannot be imported here: {exc}")


@pytest.mark.parametrize("kind", PROVIDERS)
def test_flags_equal_the_real_provider_class(kind: str) -> None:
    real = {flag: getattr(_provider_class(kind), flag) for flag in CAPABILITY_FLAGS}
    read = dict(provider_capabilities(kind))
    assert read == real
    assert all(type(value) is bool for value in read.values())  # exact: never "unknown" for a real provider


def test_every_mode_has_a_flag() -> None:
    assert set(MODE_FLAGS) == set(MODES)
    assert set(CAPABILITY_FLAGS) == {
        "SUPPORTS_COMPLETION",
        "SUPPORTS_EMBEDDING",
        "SUPPORTS_IMAGE_GENERATION",
        "SUPPORTS_AUDIO_SPEECH",
        "SUPPORTS_AUDIO_TRANSCRIPTION",
        "SUPPORTS_RERANK",
        "SUPPORTS_MODERATION",
        "SUPPORTS_RESPONSES",
    }


def test_supports_mode_reads_the_mode_flag() -> None:
    assert supports_mode("openai", "image") is True
    assert supports_mode("anthropic", "embedding") is False
    assert supports_mode("anthropic", "tool") is True  # tool roles are chat completions
    assert supports_mode("vllm", "moderation") is True  # a registry row: row kwarg over the dataclass default
    assert supports_mode("vllm", "speech") is False  # not in the row's attrs: from BaseOpenAIProvider / AnyLLM
    assert supports_mode("together", "rerank") is True
    assert supports_mode("no-such-provider", "chat") is None


def test_reading_imports_nothing_and_parses_only_the_kinds_in_use() -> None:
    code = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from llmhub_runtime import ConfigValidationError, config_from_dict, providers

        parsed = []
        original = providers._parse
        providers._parse = lambda path: parsed.append(path) or original(path)
        roles = {
            "e": {"provider": "anthropic", "model": "m", "mode": "embedding"},
            "i": {"provider": "openai", "model": "m", "mode": "image"},
        }
        try:
            config_from_dict({"roles": roles})
        except ConfigValidationError as exc:
            print([p.key_path for p in exc.problems])
        print(sorted(m for m in sys.modules if m.split(".")[0] in {"any_llm", "openai", "anthropic", "httpx"}))
        root = providers._root()
        print(sorted(str(Path(p).relative_to(root)) for p in parsed))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    problems, modules, parsed = out.stdout.strip().splitlines()
    assert problems == "['roles.e.mode']"
    assert modules == "[]"
    files = eval(parsed)  # noqa: S307 - our own subprocess's repr of a list of strings
    assert "any_llm.py" in files and "providers/registry.py" in files
    folders = {Path(f).parts[1] for f in files if f.startswith("providers/") and len(Path(f).parts) > 2}
    assert folders == {"anthropic", "openai"}
    assert len(files) == len(set(files))  # each file parsed once


def _big_config(roles: int) -> str:
    lines = [
        "providers:",
        "  oai: {kind: openai, env_key: null}",
        "  claude: {kind: anthropic, env_key: null}",
        "  tog: {kind: together, env_key: null}",
        "roles:",
    ]
    plans = [
        ("oai", "chat"), ("claude", "chat"), ("oai", "embedding"), ("oai", "image"), ("oai", "speech"),
        ("oai", "transcription"), ("oai", "moderation"), ("oai", "responses"), ("tog", "rerank"), ("claude", "tool"),
    ]  # fmt: skip
    for i in range(roles):
        provider, mode = plans[i % len(plans)]
        lines += [f"  role{i:03d}:", f"    provider: {provider}", f"    model: model-{i}", f"    mode: {mode}"]
        if mode == "tool":
            lines += [
                "    tools:",
                "      - function: {name: lookup, parameters: {type: object}}",
                "    tool_choice: auto",
            ]
        if i % 7 == 0 and mode in ("chat", "embedding"):
            lines += ["    fallbacks:", f"      - {{provider: oai, model: backup-{i}}}"]
    return "\n".join(lines) + "\n"


def test_a_200_role_config_loads_fast_and_parses_nothing_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from llmhub_runtime import providers

    path = tmp_path / "llmhub.yaml"
    path.write_text(_big_config(200), encoding="utf-8")
    assert len(load_config(path).roles) == 200  # warms the capability caches

    parsed: list[Path] = []
    original = providers._parse
    monkeypatch.setattr(providers, "_parse", lambda p: parsed.append(p) or original(p))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        load_config(path)
        times.append(time.perf_counter() - start)

    assert parsed == []  # capabilities are dict lookups once a kind is read
    assert min(times) < 0.1, f"best of 5 loads took {min(times) * 1000:.1f} ms (benchmark target: 50 ms)"
