"""The public surface, pinned."""

from __future__ import annotations

import langchain_llmhub

EXPECTED_ALL = ["RoleChatModel", "RoleEmbeddings", "__version__"]


def test_all_imports() -> None:
    assert sorted(langchain_llmhub.__all__) == EXPECTED_ALL
    for name in langchain_llmhub.__all__:
        assert getattr(langchain_llmhub, name) is not None


def test_all_is_sorted() -> None:
    assert langchain_llmhub.__all__ == sorted(langchain_llmhub.__all__)
