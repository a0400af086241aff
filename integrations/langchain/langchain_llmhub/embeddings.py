"""``RoleEmbeddings``: LangChain embeddings that call an llmhub embedding role."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings
from llmhub_runtime import LLMHub
from llmhub_runtime.errors import ProviderServerError, UsageError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._hub import hub_for, move_extra_to, prepare_init

if TYPE_CHECKING:
    from any_llm.types.completion import CreateEmbeddingResponse

__all__ = ["RoleEmbeddings"]


class RoleEmbeddings(BaseModel, Embeddings):
    """Embeddings from the llmhub role ``role`` (a ``mode: embedding`` role in llmhub.yaml).

    >>> from langchain_llmhub import RoleEmbeddings
    >>> embeddings = RoleEmbeddings("llm.embedding")          # nothing is read until the first call
    >>> embeddings.embed_query("hello")                       # doctest: +SKIP

    The hub is found as for ``RoleChatModel`` (``hub=``, ``config_path=``, ``$LLMHUB_CONFIG``).
    ``embed_documents`` sends at most ``chunk_size`` texts per request. Other keywords (e.g.
    ``dimensions=256``) go to ``model_kwargs`` and override the role's params on every call.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True, protected_namespaces=())

    role: str = Field(description="The llmhub embedding role to call, e.g. 'llm.embedding'.")
    hub: LLMHub | None = Field(default=None, exclude=True, description="Hub to call; default: the shared one.")
    config_path: str | None = Field(default=None, description="llmhub.yaml to use; default: $LLMHUB_CONFIG.")
    chunk_size: int = Field(default=1000, gt=0, description="Most texts sent in one request.")
    model_kwargs: dict[str, Any] = Field(default_factory=dict, description="More params passed on every call.")

    def __init__(self, role: str | None = None, /, **kwargs: Any) -> None:
        """``RoleEmbeddings("llm.embedding")``: the role positional or as ``role=``."""
        if role is not None:
            if "role" in kwargs:
                raise UsageError("RoleEmbeddings got the role twice (positional and role=); pass it once.")
            kwargs["role"] = role
        super().__init__(**kwargs)

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        prepare_init(values, cls.__name__)
        return move_extra_to(values, cls.model_fields, "model_kwargs")

    @property
    def _client(self) -> LLMHub:
        return hub_for(self.hub, self.config_path)

    @property
    def _params(self) -> dict[str, Any] | None:
        params = {key: value for key, value in self.model_kwargs.items() if value is not None}
        return params or None

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order (``chunk_size`` texts per request)."""
        vectors: list[list[float]] = []
        for batch in _batches(texts, self.chunk_size):
            response = self._client.embedding(self.role, batch, params_override=self._params)
            vectors.extend(_vectors(response, len(batch)))
        return vectors

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async twin of ``embed_documents`` (native async, no thread)."""
        vectors: list[list[float]] = []
        for batch in _batches(texts, self.chunk_size):
            response = await self._client.aembedding(self.role, batch, params_override=self._params)
            vectors.extend(_vectors(response, len(batch)))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """The vector of one text."""
        return self.embed_documents([text])[0]

    async def aembed_query(self, text: str) -> list[float]:
        """Async twin of ``embed_query``."""
        return (await self.aembed_documents([text]))[0]


def _batches(texts: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(texts), size):
        yield list(texts[start : start + size])


def _vectors(response: CreateEmbeddingResponse, expected: int) -> list[list[float]]:
    """The response's vectors in input order; a count mismatch is the provider's failure."""
    data = sorted(response.data, key=lambda item: item.index)
    if len(data) != expected:
        raise ProviderServerError(
            f"the provider returned {len(data)} embeddings for {expected} inputs", model=response.model
        )
    return [[float(value) for value in item.embedding] for item in data]
