"""``RoleEmbedding``: a LlamaIndex ``BaseEmbedding`` over an llmhub embedding role.

Single texts and batches, sync and async, each go out as one ``hub.embedding`` /
``hub.aembedding`` call (LlamaIndex splits batches by ``embed_batch_size``).
"""

from __future__ import annotations

import os
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import Field, PrivateAttr

from llama_index.llms.llmhub.utils import reject_credentials
from llmhub_runtime import LLMHub
from llmhub_runtime.errors import ProviderServerError, UsageError

__all__ = ["RoleEmbedding"]


class RoleEmbedding(BaseEmbedding):
    """A LlamaIndex embedding model for an llmhub role (``mode: embedding`` in ``llmhub.yaml``).

    >>> from llama_index.core import Settings
    >>> Settings.embed_model = RoleEmbedding("llm.embedding")     # doctest: +SKIP

    Construction reads nothing; the config is loaded on the first call. Without ``hub=``, the
    process-wide ``LLMHub.shared(config_path)`` is used. Extra keyword arguments (``dimensions=``,
    ...) are params that win over the role's own. ``model_name`` defaults to the role name.
    Errors from the hub surface unchanged (``LLMHubError`` subclasses).
    """

    role: str = Field(description="The llmhub embedding role to call, e.g. 'llm.embedding'.")
    config_path: str | None = Field(
        default=None, description="Path of llmhub.yaml; None: $LLMHUB_CONFIG, else ./llmhub.yaml."
    )
    params_override: dict[str, Any] = Field(
        default_factory=dict, description="Params that win over the role's own (None removes one)."
    )

    _hub: LLMHub | None = PrivateAttr(default=None)

    def __init__(
        self,
        role: str,
        *,
        hub: LLMHub | None = None,
        config_path: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> None:
        if hub is not None and config_path is not None:
            raise UsageError("Pass either hub= or config_path= to RoleEmbedding, not both.")
        fields = {name: overrides.pop(name) for name in list(overrides) if name in type(self).model_fields}
        params = {**(fields.pop("params_override", None) or {}), **overrides}
        reject_credentials(params, "RoleEmbedding")
        fields.setdefault("model_name", role)
        super().__init__(
            role=role,
            config_path=os.fspath(config_path) if config_path is not None else None,
            params_override=params,
            **fields,
        )
        self._hub = hub

    @classmethod
    def class_name(cls) -> str:
        return "llmhub_role_embedding"

    @property
    def hub(self) -> LLMHub:
        """The hub this model calls (the shared hub for ``config_path`` unless one was given)."""
        return self._hub if self._hub is not None else LLMHub.shared(self.config_path)

    # --- the only I/O -------------------------------------------------------------------------

    def _embed(self, texts: list[str]) -> list[Embedding]:
        if not texts:
            return []
        response = self.hub.embedding(self.role, texts, params_override=self.params_override or None)
        return _vectors(self.role, response, len(texts))

    async def _aembed(self, texts: list[str]) -> list[Embedding]:
        if not texts:
            return []
        response = await self.hub.aembedding(self.role, texts, params_override=self.params_override or None)
        return _vectors(self.role, response, len(texts))

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


def _vectors(role: str, response: Any, expected: int) -> list[Embedding]:
    """The vectors of an embeddings response, in input order; one per input or an error."""
    items = sorted(response.data, key=lambda item: item.index)
    if len(items) != expected:
        raise ProviderServerError(
            f"the provider returned {len(items)} embedding(s) for {expected} input(s); "
            "the vectors cannot be matched to the texts.",
            role=role,
            model=getattr(response, "model", None),
        )
    return [[float(value) for value in item.embedding] for item in items]
