"""``RoleEmbedding``: a LlamaIndex ``BaseEmbedding`` over an llmhub embedding role.

Single texts and batches, sync and async, each go out as one ``hub.embedding`` /
``hub.aembedding`` call (LlamaIndex splits batches by ``embed_batch_size``, 100 by default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import Field
from llama_index.core.storage.kvstore.types import DEFAULT_COLLECTION, BaseKVStore

from llama_index.llms.llmhub._role import RoleComponent
from llmhub_runtime.adapter_core import HubLookup, embedding_vectors, fingerprint_digest

__all__ = ["DEFAULT_EMBED_BATCH_SIZE", "RoleEmbedding", "RoleScopedKVStore"]

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

    An ``embeddings_cache=`` store (keyed by the text alone in LlamaIndex) is seen through
    ``RoleScopedKVStore``: its entries are kept per resolved role, so vectors of a model changed
    in llmhub.yaml are never returned for the new one.
    """

    embed_batch_size: int = Field(
        default=DEFAULT_EMBED_BATCH_SIZE, gt=0, le=2048, description="Most texts sent in one request."
    )

    @classmethod
    def class_name(cls) -> str:
        return "llmhub_role_embedding"

    def _init_defaults(self, role: str) -> dict[str, Any]:
        return {"model_name": role}

    def _bound(self) -> None:
        store = self.embeddings_cache
        if isinstance(store, BaseKVStore) and not isinstance(store, RoleScopedKVStore):
            self.embeddings_cache = RoleScopedKVStore(
                store, partial(_cache_scope, self._lookup, self.role, self.params_override)
            )

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


def _cache_scope(lookup: HubLookup, role: str, params: Mapping[str, Any]) -> str:
    return fingerprint_digest(lookup().resolve(role), params)


class RoleScopedKVStore(BaseKVStore):
    """A KV store seen through one resolved role: every collection name gets the role's digest.

    ``RoleEmbedding`` wraps its ``embeddings_cache`` in one, so the cached vectors of a text are
    per model (and endpoint, params, env: ``adapter_core.fingerprint_digest``), not per text alone.
    The digest is computed at each access, so it follows the hub the role is resolved in.
    """

    def __init__(self, store: BaseKVStore, scope: Callable[[], str]) -> None:
        self.store = store
        self._scope = scope

    def _collection(self, collection: str) -> str:
        return f"{collection}/llmhub:{self._scope()}"

    def put(self, key: str, val: dict[str, Any], collection: str = DEFAULT_COLLECTION) -> None:
        self.store.put(key, val, collection=self._collection(collection))

    async def aput(self, key: str, val: dict[str, Any], collection: str = DEFAULT_COLLECTION) -> None:
        await self.store.aput(key, val, collection=self._collection(collection))

    def get(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict[str, Any] | None:
        return self.store.get(key, collection=self._collection(collection))

    async def aget(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict[str, Any] | None:
        return await self.store.aget(key, collection=self._collection(collection))

    def get_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict[str, Any]]:
        return self.store.get_all(collection=self._collection(collection))

    async def aget_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict[str, Any]]:
        return await self.store.aget_all(collection=self._collection(collection))

    def delete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        return self.store.delete(key, collection=self._collection(collection))

    async def adelete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        return await self.store.adelete(key, collection=self._collection(collection))

    def __repr__(self) -> str:
        return f"RoleScopedKVStore({self.store!r})"
