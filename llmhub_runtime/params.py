"""The call params any-llm accepts for each role mode, read from its source without importing it.

A mode's names are the keyword parameters of the ``AnyLLM`` method that serves it
(``acompletion`` for chat and tool roles, ``aimage_generation`` for image roles, ...), less the
arguments the hub fills from the call itself (``messages``, ``prompt``, ...). A mode whose
method takes only ``**kwargs`` (embedding, rerank, moderation: every param is
provider-specific) is not checked: ``accepted_params`` returns ``None`` for it, as it does when
the source cannot be read. ``tests/test_params.py`` pins the names to the real signatures.

Provider-specific extras are declared on the provider entry (``extra_params: [top_k]``);
``extra_headers``, ``extra_body`` and ``extra_query`` (the SDKs' own escape hatches) always pass.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

__all__ = ["CALL_ARGUMENTS", "MODE_METHOD_NAMES", "SDK_PASSTHROUGH", "accepted_params"]

MODE_METHOD_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "chat": "acompletion",
        "tool": "acompletion",
        "embedding": "aembedding",
        "image": "aimage_generation",
        "speech": "aspeech",
        "transcription": "atranscription",
        "rerank": "arerank",
        "moderation": "amoderation",
        "responses": "aresponses",
        "audio": "acompletion",  # llmhub-runtime 1.x's modes, served by completion()
        "other": "acompletion",
    }
)
"""The ``AnyLLM`` method behind each mode."""

CALL_ARGUMENTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "acompletion": frozenset({"messages"}),
        "aembedding": frozenset({"inputs"}),
        "aimage_generation": frozenset({"prompt"}),
        "aspeech": frozenset({"input"}),
        "atranscription": frozenset({"file"}),
        "arerank": frozenset({"query", "documents"}),
        "amoderation": frozenset({"input"}),
        "aresponses": frozenset({"input_data", "input"}),
    }
)
"""Arguments the hub passes from the call itself; never params."""

SDK_PASSTHROUGH = frozenset({"extra_headers", "extra_body", "extra_query"})
"""The OpenAI-style SDKs' escape hatches, which any-llm forwards through ``**kwargs`` to the client."""

_NOT_PARAMS = frozenset({"self", "model", "stream", "timeout", "session_label"})
"""Set by the hub (``stream=``, the role's ``timeout:``) or dead in any-llm."""


@functools.cache
def accepted_params(mode: str) -> frozenset[str] | None:
    """Param names a role of ``mode`` may set; ``None`` when any name goes (or it cannot be told)."""
    method = MODE_METHOD_NAMES.get(mode)
    if method is None:
        return None
    names = _method_keywords(method)
    if names is None:
        return None
    names -= CALL_ARGUMENTS.get(method, frozenset()) | _NOT_PARAMS
    return frozenset(names | SDK_PASSTHROUGH) if names else None


@functools.cache
def _method_keywords(method: str) -> frozenset[str] | None:
    """Named parameters of the last ``AnyLLM.<method>`` definition (the implementation, not overloads)."""
    spec = importlib.util.find_spec("any_llm")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "any_llm.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    found: ast.AsyncFunctionDef | None = None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "AnyLLM":
            for item in node.body:
                if isinstance(item, ast.AsyncFunctionDef) and item.name == method:
                    found = item
    if found is None:
        return None
    args = found.args
    return frozenset(arg.arg for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs])
