"""LlamaIndex LLM that calls models by llmhub role: ``RoleLLM("llm.inference")``."""

from llama_index.llms.llmhub.base import RoleLLM

__all__ = ["RoleLLM"]
