"""Is the SDK behind an any-llm provider installed, and which any-llm extra installs it?

Read without importing any-llm (which costs seconds), from two sources:

- any-llm's package metadata: the extra named after the provider (``any-llm-sdk[gemini]``) and
  the distributions it requires (``google-genai``, ...), each looked up with
  ``importlib.metadata``;
- any-llm's provider source: the modules imported inside the ``try:`` whose ``except
  ImportError`` sets ``MISSING_PACKAGES_ERROR`` (any-llm's own convention), each looked up
  with ``importlib.util.find_spec``.

A provider whose extra requires nothing (the OpenAI-compatible ones) never misses anything.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MissingSDK", "missing_sdk"]

_DIST = "any-llm-sdk"
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class MissingSDK:
    """What a provider kind lacks, and the command that installs it."""

    kind: str
    packages: tuple[str, ...]
    """Distributions (or, when the metadata names none, modules) that are not installed."""
    extra: str | None
    """The any-llm extra that installs them (``None`` when any-llm has no extra for the kind)."""

    @property
    def install(self) -> str:
        if self.extra is not None:
            return f"pip install 'any-llm-sdk[{self.extra}]'"
        return "pip install " + " ".join(self.packages)

    def describe(self) -> str:
        """E.g. ``needs google-genai, google-cloud-storage, not installed here``."""
        return f"needs {', '.join(self.packages)}, not installed here"


@functools.cache
def _extras() -> dict[str, tuple[str, ...]]:
    """any-llm's extras and the distributions each requires (markers other than ``extra`` ignored)."""
    try:
        metadata = importlib.metadata.metadata(_DIST)
    except importlib.metadata.PackageNotFoundError:
        return {}
    extras: dict[str, list[str]] = {name: [] for name in metadata.get_all("Provides-Extra") or ()}
    for requirement in metadata.get_all("Requires-Dist") or ():
        requirement_text, _, marker = requirement.partition(";")
        found = _EXTRA_MARKER.search(marker)
        name = _NAME.match(requirement_text)
        if found and name and found.group(1) in extras:
            extras[found.group(1)].append(name.group(1))
    return {name: tuple(requirements) for name, requirements in extras.items()}


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@functools.cache
def _sdk_modules(kind: str) -> tuple[str, ...]:
    """Third-party modules the provider imports under its ``MISSING_PACKAGES_ERROR`` guard."""
    spec = importlib.util.find_spec("any_llm")
    if spec is None or not spec.submodule_search_locations:
        return ()
    folder = Path(next(iter(spec.submodule_search_locations))) / "providers" / kind
    modules: dict[str, None] = {}
    for path in sorted(folder.glob("*.py")) if folder.is_dir() else ():
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Try) and any(_sets_missing_error(handler) for handler in node.handlers):
                for statement in node.body:
                    for name in _imported(statement):
                        modules.setdefault(name, None)
    return tuple(modules)


def _sets_missing_error(handler: ast.ExceptHandler) -> bool:
    return any(
        isinstance(target, ast.Name) and target.id == "MISSING_PACKAGES_ERROR"
        for statement in handler.body
        if isinstance(statement, ast.Assign)
        for target in statement.targets
    )


def _imported(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.Import):
        names = [alias.name for alias in statement.names]
    elif isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module:
        names = [statement.module]
    else:
        return []
    return [name for name in names if name.split(".")[0] not in ("any_llm", "typing", "typing_extensions")]


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package is missing, or a broken module entry
        return False


def missing_sdk(kind: str) -> MissingSDK | None:
    """What is missing for any-llm provider ``kind`` to load, or ``None`` when nothing is."""
    extras = _extras()
    requirements = extras.get(kind, ())
    missing = [name for name in requirements if not _installed(name)]
    unimportable = [module for module in _sdk_modules(kind) if not _importable(module)]
    if not missing and not unimportable:
        return None
    return MissingSDK(kind, tuple(missing or unimportable), kind if kind in extras else None)
