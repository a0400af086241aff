"""The public API is exactly what ``__all__`` says, sorted (like httpx's test of the same name)."""

import types

import llmhub_runtime
from llmhub_runtime.hub import LLMHub


def test_all_is_sorted_and_complete() -> None:
    exported = llmhub_runtime.__all__
    assert exported == sorted(exported)
    public = {name for name in dir(llmhub_runtime) if not name.startswith("_")}
    modules = {name for name in public if isinstance(getattr(llmhub_runtime, name), types.ModuleType)}
    modules.add("annotations")  # from __future__ import annotations
    assert public - modules == set(exported) - {"__version__"}


def test_published_1x_names_are_exported() -> None:
    """llmhub-runtime 1.0.x's ``__all__`` and its other public names (docs/migration.md) stay importable."""
    from llmhub_runtime import EnvVarMissingError, LLMHub, RuntimeConfig  # 1.0.x's whole __all__

    assert {"LLMHub", "RuntimeConfig", "EnvVarMissingError"} <= set(llmhub_runtime.__all__)
    assert {"LLMHubRuntimeError", "UnknownProviderError", "LLMMode", "RoleDefaultsConfig"} <= set(
        llmhub_runtime.__all__
    )
    assert EnvVarMissingError is llmhub_runtime.MissingCredentialError
    assert (LLMHub, RuntimeConfig) == (llmhub_runtime.LLMHub, llmhub_runtime.RuntimeConfig)


def test_hub_importable_from_both_places() -> None:
    assert llmhub_runtime.LLMHub is LLMHub


def test_import_is_lazy_and_names_resolve() -> None:
    import subprocess
    import sys

    code = (
        "import sys, llmhub_runtime;"
        "print(sorted(m for m in ('pydantic', 'yaml', 'llmhub_runtime.hub') if m in sys.modules));"
        "from llmhub_runtime import LLMHub, RuntimeConfig;"
        "print(LLMHub.__module__, RuntimeConfig.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "llmhub_runtime.hub llmhub_runtime.models"
    for name in llmhub_runtime.__all__:
        assert getattr(llmhub_runtime, name) is not None
