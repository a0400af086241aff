"""The provider ids any-llm knows, read without importing any-llm.

Importing ``any_llm`` pulls in the openai and anthropic SDKs (about two seconds), so config
validation reads the ids from any-llm's installed source instead: the provider folders, the
``LLMProvider`` enum and the config-only registry rows. ``tests/test_providers.py`` pins this
list to ``AnyLLM.get_supported_providers()`` so a new any-llm layout cannot drift unnoticed.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

__all__ = ["KEYLESS_KINDS", "default_env_key", "known_provider_ids"]

KEYLESS_KINDS = frozenset({"llamacpp", "llamafile", "lmstudio", "ollama", "vllm"})
"""Local servers that need no API key unless ``env_key`` names one."""


@functools.cache
def known_provider_ids() -> frozenset[str]:
    """Every provider id any-llm accepts in ``AnyLLM.create``."""
    spec = importlib.util.find_spec("any_llm")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    root = Path(next(iter(spec.submodule_search_locations)))
    ids = {p.name for p in (root / "providers").iterdir() if (p / "__init__.py").is_file()}
    ids |= _enum_values(root / "constants.py", "LLMProvider")
    ids |= _registry_keys(root / "providers" / "registry.py")
    if not ids:  # an any-llm layout this reader does not know: ask any-llm itself
        from any_llm import AnyLLM

        ids = set(AnyLLM.get_supported_providers())
    return frozenset(ids)


def default_env_key(kind: str) -> str | None:
    """The environment variable a provider's key is read from when ``env_key`` is omitted."""
    if kind in KEYLESS_KINDS:
        return None
    return f"{kind.upper()}_API_KEY"


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None


def _enum_values(path: Path, class_name: str) -> set[str]:
    tree = _parse(path)
    values: set[str] = set()
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if (
                    isinstance(item, ast.Assign)
                    and isinstance(item.value, ast.Constant)
                    and isinstance(item.value.value, str)
                    and all(isinstance(t, ast.Name) and t.id.isupper() for t in item.targets)
                ):
                    values.add(item.value.value)
    return values


def _registry_keys(path: Path) -> set[str]:
    """String keys of module-level dicts whose values construct a provider config row."""
    tree = _parse(path)
    keys: set[str] = set()
    for node in tree.body if tree else ():
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(item, ast.Call):
                    keys.add(key.value)
    return keys
