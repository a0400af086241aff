"""``import llmhub_runtime`` must not import any provider SDK (they cost seconds).

``from llmhub_runtime import LLMHub`` (what applications write) loads neither an SDK nor pydantic:
the config models load when the first hub is built.
The time it takes is measured by ``benchmarks/run.py`` (cold start), never here.
"""

import json
import subprocess
import sys


def test_import_leaves_provider_sdks_out() -> None:
    code = (
        "import sys, llmhub_runtime, llmhub_runtime.hub;"
        "from llmhub_runtime import LLMHub;"
        "hub = LLMHub(config={'providers': {'p': {'kind': 'openai', 'env_key': None}},"
        " 'roles': {'r': {'provider': 'p', 'model': 'm'}}});"
        "hub.resolve('r');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'openai', 'anthropic', 'any_llm', 'httpx'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _loaded_after(code: str) -> list[str]:
    watched = "{'pydantic', 'pydantic_core', 'yaml', 'any_llm', 'openai', 'anthropic', 'httpx', 'aiohttp'}"
    probe = f"import json, sys; {code}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {watched})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def test_from_llmhub_runtime_import_llmhub_loads_no_sdk_nor_pydantic() -> None:
    assert _loaded_after("from llmhub_runtime import LLMHub") == []


def test_pydantic_loads_when_the_first_hub_is_built_and_no_sdk_before_a_call() -> None:
    code = (
        "from llmhub_runtime import LLMHub;"
        "LLMHub(config={'providers': {'p': {'kind': 'openai', 'env_key': None}}, 'roles': {'r': {'provider': 'p', 'model': 'm'}}})"
    )
    loaded = _loaded_after(code)
    assert "pydantic" in loaded
    assert not {"any_llm", "openai", "anthropic", "httpx", "aiohttp"} & set(loaded)
