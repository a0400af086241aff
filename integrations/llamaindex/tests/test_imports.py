"""The public surface is pinned, and the packages are namespace portions beside llama-index-core's."""

from __future__ import annotations

import importlib
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "llama_index"


def test_llms_all() -> None:
    from llama_index.llms import llmhub

    assert llmhub.__all__ == ["RoleLLM"]
    assert llmhub.RoleLLM.__module__ == "llama_index.llms.llmhub.base"


def test_embeddings_all() -> None:
    from llama_index.embeddings import llmhub

    assert llmhub.__all__ == ["RoleEmbedding"]
    assert llmhub.RoleEmbedding.__module__ == "llama_index.embeddings.llmhub.base"


def test_namespace_packages_merge_with_other_distributions() -> None:
    for name in ("llama_index", "llama_index.llms", "llama_index.embeddings"):
        assert not (PACKAGE_ROOT.parent / name.replace(".", "/") / "__init__.py").exists(), name
        module = importlib.import_module(name)
        assert module.__file__ is None, f"{name} must stay a namespace package"
    # Portions from llama-index-core and llama-index-llms-openai import alongside ours.
    importlib.import_module("llama_index.core")
    importlib.import_module("llama_index.llms.openai")
    importlib.import_module("llama_index.embeddings.openai")
    import llama_index.llms

    assert any(Path(p).resolve() == PACKAGE_ROOT / "llms" for p in llama_index.llms.__path__)
    assert len(list(llama_index.llms.__path__)) >= 2


def test_typed_markers() -> None:
    assert (PACKAGE_ROOT / "llms" / "llmhub" / "py.typed").exists()
    assert (PACKAGE_ROOT / "embeddings" / "llmhub" / "py.typed").exists()
