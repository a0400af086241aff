"""Callbacks and token counting see every LLM call exactly once, with the provider's usage."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.callbacks import CallbackManager, CBEventType, TokenCountingHandler
from llama_index.core.callbacks.base_handler import BaseCallbackHandler

from llama_index.embeddings.llmhub import RoleEmbedding
from llama_index.llms.llmhub import RoleLLM
from llmhub_runtime.testing import Reply, StandInServer


class EventLog(BaseCallbackHandler):
    """Records (start|end, event type) pairs."""

    def __init__(self) -> None:
        super().__init__(event_starts_to_ignore=[], event_ends_to_ignore=[])
        self.events: list[tuple[str, CBEventType, dict[str, Any] | None]] = []

    def on_event_start(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        parent_id: str = "",
        **kwargs: Any,
    ) -> str:
        self.events.append(("start", event_type, payload))
        return event_id

    def on_event_end(
        self, event_type: CBEventType, payload: dict[str, Any] | None = None, event_id: str = "", **kwargs: Any
    ) -> None:
        self.events.append(("end", event_type, payload))

    def start_trace(self, trace_id: str | None = None) -> None:
        pass

    def end_trace(self, trace_id: str | None = None, trace_map: dict[str, list[str]] | None = None) -> None:
        pass

    def llm(self) -> list[tuple[str, dict[str, Any] | None]]:
        return [(kind, payload) for kind, event_type, payload in self.events if event_type == CBEventType.LLM]


MESSAGES = [ChatMessage(role="user", content="hello")]


async def _every_call_form(llm: RoleLLM) -> None:
    """Eight calls: chat, complete, their streams, and the async twins of all four."""
    llm.chat(MESSAGES)
    llm.complete("hello")
    list(llm.stream_chat(MESSAGES))
    list(llm.stream_complete("hello"))
    await llm.achat(MESSAGES)
    await llm.acomplete("hello")
    [r async for r in await llm.astream_chat(MESSAGES)]
    [r async for r in await llm.astream_complete("hello")]


async def test_token_counting_uses_provider_usage(config_path: str, server: StandInServer) -> None:
    server.enqueue("standin-chat", *[Reply(chunks=["a ", "b ", "c"], usage=(11, 3)) for _ in range(8)])
    counter = TokenCountingHandler()
    llm = RoleLLM("llm.inference", config_path=config_path, callback_manager=CallbackManager([counter]))
    await _every_call_form(llm)
    assert len(server.requests) == 8
    assert len(counter.llm_token_counts) == 8
    assert [(e.prompt_token_count, e.completion_token_count) for e in counter.llm_token_counts] == [(11, 3)] * 8
    assert (counter.prompt_llm_token_count, counter.completion_llm_token_count) == (88, 24)


async def test_each_call_is_one_llm_event(config_path: str) -> None:
    log = EventLog()
    llm = RoleLLM("llm.inference", config_path=config_path, callback_manager=CallbackManager([log]))
    await _every_call_form(llm)
    kinds = [kind for kind, _ in log.llm()]
    assert kinds == ["start", "end"] * 8
    start_payload = log.llm()[0][1]
    assert start_payload is not None
    serialized = next(v for k, v in start_payload.items() if k.value == "serialized")
    assert serialized["role"] == "llm.inference"
    assert serialized["model_name"] == "standin-chat"


def test_failed_call_ends_its_event(config_path: str, server: StandInServer) -> None:
    from llmhub_runtime import RateLimitError
    from llmhub_runtime.testing import Fault

    server.enqueue("standin-chat", Fault(status=429))
    log = EventLog()
    llm = RoleLLM("llm.inference", config_path=config_path, callback_manager=CallbackManager([log]))
    with pytest.raises(RateLimitError):
        llm.chat(MESSAGES)
    (start, _), (end, payload) = log.llm()
    assert (start, end) == ("start", "end")
    assert payload is not None
    assert any(isinstance(value, RateLimitError) for value in payload.values())


def test_query_engine_counts(settings: Any, config_path: str, server: StandInServer) -> None:
    """LlamaIndex's documented wiring: the handler on ``Settings.callback_manager``."""
    counter = TokenCountingHandler()
    settings.callback_manager = CallbackManager([counter])
    settings.embed_model = RoleEmbedding("llm.embedding", config_path=config_path)
    settings.llm = RoleLLM("llm.inference", config_path=config_path)
    index = VectorStoreIndex.from_documents([Document(text="one fact"), Document(text="two facts")])
    server.enqueue("standin-chat", Reply(text="an answer", usage=(40, 2)))
    assert str(index.as_query_engine().query("one fact")) == "an answer"
    assert len(counter.llm_token_counts) == 1
    assert (counter.prompt_llm_token_count, counter.completion_llm_token_count) == (40, 2)
    assert len(counter.embedding_token_counts) == 3  # two documents, one query
