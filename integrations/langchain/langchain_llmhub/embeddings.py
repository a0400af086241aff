"""``RoleEmbeddings``: LangChain embeddings that call an llmhub embedding role."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings
from llmhub_runtime.adapter_core import batches, embedding_vectors, fingerprint_digest
from pydantic import Field

from ._hub import RoleAdapter

__all__ = ["RoleEmbeddings"]


class RoleEmbeddings(RoleAdapter, Embeddings):
    """Embeddings from the llmhub role ``role`` (a ``mode: embedding`` role in llmhub.yaml).

    >>> from langchain_llmhub import RoleEmbeddings
    >>> embeddings = RoleEmbeddings("llm.embedding")          # nothing is read until the first call
    >>> embeddings.embed_query("hello")                       # doctest: +SKIP

    The hub is found as for ``RoleChatModel`` (``hub=``, ``config_path=``, ``$LLMHUB_CONFIG``,
    ``hooks=``). ``embed_documents`` sends at most ``chunk_size`` texts per request (1000, as
    langchain-openai's ``OpenAIEmbeddings``). Other keywords (e.g. ``dimensions=256``) go to
    ``model_kwargs`` and override the role's params on every call; ``None`` removes one.
    """

    chunk_size: int = Field(default=1000, gt=0, description="Most texts sent in one request.")

    @property
    def cache_namespace(self) -> str:
        """A namespace for ``CacheBackedEmbeddings``: the role and a digest of what it resolves to.

        ``CacheBackedEmbeddings.from_bytes_store(emb, store, namespace=emb.cache_namespace)`` keeps
        vectors per resolved role, so a model changed in llmhub.yaml never gets the old vectors.
        Reads the config (``ConfigError`` / ``UnknownRoleError`` if it cannot be resolved).
        """
        return f"llmhub:{self.role}:{fingerprint_digest(self._client.resolve(self.role), self.model_kwargs)}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order (``chunk_size`` texts per request)."""
        vectors: list[list[float]] = []
        for batch in batches(texts, self.chunk_size):
            response = self._client.embedding(self.role, batch, params_override=self.model_kwargs or None)
            vectors.extend(embedding_vectors(response, len(batch), role=self.role))
        return vectors

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async twin of ``embed_documents`` (native async, no thread)."""
        vectors: list[list[float]] = []
        for batch in batches(texts, self.chunk_size):
            response = await self._client.aembedding(self.role, batch, params_override=self.model_kwargs or None)
            vectors.extend(embedding_vectors(response, len(batch), role=self.role))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """The vector of one text."""
        return self.embed_documents([text])[0]

    async def aembed_query(self, text: str) -> list[float]:
        """Async twin of ``embed_query``."""
        return (await self.aembed_documents([text]))[0]
