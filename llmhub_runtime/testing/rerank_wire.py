"""Rerank wire format (`POST /v1/rerank`), as Together AI serves it (any-llm's `together` provider).

A document's relevance is the share of the query's distinct words (lower-cased letters and
digits) it contains, rounded to 4 places; results are sorted by relevance, ties by position,
and cut to `top_n`. `return_documents` echoes each document's text. Usage counts the words of
the query and of every document as prompt tokens.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from llmhub_runtime.testing.conversation import count_tokens
from llmhub_runtime.testing.replies import Reply

__all__ = ["relevance", "rerank_response"]

_WORDS = re.compile(r"[a-z0-9]+")


def relevance(query: str, document: str) -> float:
    """Share of the query's distinct words found in the document (0.0 to 1.0)."""
    wanted = set(_WORDS.findall(query.lower()))
    if not wanted:
        return 0.0
    return round(len(wanted & set(_WORDS.findall(document.lower()))) / len(wanted), 4)


def _document_text(document: Any) -> str:
    if isinstance(document, str):
        return document
    if isinstance(document, Mapping):
        return " ".join(str(value) for value in document.values())
    return str(document)


def rerank_response(body: Mapping[str, Any], reply: Reply | None, *, response_id: str) -> dict[str, Any]:
    """The rerank answer for a request body."""
    query = str(body.get("query", ""))
    raw = body.get("documents")
    documents = [_document_text(d) for d in raw] if isinstance(raw, Sequence) and not isinstance(raw, str) else []
    if reply is not None and reply.scores is not None:
        scores = [float(score) for score in reply.scores][: len(documents)]
        scores += [0.0] * (len(documents) - len(scores))
    else:
        scores = [relevance(query, document) for document in documents]
    order = sorted(range(len(documents)), key=lambda index: (-scores[index], index))
    top_n = body.get("top_n")
    if isinstance(top_n, int) and top_n > 0:
        order = order[:top_n]
    echo = bool(body.get("return_documents"))
    results = [
        {"index": index, "relevance_score": scores[index], "document": {"text": documents[index] if echo else None}}
        for index in order
    ]
    if reply is not None and reply.usage is not None:
        prompt_tokens, completion_tokens = reply.usage
    else:
        prompt_tokens, completion_tokens = count_tokens(query) + sum(count_tokens(d) for d in documents), 0
    return {
        "object": "rerank",
        "id": response_id,
        "model": (reply.model if reply is not None else None) or str(body.get("model", "")),
        "results": results,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
