"""LlamaIndex embedding model that calls models by llmhub role: ``RoleEmbedding("llm.embedding")``."""

from llama_index.embeddings.llmhub.base import RoleEmbedding

__all__ = ["RoleEmbedding"]
