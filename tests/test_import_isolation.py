"""``import llmhub_runtime`` must not import any provider SDK (they cost seconds)."""

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
