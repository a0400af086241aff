"""LangChain integration for llmhub: call LLMs by role from ``llmhub.yaml``.

>>> from langchain_core.output_parsers import StrOutputParser
>>> from langchain_core.prompts import ChatPromptTemplate
>>> from langchain_llmhub import RoleChatModel
>>> prompt = ChatPromptTemplate.from_messages([("human", "Summarize: {text}")])
>>> chain = prompt | RoleChatModel("llm.inference") | StrOutputParser()
>>> chain.invoke({"text": "..."})  # doctest: +SKIP
"""

from __future__ import annotations

from langchain_llmhub.chat_models import RoleChatModel
from langchain_llmhub.embeddings import RoleEmbeddings

__version__ = "0.1.0"

__all__ = ["RoleChatModel", "RoleEmbeddings", "__version__"]
