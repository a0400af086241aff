"""A loopback stand-in for the OpenAI and Anthropic APIs, for llmhub's tests and your own.

`StandInServer` serves, on 127.0.0.1 and a free port, the endpoints the real SDKs call, with wire
formats faithful enough that `openai`, `anthropic` and any-llm accept them:

- `POST /v1/chat/completions` (OpenAI): JSON or SSE (`stream_options.include_usage` adds the
  final usage chunk), tool calls (streamed as id/name first, then argument fragments),
  `response_format` json_schema / json_object, `stop`, `max_tokens` / `max_completion_tokens`, `n`.
- `POST /v1/embeddings` (OpenAI): deterministic unit vectors (SHA-256 of the text), 16 dimensions
  unless `dimensions` says otherwise, `encoding_format` float or base64 (the openai SDK asks for
  base64 by default and decodes it transparently).
- `POST /v1/messages` (Anthropic): JSON or SSE (`message_start` ... `message_stop`), tool_use,
  system prompt, `stop_sequences`, `max_tokens`, `output_config` json_schema;
  `POST /v1/messages/count_tokens`.
- `POST /v1/images/generations` (OpenAI): 8x8 PNGs derived from the prompt, `b64_json` (default)
  or `url` (served by the stand-in itself), with gpt-image-style usage.
- `POST /v1/audio/speech` (OpenAI): a tiny WAV (a tone per word) carrying the input text in its
  INFO comment; `POST /v1/audio/transcriptions` (multipart upload): the text back from such a
  WAV, else "Stand-in transcript of <name> (<n> bytes)", as json / text / srt / vtt / verbose_json.
- `POST /v1/moderations` (OpenAI): categories flagged by trigger words (`media_wire.TRIGGERS`).
- `POST /v1/responses` (OpenAI Responses API): JSON or SSE (`response.created` ...
  `response.completed`), message and `function_call` output items, the same brain as chat.
- `POST /v1/rerank` (Together AI's format, which any-llm's `together` provider speaks): relevance
  is the share of the query's words a document contains.
- `GET /v1/models` (models seen in requests, queues and scripts; Anthropic's shape when the
  request has an `anthropic-version` header) and `GET /health`.

Errors use each provider's own body (`{"error": {"message", "type", "param", "code"}}` for
OpenAI, `{"type": "error", "error": {"type", "message"}}` for Anthropic), so the SDKs raise their
own exception classes (429 → `RateLimitError`, 401 → `AuthenticationError`, 404 → `NotFoundError`,
`Fault.context_length()` → a 400 that any-llm classifies as context length exceeded, 5xx/529 ...).
A chat request OpenAI would refuse for its shape (malformed `tool_calls` in an assistant message:
not a list, an item without `id`/`type`/`function`, non-string `name`/`arguments`) gets OpenAI's
400 with `param` and `code` set, before it takes anything queued for its model.

What answers a request for model M, first match wins:

1. the next item queued with `enqueue(M, ...)`, then with `enqueue("*", ...)` (FIFO, one-shot);
2. the script set with `script(M, fn)`, then `script("*", fn)`: `fn(RecordedRequest)` returns a
   `Reply`, a `Fault`, or None for the default brain;
3. the default brain (`llmhub_runtime.testing.brain`): deterministic, e.g. "Stand-in reply to:
   <last user text>"; calls a tool when `tool_choice` requires one or the user names it, with
   arguments built from the tool's JSON schema; answers json_schema requests with a valid instance.

Tokens are whitespace-separated words: usage is computed that way unless a `Reply` sets `usage`,
and `max_tokens=N` keeps the first N words (finish reason "length"). A `Fault` without `status`
or `malformed` (only `delay`, `headers`, `disconnect_after_chunks`, `end_after_chunks`,
`unstreamed`, `trickle`, `pings`) answers with the brain, shaped by the fault: a stream cut or
ended early, a plain JSON answer to a stream request, or an answer trickling in slowly.

Use it in your own tests::

    import openai
    from llmhub_runtime.testing import Fault, Reply, StandInServer, ToolCall

    def test_my_app() -> None:
        with StandInServer() as server:
            server.enqueue("gpt-test", Reply(text="hello", usage=(12, 3)))
            server.enqueue("gpt-test", Fault(status=429, headers={"Retry-After": "2"}))
            client = openai.OpenAI(api_key="x", base_url=server.openai_base, max_retries=0)
            reply = client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "hi"}])
            assert reply.choices[0].message.content == "hello"
            assert server.last_request.body["messages"][0]["content"] == "hi"

or point an llmhub config at it: `LLMHub(config=server.chat_config(model="gpt-test"))`.

Also: `server.requests` / `server.last_request` (`RecordedRequest`: api, path, lower-cased
headers, parsed body, model, stream; its repr leaves headers out), `server.reset()`,
`server.pending(model)`, `server.models`, and `StandInServer(api_key="...")` to answer 401 to
requests without that key.

`unused_port()` gives a port nobody listens on (connection-refused tests) and
`clean_provider_env()` strips providers' `*_API_KEY` / `*_API_BASE` / `*_BASE_URL` variables for
the duration of a `with` block.
"""

from llmhub_runtime.testing.env import clean_provider_env, unused_port
from llmhub_runtime.testing.replies import Fault, RecordedRequest, Reply, ToolCall
from llmhub_runtime.testing.server import Script, StandInServer

__all__ = [
    "Fault",
    "RecordedRequest",
    "Reply",
    "Script",
    "StandInServer",
    "ToolCall",
    "clean_provider_env",
    "unused_port",
]
