"""The public API is exactly what ``__all__`` says, sorted (like httpx's test of the same name)."""

import llmhub_runtime
from llmhub_runtime.hub import LLMHub


def test_all_is_sorted_and_complete() -> None:
    exported = llmhub_runtime.__all__
    assert exported == sorted(exported)
    public = {name for name in dir(llmhub_runtime) if not name.startswith("_")}
    modules = {"clients", "config_loader", "errors", "errors_map", "hooks", "hub", "inputs", "models",
               "providers", "resolver", "retry", "streams", "testing", "local", "cli", "annotations", "envs", "usage", "otel", "schema"}
    assert public - modules == set(exported) - {"__version__"}


def test_hub_importable_from_both_places() -> None:
    assert llmhub_runtime.LLMHub is LLMHub
