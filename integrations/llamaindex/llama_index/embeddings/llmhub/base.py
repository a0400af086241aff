"""``RoleEmbedding``: a LlamaIndex ``BaseEmbedding`` over an llmhub embedding role.

Single texts and batches, sync and async, each go out as one ``hub.embedding`` /
``hub.aembedding`` call (LlamaIndex splits batches by ``embed_batch_size``, 100 by default).
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import Field

from llama_index.llms.llmhub._role import RoleComponent
from llmhub_runtime.adapter_core import embedding_vectors

__all__ = ["DEFAULT_EMBED_BATCH_SIZE", "RoleEmbedding"]

DEFAULT_EMBED_BATCH_SIZE = 100
"""Texts per request unless ``embed_batch_size=`` says otherwise (as ``OpenAIEmbedding``; LlamaIndex's is 10)."""


class RoleEmbedding(RoleComponent, BaseEmbedding):
    """A LlamaIndex embedding model for an llmhub role (``mode: embedding`` in ``llmhub.yaml``).

    >>> from llama_index.core import Settings
    >>> Settings.embed_model = RoleEmbedding("llm.embedding")     # doctest: +SKIP

    Construction reads nothing; the config is loaded on the first call. The hub is found as for
    ``RoleLLM`` (``hub=``, ``config_path=``, ``$LLMHUB_CONFIG``, ``hooks=``). ``embed_batch_size``
    texts go in one request (default 100; at most 2048). Extra keyword arguments (``dimensions=``,
    ...) are params that win over the role's own; a ``None`` removes one. ``model_name`` is the
    role name (the role decides the model). Errors from the hub surface unchanged (``LLMHubError``
    subclasses).
    """

    embed_batch_size: int = Field(
        default=DEFAULT_EMBED_BATCH_SIZE, gt=0, le=2048, description="Most texts sent in one request."
    )

    @classmethod
    def class_name(cls) -> str:
        return "llmhub_role_embedding"

    def _init_defaults(self, role: str) -> dict[str, Any]:
        return {"model_name": role}

    # --- the only I/O -------------------------------------------------------------------------

    def _embed(self, texts: list[str]) -> list[Embedding]:
        if not texts:
            return []
        response = self.hub.embedding(self.role, texts, params_override=self.params_override or None)
        return embedding_vectors(response, len(texts), role=self.role)

    async def _aembed(self, texts: list[str]) -> list[Embedding]:
        if not texts:
            return []
        response = await self.hub.aembedding(self.role, texts, params_override=self.params_override or None)
        return embedding_vectors(response, len(texts), role=self.role)

    # --- BaseEmbedding ------------------------------------------------------------------------

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._embed([query])[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._aembed([query]))[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._embed([text])[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._aembed([text]))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._embed(texts)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await self._aembed(texts)
