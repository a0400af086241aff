"""What each endpoint answers: request body + (scripted reply | fault) → an `Outgoing` response.

Pure functions of their inputs plus an `Ids` counter; `server` does the HTTP and the queueing.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmhub_runtime.testing import anthropic_wire, brain, media_wire, openai_wire, rerank_wire, responses_wire
from llmhub_runtime.testing.conversation import Answer, Conversation, count_tokens, dump_json, shape_answer
from llmhub_runtime.testing.embeddings import DEFAULT_DIMENSIONS, embed, to_float32
from llmhub_runtime.testing.replies import Api, Fault, Reply

FileStore = Callable[[str, bytes], str]
"""Stores a generated file under a name and returns the URL it is served at."""

__all__ = ["Endpoint", "Ids", "Outgoing", "endpoint_for"]


@dataclass(frozen=True)
class Outgoing:
    """One HTTP response: a JSON body, a list of SSE events, or raw bytes (of `content_type`)."""

    status: int = 200
    json: Any = None
    events: tuple[bytes, ...] | None = None
    raw: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def body_bytes(self) -> bytes:
        """The body of a non-streaming response."""
        if self.raw is not None:
            return self.raw
        return dump_json(self.json).encode("utf-8")


class Ids:
    """Per-server counters for response and tool-call ids (deterministic within one server)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def new(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter)}"


class Endpoint:
    """Base for the model endpoints."""

    api: Api

    def __init__(
        self, ids: Ids, *, embedding_dimensions: int = DEFAULT_DIMENSIONS, store_file: FileStore | None = None
    ) -> None:
        self.ids = ids
        self.embedding_dimensions = embedding_dimensions
        self.store_file = store_file

    def answer(self, body: Mapping[str, Any], reply: Reply | None) -> Outgoing:
        """The normal answer (`reply` None or without content: the default brain)."""
        raise NotImplementedError

    def error(self, body: Mapping[str, Any], fault: Fault) -> Outgoing:
        """The provider-shaped error for a fault with a status."""
        raise NotImplementedError

    def malformed(self, body: Mapping[str, Any]) -> Outgoing:
        """A 200 whose body (or first SSE event) is not valid JSON."""
        raise NotImplementedError

    def refusal(self, body: Mapping[str, Any]) -> Outgoing | None:
        """The 400 the real API gives a request it refuses, or None when the request is acceptable.

        Checked before the request takes a scripted reply or fault from its model's queue.
        """
        return None

    def auth_ok(self, headers: Mapping[str, str], api_key: str) -> bool:
        """Whether the request carries `api_key` (lower-cased header names)."""
        bearer = headers.get("authorization", "")
        return bearer == f"Bearer {api_key}" or headers.get("x-api-key") == api_key

    def _shape(
        self,
        conversation: Conversation,
        reply: Reply | None,
        stop: tuple[str, ...],
        max_tokens: int | None,
        call_prefix: str,
    ) -> Answer:
        if reply is not None and reply.has_content:
            chosen = reply
        else:
            base = brain.answer(conversation)
            chosen = base
            if reply is not None:
                chosen = Reply(
                    text=base.text,
                    tool_calls=base.tool_calls,
                    usage=reply.usage,
                    finish_reason=reply.finish_reason,
                    model=reply.model,
                )
        return shape_answer(
            conversation, chosen, stop=stop, max_tokens=max_tokens, new_call_id=lambda: self.ids.new(call_prefix)
        )


class OpenAIChat(Endpoint):
    api: Api = "openai-chat"

    def answer(self, body: Mapping[str, Any], reply: Reply | None) -> Outgoing:
        request = openai_wire.parse_chat(body)
        answer = self._shape(request.conversation, reply, request.stop, request.max_tokens, "call_standin_")
        completion_id = self.ids.new("chatcmpl-standin-")
        created = int(time.time())
        if request.stream:
            events = openai_wire.chat_stream_events(
                answer, completion_id=completion_id, created=created, include_usage=request.include_usage, n=request.n
            )
            return Outgoing(events=tuple(events))
        return Outgoing(
            json=openai_wire.chat_completion(answer, completion_id=completion_id, created=created, n=request.n)
        )

    def refusal(self, body: Mapping[str, Any]) -> Outgoing | None:
        try:
            openai_wire.parse_chat(body)
        except openai_wire.InvalidRequest as exc:
            return Outgoing(status=400, json=openai_wire.invalid_request_body(exc))
        return None

    def error(self, body: Mapping[str, Any], fault: Fault) -> Outgoing:
        request = openai_wire.parse_chat(body)
        tokens = sum(count_tokens(m.text) for m in request.conversation.messages)
        error = openai_wire.error_body(fault, model=request.conversation.model, prompt_tokens=tokens)
        return Outgoing(status=fault.status or 500, json=error)

    def malformed(self, body: Mapping[str, Any]) -> Outgoing:
        if body.get("stream"):
            return Outgoing(events=(openai_wire.MALFORMED_EVENT, openai_wire.DONE_EVENT))
        return Outgoing(raw=openai_wire.MALFORMED_BODY)


class OpenAIEmbeddings(Endpoint):
    api: Api = "openai-embeddings"

    def answer(self, body: Mapping[str, Any], reply: Reply | None) -> Outgoing:
        request = openai_wire.parse_embeddings(body)
        dimensions = request.dimensions or self.embedding_dimensions
        if reply is not None and reply.embedding is not None:
            vectors = [to_float32(reply.embedding) for _ in request.inputs]
        else:
            vectors = [embed(text, dimensions) for text in request.inputs]
        model = (reply.model if reply is not None else None) or request.model
        return Outgoing(json=openai_wire.embeddings_response(request, vectors, model=model))

    def error(self, body: Mapping[str, Any], fault: Fault) -> Outgoing:
        model = str(body.get("model", ""))
        return Outgoing(status=fault.status or 500, json=openai_wire.error_body(fault, model=model))

    def malformed(self, body: Mapping[str, Any]) -> Outgoing:
        return Outgoing(raw=b'{"object": "list", "data": [{"object": "embedding", "embedding": [0.1,')


class AnthropicMessages(Endpoint):
    api: Api = "anthropic-messages"

    def answer(self, body: Mapping[str, Any], reply: Reply | None) -> Outgoing:
        request = anthropic_wire.parse_messages(body)
        answer = self._shape(request.conversation, reply, request.stop, request.max_tokens, "toolu_standin_")
        message_id = self.ids.new("msg_standin_")
        if request.stream:
            return Outgoing(events=tuple(anthropic_wire.message_stream_events(answer, message_id=message_id)))
        return Outgoing(json=anthropic_wire.message(answer, message_id=message_id))

    def error(self, body: Mapping[str, Any], fault: Fault) -> Outgoing:
        request = anthropic_wire.parse_messages(body)
        tokens = sum(count_tokens(m.text) for m in request.conversation.messages)
        error = anthropic_wire.error_body(fault, model=request.conversation.model, prompt_tokens=tokens)
        return Outgoing(status=fault.status or 500, json=error)

    def malformed(self, body: Mapping[str, Any]) -> Outgoing:
        if body.get("stream"):
            return Outgoing(events=(anthropic_wire.MALFORMED_EVENT,))
        return Outgoing(raw=anthropic_wire.MALFORMED_BODY)


class _OpenAIJson(Endpoint):
    """An OpenAI endpoint answering one JSON object: OpenAI error bodies, truncated JSON when malformed."""

    def error(self, body: Mapping[str, Any], fault: Fault) -> Outgoing:
        model = str(body.get("model", ""))
        return Outgoing(status=fault.status or 500, json=openai_wire.error_body(fault, model=model))

    def malformed(self, body: Mapping[str, Any]) -> Outgoing:
        return Outgoing(raw=b'{"object": "list", "data": [{"index": 0,')


class OpenAIImages(_OpenAIJson):
    api: Api = "openai-images"

    def answer(self, body: Mapping[str, Any], reply: Reply | None) -> Outgoing:
        def url_for(name: str, data: bytes) -> str:
            if self.store_file is None:
                raise RuntimeError("this server cannot serve image URLs")
            return self.store_file(name, data)

        return Outgoing(json=media_wire.images_response(body, reply, created=int(time.time()), url_for=url_for))


class OpenAISpeech(_OpenAIJson):
    api: Api = "openai-speech"

    def answer(self, body: Mapping[str, Any], reply: Reply | None) -> Outgoing:
        audio, content_type = media_wire.speech_audio(body, reply)
        return Outgoing(raw=audio, content_type=content_type)

    def malformed(self, body: Mapping[str, Any]) -> Outgoing:
        return Outgoing(raw=b"RIFF\x24\x00", content_type="audio/wav")  # a truncated WAV header


class OpenAITranscriptions(_OpenAIJson):
    api: Api = "openai-transcriptions"

    def answer(self, body: Mapping[str, Any], reply: Reply | None) -> Outgoing:
        content, content_type = media_wire.transcription_response(body, reply)
        if isinstance(content, str):
            return Outgoing(raw=content.encode("utf-8"), content_type=content_type)
        return Outgoing(json=content)


class OpenAIModerations(_OpenAIJson):
    api: Api = "openai-moderations"

    def answer(self, body: Mapping[str, Any], reply: Reply | None) -> Outgoing:
        response_id = self.ids.new("modr-standin-")
        return Outgoing(json=media_wire.moderation_response(body, reply, response_id=response_id))


class OpenAIResponses(_OpenAIJson):
    api: Api = "openai-responses"

    def answer(self, body: Mapping[str, Any], reply: Reply | None) -> Outgoing:
        request = responses_wire.parse_responses(body)
        answer = self._shape(request.conversation, reply, (), request.max_output_tokens, "call_standin_")
        ids = {"response_id": self.ids.new("resp_standin_"), "message_id": self.ids.new("msg_standin_")}
        if request.stream:
            events = responses_wire.response_stream_events(request, answer, created=int(time.time()), **ids)
            return Outgoing(events=tuple(events))
        return Outgoing(json=responses_wire.response_object(request, answer, created=int(time.time()), **ids))

    def malformed(self, body: Mapping[str, Any]) -> Outgoing:
        if body.get("stream"):
            return Outgoing(events=(b'event: response.created\ndata: {"type": "response.created", "response": {\n\n',))
        return Outgoing(raw=b'{"id": "resp_standin", "object": "response", "output": [')


class Rerank(_OpenAIJson):
    api: Api = "rerank"

    def answer(self, body: Mapping[str, Any], reply: Reply | None) -> Outgoing:
        response_id = self.ids.new("rerank-standin-")
        return Outgoing(json=rerank_wire.rerank_response(body, reply, response_id=response_id))


_ENDPOINTS: dict[Api, type[Endpoint]] = {
    "openai-chat": OpenAIChat,
    "openai-embeddings": OpenAIEmbeddings,
    "anthropic-messages": AnthropicMessages,
    "openai-images": OpenAIImages,
    "openai-speech": OpenAISpeech,
    "openai-transcriptions": OpenAITranscriptions,
    "openai-moderations": OpenAIModerations,
    "openai-responses": OpenAIResponses,
    "rerank": Rerank,
}


def endpoint_for(
    api: Api, ids: Ids, *, embedding_dimensions: int = DEFAULT_DIMENSIONS, store_file: FileStore | None = None
) -> Endpoint:
    """The endpoint object serving `api`."""
    return _ENDPOINTS[api](ids, embedding_dimensions=embedding_dimensions, store_file=store_file)
