"""``LLMHub``: call LLMs by role. Sync and async twins share one planner (``retry.CallPlan``).

Each public method does the same three things: ``_prepare`` (resolve the role, enforce its
mode, read credentials, check the input — all before any network), then drive the plan,
whose attempts call any-llm on a pooled provider instance. Every mode but streamed chat is a
single-shot call: a few lines that check the input and hand ``_call`` / ``_acall`` the any-llm
method to invoke.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, overload

from . import errors as e
from . import streams, timeouts
from .clients import ClientPool, close_client, read_credential
from .compat import CallContext, CallResult, check_env, with_payload_hooks  # noqa: F401 - 1.x's hook types live here
from .hooks import CallEvent, HookRunner, Usage
from .inputs import (
    check_audio,
    check_call_params,
    check_documents,
    check_embedding_input,
    check_messages,
    check_moderation_input,
    check_override,
    check_responses_input,
    check_role_name,
    check_text,
)
from .retry import Attempt, CallPlan, Emit, Timer, Wait
from .usage import UsageLedger, UsageReport

if TYPE_CHECKING:  # pydantic (the config models) loads when the first hub is built, not at import
    from any_llm.types.audio import Transcription
    from any_llm.types.completion import ChatCompletion, ChatCompletionChunk, CreateEmbeddingResponse
    from any_llm.types.image import ImagesResponse
    from any_llm.types.moderation import ModerationResponse
    from any_llm.types.rerank import RerankResponse
    from any_llm.types.responses import Response
    from openresponses_types import ResponseResource

    from .cache.layer import CacheFlag, CacheStats, ResponseCache
    from .compat import PayloadCallback
    from .models import ResolvedCall, RuntimeConfig, Target
    from .traffic.controller import TrafficController

__all__ = ["LLMHub"]

logger = logging.getLogger("llmhub_runtime")
T = TypeVar("T")

_OPENAI_STYLE: dict[str, bool] = {}
_MODE_OF: dict[str, tuple[str, ...]] = {
    "completion": ("chat", "tool", "audio", "other"),
    "embedding": ("embedding",),
    "image": ("image",),
    "speech": ("speech",),
    "transcription": ("transcription",),
    "rerank": ("rerank",),
    "moderation": ("moderation",),
    "responses": ("responses",),
}
"""The role modes each hub method accepts."""


class LLMHub:
    """Calls LLMs by role name, as configured in ``llmhub.yaml``.

    >>> hub = LLMHub()                                   # $LLMHUB_CONFIG, else ./llmhub.yaml
    >>> hub.completion("llm.inference", [{"role": "user", "content": "Hi"}])  # doctest: +SKIP
    """

    _shared: ClassVar[dict[str, LLMHub]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        config_path: str | os.PathLike[str] | None = None,
        config_obj: RuntimeConfig | Mapping[str, Any] | None = None,
        strict_env: bool = False,
        on_before_call: PayloadCallback | None = None,
        on_after_call: PayloadCallback | None = None,
        *,
        config: RuntimeConfig | Mapping[str, Any] | None = None,
        hooks: Sequence[object] = (),
        strict: bool = False,
        env: str | None = None,
        timer: Timer | None = None,
    ) -> None:
        """``config_obj``, ``strict_env``, ``on_before_call`` and ``on_after_call`` are llmhub-runtime 1.x's.

        ``config_obj`` is ``config``'s 1.x name; ``strict_env=True`` checks every API key the config names
        now (``EnvVarMissingError``, i.e. ``MissingCredentialError``); the two callables get 1.x's payload
        dicts once per call (``llmhub_runtime.compat``). See docs/migration.md.
        """
        from .config_loader import config_from_dict, load_config
        from .models import RuntimeConfig
        from .resolver import Resolver

        if config_obj is not None:
            if config is not None:
                raise e.UsageError("Pass config= or its 1.x name config_obj=, not both.")
            config = config_obj
        if config is not None and config_path is not None:
            raise e.UsageError("Pass either config_path= or config=, not both.")
        if config is None:
            runtime = load_config(config_path)
        elif isinstance(config, RuntimeConfig):
            runtime = config
        elif isinstance(config, Mapping):
            runtime = config_from_dict(config)
        else:
            raise e.UsageError(f"config= takes a RuntimeConfig or a dict, not {type(config).__name__}.")
        self._resolver = Resolver(runtime, strict=strict, env=env)
        self._ledger = UsageLedger()
        self._hooks = HookRunner(with_payload_hooks(self, hooks, on_before_call, on_after_call))
        self._timer = timer or Timer()
        self._clients = ClientPool()
        self._closed = False
        from .traffic.controller import TrafficController  # with the config models: not at import

        self._traffic = TrafficController.for_config(self._resolver.config, self._timer)
        self._cache_layer: ResponseCache | None = None
        self._cached_roles = _uses_cache(self._resolver.config)
        self.strict_env = strict_env
        self.on_before_call = on_before_call
        self.on_after_call = on_after_call
        if strict_env:
            check_env(self)

    @classmethod
    def shared(cls, config_path: str | os.PathLike[str] | None = None) -> LLMHub:
        """One hub per config file, process-wide (so framework adapters share HTTP clients)."""
        from .config_loader import default_config_path

        key = str(Path(config_path if config_path is not None else default_config_path()).resolve())
        hub = cls._shared.get(key)
        if hub is None or hub._closed:
            with cls._shared_lock:
                hub = cls._shared.get(key)
                if hub is None or hub._closed:
                    hub = cls._shared[key] = cls(config_path)  # None keeps the default-path hint in errors
        return hub

    # --- introspection --------------------------------------------------------------------

    @property
    def config(self) -> RuntimeConfig:
        """The validated config."""
        return self._resolver.config

    @property
    def roles(self) -> tuple[str, ...]:
        """Configured role names."""
        return self._resolver.roles

    @property
    def env(self) -> str | None:
        """The environment the roles are bound in (``LLMHub(env=)``, ``$LLMHUB_ENV`` or ``env:``)."""
        return self._resolver.env

    def resolve(self, role: str) -> ResolvedCall:
        """What ``role`` calls: mode and target chain (``UnknownRoleError`` if unknown)."""
        return self._resolver.resolve(check_role_name(role))

    def usage(self) -> UsageReport:
        """Calls, errors, tokens, latency p50/p95 and cost so far, per role and per target."""
        return self._ledger.report()

    def reset_usage(self) -> None:
        """Start counting usage from zero."""
        self._ledger.reset()

    @property
    def traffic(self) -> TrafficController | None:
        """Traffic control (limits, cooldowns, splits; ``.status(target)``, ``.metrics``), if the config uses it."""
        return self._traffic

    def cache_stats(self) -> dict[str, CacheStats]:
        """Response-cache counters per role in this process: hits, misses, bypassed, stored, store errors."""
        return self._cache.stats() if self._cache_layer is not None else {}

    @property
    def _cache(self) -> ResponseCache:
        """The response cache, built on first use (so hubs without ``cache:`` never import it)."""
        layer = self._cache_layer
        if layer is None:
            from .cache.layer import ResponseCache

            layer = self._cache_layer = ResponseCache(self._resolver.config, self._timer)
        return layer

    def _cache_policy(self, role: str, flag: CacheFlag) -> Any:
        if flag is None and not self._cached_roles:
            return None
        return self._cache.policy(role, flag)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<LLMHub roles={list(self.roles)} {state}>"

    # --- chat -----------------------------------------------------------------------------

    @overload
    def completion(
        self,
        role: str,
        messages: Sequence[Mapping[str, Any] | Any] | str,
        params_override: Mapping[str, Any] | None = None,
        *,
        stream: Literal[False] = False,
        cache: CacheFlag = None,
        **kwargs: Any,
    ) -> ChatCompletion: ...

    @overload
    def completion(
        self,
        role: str,
        messages: Sequence[Mapping[str, Any] | Any] | str,
        params_override: Mapping[str, Any] | None = None,
        *,
        stream: Literal[True],
        cache: CacheFlag = None,
        **kwargs: Any,
    ) -> Iterator[ChatCompletionChunk]: ...

    @overload
    def completion(
        self,
        role: str,
        messages: Sequence[Mapping[str, Any] | Any] | str,
        params_override: Mapping[str, Any] | None = None,
        *,
        stream: bool = False,
        cache: CacheFlag = None,
        **kwargs: Any,
    ) -> ChatCompletion | Iterator[ChatCompletionChunk]: ...

    def completion(
        self,
        role: str,
        messages: Sequence[Mapping[str, Any] | Any] | str,
        params_override: Mapping[str, Any] | None = None,
        *,
        stream: bool = False,
        cache: CacheFlag = None,
        **kwargs: Any,
    ) -> ChatCompletion | Iterator[ChatCompletionChunk]:
        """Chat completion for ``role``; with ``stream=True`` an iterator of chunks.

        ``cache=False`` bypasses the role's response cache, ``cache="refresh"`` replaces its entry.
        """
        plan, msgs = self._chat_plan(role, messages, stream, params_override, kwargs)
        policy = self._cache_policy(role, cache)
        if policy is not None:
            return self._cache.completion(self, plan, msgs, params_override, stream, kwargs, policy)  # type: ignore[no-any-return]
        return self._complete(plan, msgs, params_override, stream, kwargs)  # type: ignore[no-any-return]

    def _complete(
        self,
        plan: CallPlan,
        msgs: list[Any],
        params_override: Mapping[str, Any] | None,
        stream: bool,
        kwargs: Mapping[str, Any],
    ) -> Any:
        """The uncached sync chat call: drive the plan; a stream is wrapped for usage and events."""

        def attempt(step: Attempt) -> Any:
            client = self._clients.get(step.target, step.api_key, loop=None)
            args = _arguments(step.target, params_override, kwargs, stream, client)
            bounds = timeouts.limits(step.target, args, stream=stream)
            plan.clock()
            if stream:
                chunks = timeouts.sync_stream(client.acompletion(step.target.model, msgs, **args), bounds)
                return streams.first_chunk(plan, chunks), chunks
            return timeouts.run_sync(client.acompletion(step.target.model, msgs, **args), bounds.total)

        result = self._drive(plan, self._guarded(plan, attempt, msgs, params_override, kwargs))
        if stream:
            return streams.stream(plan, result[0], result[1], self._emit)
        self._emit_end(plan, result)
        return result

    @overload
    async def acompletion(
        self,
        role: str,
        messages: Sequence[Mapping[str, Any] | Any] | str,
        params_override: Mapping[str, Any] | None = None,
        *,
        stream: Literal[False] = False,
        cache: CacheFlag = None,
        **kwargs: Any,
    ) -> ChatCompletion: ...

    @overload
    async def acompletion(
        self,
        role: str,
        messages: Sequence[Mapping[str, Any] | Any] | str,
        params_override: Mapping[str, Any] | None = None,
        *,
        stream: Literal[True],
        cache: CacheFlag = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatCompletionChunk]: ...

    @overload
    async def acompletion(
        self,
        role: str,
        messages: Sequence[Mapping[str, Any] | Any] | str,
        params_override: Mapping[str, Any] | None = None,
        *,
        stream: bool = False,
        cache: CacheFlag = None,
        **kwargs: Any,
    ) -> ChatCompletion | AsyncIterator[ChatCompletionChunk]: ...

    async def acompletion(
        self,
        role: str,
        messages: Sequence[Mapping[str, Any] | Any] | str,
        params_override: Mapping[str, Any] | None = None,
        *,
        stream: bool = False,
        cache: CacheFlag = None,
        **kwargs: Any,
    ) -> ChatCompletion | AsyncIterator[ChatCompletionChunk]:
        """Async chat completion for ``role``; with ``stream=True`` an async iterator of chunks."""
        plan, msgs = self._chat_plan(role, messages, stream, params_override, kwargs)
        policy = self._cache_policy(role, cache)
        if policy is not None:
            return await self._cache.acompletion(self, plan, msgs, params_override, stream, kwargs, policy)  # type: ignore[no-any-return]
        return await self._acomplete(plan, msgs, params_override, stream, kwargs)  # type: ignore[no-any-return]

    async def _acomplete(
        self,
        plan: CallPlan,
        msgs: list[Any],
        params_override: Mapping[str, Any] | None,
        stream: bool,
        kwargs: Mapping[str, Any],
    ) -> Any:
        """The async twin of ``_complete``."""
        loop = asyncio.get_running_loop()

        async def attempt(step: Attempt) -> Any:
            client = self._clients.get(step.target, step.api_key, loop=loop)
            args = _arguments(step.target, params_override, kwargs, stream, client)
            bounds = timeouts.limits(step.target, args, stream=stream)
            plan.clock()
            if stream:
                chunks = timeouts.bounded_stream(client.acompletion(step.target.model, msgs, **args), bounds)
                return await streams.afirst_chunk(plan, chunks), chunks
            return await timeouts.within(client.acompletion(step.target.model, msgs, **args), bounds.total)

        result = await self._adrive(plan, self._aguarded(plan, attempt, msgs, params_override, kwargs))
        if stream:
            return streams.astream(plan, result[0], result[1], self._aemit)
        await self._aemit_end(plan, result)
        return result

    # --- embeddings -----------------------------------------------------------------------

    def embedding(
        self,
        role: str,
        input: str | Sequence[str],
        params_override: Mapping[str, Any] | None = None,
        cache: CacheFlag = None,
        **kwargs: Any,
    ) -> CreateEmbeddingResponse:
        """Embeddings for ``input`` (a string or a list of strings) with ``role``.

        With a response cache, each text is looked up on its own and only the new ones are sent.
        A role's ``batch_size`` splits a larger input into requests of at most that many texts.
        """
        inputs = check_embedding_input(input)
        if (chunks := self._batches(role, inputs)) is not None:
            return _joined([self.embedding(role, chunk, params_override, cache, **kwargs) for chunk in chunks])
        policy = self._cache_policy(role, cache)
        if policy is not None:
            plan = self._prepare(role, "embedding", False)
            plan.cache = "miss"

            def send(texts: list[str]) -> Any:
                return self._call(
                    role,
                    "embedding",
                    params_override,
                    kwargs,
                    lambda client, model, args: client.aembedding(model, texts, **args),
                    plan=plan,
                    size=texts,
                )

            return self._cache.embedding(plan, inputs, params_override, kwargs, policy, send, self._emit)  # type: ignore[no-any-return]
        return self._call(  # type: ignore[no-any-return]
            role, "embedding", params_override, kwargs,
            lambda client, model, args: client.aembedding(model, inputs, **args),
            size=inputs,
        )  # fmt: skip

    async def aembedding(
        self,
        role: str,
        input: str | Sequence[str],
        params_override: Mapping[str, Any] | None = None,
        cache: CacheFlag = None,
        **kwargs: Any,
    ) -> CreateEmbeddingResponse:
        """Async embeddings for ``input`` with ``role``."""
        inputs = check_embedding_input(input)
        if (chunks := self._batches(role, inputs)) is not None:
            return _joined([await self.aembedding(role, chunk, params_override, cache, **kwargs) for chunk in chunks])
        policy = self._cache_policy(role, cache)
        if policy is not None:
            plan = self._prepare(role, "embedding", False)
            plan.cache = "miss"

            async def send(texts: list[str]) -> Any:
                return await self._acall(
                    role,
                    "embedding",
                    params_override,
                    kwargs,
                    lambda client, model, args: client.aembedding(model, texts, **args),
                    plan=plan,
                    size=texts,
                )

            return await self._cache.aembedding(plan, inputs, params_override, kwargs, policy, send, self._aemit)  # type: ignore[no-any-return]
        return await self._acall(  # type: ignore[no-any-return]
            role, "embedding", params_override, kwargs,
            lambda client, model, args: client.aembedding(model, inputs, **args),
            size=inputs,
        )  # fmt: skip

    def _batches(self, role: str, inputs: str | list[str]) -> list[list[str]] | None:
        """``inputs`` in the role's ``batch_size`` chunks, or ``None`` when it fits in one request."""
        entry = self._resolver.config.roles.get(role) if isinstance(role, str) else None
        size = entry.batch_size if entry is not None else None
        if size is None or isinstance(inputs, str) or len(inputs) <= size:
            return None
        return [inputs[start : start + size] for start in range(0, len(inputs), size)]

    # --- images, audio, rerank, moderation, responses -------------------------------------------

    def image(
        self, role: str, prompt: str, params_override: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> ImagesResponse:
        """Generate images from ``prompt`` with an ``image`` role (``n``, ``size``, ... from params or kwargs)."""
        text = check_text(prompt, "image prompt")
        return self._call(  # type: ignore[no-any-return]
            role, "image", params_override, kwargs,
            lambda client, model, args: client.aimage_generation(model, text, **args),
        )  # fmt: skip

    async def aimage(
        self, role: str, prompt: str, params_override: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> ImagesResponse:
        """Async twin of ``image``."""
        text = check_text(prompt, "image prompt")
        return await self._acall(  # type: ignore[no-any-return]
            role, "image", params_override, kwargs,
            lambda client, model, args: client.aimage_generation(model, text, **args),
        )  # fmt: skip

    def speech(self, role: str, input: str, params_override: Mapping[str, Any] | None = None, **kwargs: Any) -> bytes:
        """Speak ``input`` with a ``speech`` role; the audio bytes. ``voice`` comes from params or kwargs."""
        text = check_text(input, "speech input")
        return self._call(  # type: ignore[no-any-return]
            role, "speech", params_override, kwargs,
            lambda client, model, args: client.aspeech(model, text, args.pop("voice"), **args),
            required=("voice",),
        )  # fmt: skip

    async def aspeech(
        self, role: str, input: str, params_override: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> bytes:
        """Async twin of ``speech``."""
        text = check_text(input, "speech input")
        return await self._acall(  # type: ignore[no-any-return]
            role, "speech", params_override, kwargs,
            lambda client, model, args: client.aspeech(model, text, args.pop("voice"), **args),
            required=("voice",),
        )  # fmt: skip

    def transcription(
        self, role: str, file: Any, params_override: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Transcription:
        """Transcribe ``file`` (bytes, a path or a binary file object) with a ``transcription`` role."""
        audio, name = check_audio(file)
        return self._call(  # type: ignore[no-any-return]
            role, "transcription", params_override, {"filename": name, **kwargs} if name else kwargs,
            lambda client, model, args: client.atranscription(model, audio, **args),
        )  # fmt: skip

    async def atranscription(
        self, role: str, file: Any, params_override: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Transcription:
        """Async twin of ``transcription``."""
        audio, name = check_audio(file)
        return await self._acall(  # type: ignore[no-any-return]
            role, "transcription", params_override, {"filename": name, **kwargs} if name else kwargs,
            lambda client, model, args: client.atranscription(model, audio, **args),
        )  # fmt: skip

    def rerank(
        self,
        role: str,
        query: str,
        documents: Sequence[str],
        params_override: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> RerankResponse:
        """Order ``documents`` by relevance to ``query`` with a ``rerank`` role (``top_n`` from params or kwargs)."""
        text, docs = check_text(query, "rerank query"), check_documents(documents)
        return self._call(  # type: ignore[no-any-return]
            role, "rerank", params_override, kwargs,
            lambda client, model, args: client.arerank(model, text, docs, **args),
        )  # fmt: skip

    async def arerank(
        self,
        role: str,
        query: str,
        documents: Sequence[str],
        params_override: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> RerankResponse:
        """Async twin of ``rerank``."""
        text, docs = check_text(query, "rerank query"), check_documents(documents)
        return await self._acall(  # type: ignore[no-any-return]
            role, "rerank", params_override, kwargs,
            lambda client, model, args: client.arerank(model, text, docs, **args),
        )  # fmt: skip

    def moderation(
        self,
        role: str,
        input: str | Sequence[str] | Sequence[Mapping[str, Any]],
        params_override: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> ModerationResponse:
        """Classify ``input`` (text, texts, or content parts) with a ``moderation`` role."""
        items = check_moderation_input(input)
        return self._call(  # type: ignore[no-any-return]
            role, "moderation", params_override, kwargs,
            lambda client, model, args: client.amoderation(model, items, **args),
        )  # fmt: skip

    async def amoderation(
        self,
        role: str,
        input: str | Sequence[str] | Sequence[Mapping[str, Any]],
        params_override: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> ModerationResponse:
        """Async twin of ``moderation``."""
        items = check_moderation_input(input)
        return await self._acall(  # type: ignore[no-any-return]
            role, "moderation", params_override, kwargs,
            lambda client, model, args: client.amoderation(model, items, **args),
        )  # fmt: skip

    def responses(
        self,
        role: str,
        input: str | Sequence[Mapping[str, Any]],
        params_override: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Response | ResponseResource:
        """One OpenAI Responses API call (text or input items) with a ``responses`` role; not streamed."""
        items = _responses_input(input, kwargs)
        return self._call(  # type: ignore[no-any-return]
            role, "responses", params_override, kwargs,
            lambda client, model, args: client.aresponses(model, items, **args),
        )  # fmt: skip

    async def aresponses(
        self,
        role: str,
        input: str | Sequence[Mapping[str, Any]],
        params_override: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Response | ResponseResource:
        """Async twin of ``responses``."""
        items = _responses_input(input, kwargs)
        return await self._acall(  # type: ignore[no-any-return]
            role, "responses", params_override, kwargs,
            lambda client, model, args: client.aresponses(model, items, **args),
        )  # fmt: skip

    # --- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Close every HTTP client the hub opened. Further calls raise ``HubClosedError``.

        Each client is closed on the event loop it belongs to; clients of loops that have ended
        went with them.
        """
        self._closed = True
        _close_all(self._clients.drain())
        if self._traffic:
            self._traffic.close()
        if self._cache_layer is not None:
            self._cache_layer.close()

    async def aclose(self) -> None:
        """Async twin of ``close``: the running loop's clients are closed here, the others as ``close`` does."""
        self._closed = True
        loop = asyncio.get_running_loop()
        clients = self._clients.drain()
        for owner, client in clients:
            if owner is loop:
                try:
                    await close_client(client)
                except Exception:
                    logger.debug("llmhub: could not close a client", exc_info=True)
        others = [(owner, client) for owner, client in clients if owner is not loop]
        if others:
            await asyncio.to_thread(_close_all, others)
        if self._cache_layer is not None:
            await asyncio.to_thread(self._cache_layer.close)
        if self._traffic:
            self._traffic.close()

    def __enter__(self) -> LLMHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> LLMHub:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- shared core --------------------------------------------------------------------------

    def _prepare(self, role: str, method: str, stream: bool) -> CallPlan:
        if self._closed:
            raise e.HubClosedError("This LLMHub is closed; create a new one.")
        call = self.resolve(role) if self._traffic is None else self._traffic.route(self.resolve(role))
        if call.mode not in _MODE_OF[method]:
            raise _mode_mismatch(role, call.mode, method)
        keys = [read_credential(target, role) for target in call.targets]
        return CallPlan(call, keys, stream=stream, timer=self._timer, observed=bool(self._hooks))

    def _chat_plan(
        self, role: str, messages: Any, stream: bool, override: Mapping[str, Any] | None, kwargs: Mapping[str, Any]
    ) -> tuple[CallPlan, list[Any]]:
        plan = self._prepare(role, "completion", stream)
        msgs = check_messages(messages)
        _check_call(plan, "completion", override, kwargs, ())
        if plan.call.mode == "tool":
            _check_tools_given(plan, override, kwargs)
        return plan, msgs

    def _call(
        self,
        role: str,
        method: str,
        override: Mapping[str, Any] | None,
        kwargs: Mapping[str, Any],
        invoke: Callable[[Any, str, dict[str, Any]], Awaitable[Any]],
        required: tuple[str, ...] = (),
        plan: CallPlan | None = None,
        size: Any = None,
    ) -> Any:
        """One non-streaming call of ``role`` through the planner; ``invoke(client, model, args)`` does the I/O.

        ``invoke`` returns the any-llm coroutine, run on any-llm's runner loop (as its sync API does)
        within the attempt's ``timeout``.

        ``required`` names arguments (e.g. speech's ``voice``) every target must get from its params or the call.
        """
        plan = plan or self._prepare(role, method, False)
        _check_call(plan, method, override, kwargs, required)

        def attempt(step: Attempt) -> Any:
            client = self._clients.get(step.target, step.api_key, loop=None)
            args = _arguments(step.target, override, kwargs, False, None)
            bounds = timeouts.limits(step.target, args, stream=False)
            plan.clock()
            return timeouts.run_sync(invoke(client, step.target.model, args), bounds.total)

        result = self._drive(plan, self._guarded(plan, attempt, size, override, kwargs))
        self._emit_end(plan, result)
        return result

    async def _acall(
        self,
        role: str,
        method: str,
        override: Mapping[str, Any] | None,
        kwargs: Mapping[str, Any],
        invoke: Callable[[Any, str, dict[str, Any]], Awaitable[Any]],
        required: tuple[str, ...] = (),
        plan: CallPlan | None = None,
        size: Any = None,
    ) -> Any:
        """The async twin of ``_call``."""
        plan = plan or self._prepare(role, method, False)
        _check_call(plan, method, override, kwargs, required)
        loop = asyncio.get_running_loop()

        async def attempt(step: Attempt) -> Any:
            client = self._clients.get(step.target, step.api_key, loop=loop)
            args = _arguments(step.target, override, kwargs, False, None)
            bounds = timeouts.limits(step.target, args, stream=False)
            plan.clock()
            return await timeouts.within(invoke(client, step.target.model, args), bounds.total)

        result = await self._adrive(plan, self._aguarded(plan, attempt, size, override, kwargs))
        await self._aemit_end(plan, result)
        return result

    def _guarded(
        self, plan: CallPlan, attempt: Callable[[Attempt], T], inputs: Any, override: Any, kwargs: Any
    ) -> Callable[[Attempt], T]:
        """``attempt`` behind traffic control (limits, cooldowns), when the config uses it."""
        return attempt if self._traffic is None else self._traffic.guard(plan, attempt, inputs, override, kwargs)

    def _aguarded(
        self, plan: CallPlan, attempt: Callable[[Attempt], Awaitable[T]], inputs: Any, override: Any, kwargs: Any
    ) -> Callable[[Attempt], Awaitable[T]]:
        return attempt if self._traffic is None else self._traffic.aguard(plan, attempt, inputs, override, kwargs)

    def _drive(self, plan: CallPlan, attempt: Callable[[Attempt], T]) -> T:
        """Run the plan; whatever ends the call (cancellation, a foreign exception) reports its attempt."""
        steps = plan.steps()
        try:
            step = next(steps)
            while True:
                if isinstance(step, Emit):
                    self._emit(step.event)
                elif isinstance(step, Wait):
                    self._timer.sleep(step.seconds)
                else:
                    try:
                        result = attempt(step)
                    except Exception as exc:
                        step = steps.send(exc)
                        continue
                    plan.in_flight = False
                    return result
                step = next(steps)
        except BaseException as exc:
            aborted = plan.aborted(exc)
            if aborted is not None:
                self._emit(aborted)
            raise
        finally:
            steps.close()

    async def _adrive(self, plan: CallPlan, attempt: Callable[[Attempt], Awaitable[T]]) -> T:
        """The async twin of ``_drive``."""
        steps = plan.steps()
        try:
            step = next(steps)
            while True:
                if isinstance(step, Emit):
                    await self._aemit(step.event)
                elif isinstance(step, Wait):
                    await self._timer.asleep(step.seconds)
                else:
                    try:
                        result = await attempt(step)
                    except Exception as exc:
                        step = steps.send(exc)
                        continue
                    plan.in_flight = False
                    return result
                step = next(steps)
        except BaseException as exc:
            aborted = plan.aborted(exc)
            if aborted is not None:
                await self._aemit(aborted)
            raise
        finally:
            steps.close()

    def _emit(self, event: CallEvent) -> None:
        self._observe(event)
        if self._hooks:
            self._hooks.emit(event)

    async def _aemit(self, event: CallEvent) -> None:
        self._observe(event)
        if self._hooks:
            await self._hooks.aemit(event)

    def _observe(self, event: CallEvent) -> None:
        self._ledger.record(event)
        if self._traffic:
            self._traffic.observe(event)
        if event.kind == "error":
            _log(event)

    def _emit_end(self, plan: CallPlan, result: Any) -> None:
        self._emit(_end_event(plan, result))

    async def _aemit_end(self, plan: CallPlan, result: Any) -> None:
        await self._aemit(_end_event(plan, result))


def _close_all(clients: Sequence[tuple[asyncio.AbstractEventLoop | None, Any]]) -> None:
    """Close clients, each on its own loop: the sync ones on any-llm's runner loop."""
    from any_llm.utils.aio import run_async_in_sync

    try:
        current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        current = None
    for loop, client in clients:
        try:
            if loop is None:
                run_async_in_sync(close_client(client), allow_running_loop=True)
            elif loop is not current and loop.is_running() and not loop.is_closed():
                asyncio.run_coroutine_threadsafe(close_client(client), loop).result(timeout=5)
            elif current is None and not loop.is_running() and not loop.is_closed():
                loop.run_until_complete(close_client(client))  # an idle loop the caller kept
        except Exception:  # a client whose loop is gone or busy: nothing left to close here
            logger.debug("llmhub: could not close a client", exc_info=True)


def _joined(responses: Sequence[Any]) -> CreateEmbeddingResponse:
    """One embeddings answer from the answers of consecutive chunks: indexes continue, usage adds up."""
    from any_llm.types.completion import CreateEmbeddingResponse

    data: list[dict[str, Any]] = []
    prompt = total = 0
    for response in responses:
        offset = len(data)
        data.extend({"object": "embedding", "index": offset + item.index, "embedding": item.embedding}
                    for item in response.data)  # fmt: skip
        if response.usage is not None:
            prompt += response.usage.prompt_tokens
            total += response.usage.total_tokens
    usage = {"prompt_tokens": prompt, "total_tokens": total}
    return CreateEmbeddingResponse.model_validate(
        {"object": "list", "model": responses[0].model, "data": data, "usage": usage}
    )


def _uses_cache(config: RuntimeConfig) -> bool:
    """Whether any role (or ``defaults``) has a response cache."""
    return config.defaults.cache is not None or any(role.cache is not None for role in config.roles.values())


def _end_event(plan: CallPlan, result: Any) -> CallEvent:
    return plan.event("end", usage=Usage.from_response(result), answered_model=getattr(result, "model", None))


def _mode_mismatch(role: str, mode: str, method: str) -> e.ModeMismatchError:
    """``ModeMismatchError`` naming the modes ``method`` serves and the method that serves ``mode``."""
    from .models import LEGACY_MODES, MODE_METHODS

    accepted = tuple(m for m in _MODE_OF[method] if m not in LEGACY_MODES)  # 1.x's audio/other go unsaid
    return e.ModeMismatchError(role, mode, method, _MODE_OF[method][0], accepted=accepted,
                               use=MODE_METHODS.get(mode))  # fmt: skip


def _check_call(
    plan: CallPlan,
    method: str,
    override: Mapping[str, Any] | None,
    kwargs: Mapping[str, Any],
    required: tuple[str, ...],
) -> None:
    """Before any network: the merged arguments of every target are well typed, and ``required`` ones are set."""
    from .models import MODE_METHODS

    check_override(override)
    chat = MODE_METHODS.get(plan.call.mode) == "completion"  # chat, tool, and 1.x's audio and other
    for target in plan.call.targets:
        args = _arguments(target, override, kwargs, False, None)

        def source(name: str, target: Target = target) -> str:
            if name in kwargs:
                return f"passed to {method}()"
            if override and name in override:
                return "in params_override"
            return f"in the params of role {target.via_role or plan.call.role!r} ({target.label})"

        check_call_params(args, source, chat=chat)
        for name in required:
            if args.get(name) is None:
                raise e.InvalidInputError(
                    f"{method}() needs {name}= for role {plan.call.role!r} (target {target.label}): set it in the "
                    f"role's params (params: {{{name}: ...}}) or pass {name}=... in the call."
                )


def _check_tools_given(plan: CallPlan, override: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> None:
    """A ``tool`` role without ``tools:`` (as 1.x files have them) needs ``tools=`` in each call."""
    for target in plan.call.targets:
        if not _arguments(target, override, kwargs, False, None).get("tools"):
            raise e.InvalidInputError(
                f"Role {plan.call.role!r} has mode 'tool' but no tools for target {target.label}: pass tools=[...] "
                "in the call, or list them under the role's 'tools:' in llmhub.yaml."
            )


def _responses_input(value: Any, kwargs: Mapping[str, Any]) -> str | list[Any]:
    if kwargs.get("stream"):
        raise e.InvalidInputError(
            "responses() does not stream; call it without stream=True (or use completion(stream=True) on a chat role)."
        )
    return check_responses_input(value)


def _log(event: CallEvent) -> None:
    if event.wait is not None:
        logger.warning(
            "llmhub: role %r: %s from %s/%s on attempt %d; retrying in %.2fs",
            event.role, event.error_type, event.provider, event.model, event.attempt, event.wait,
        )  # fmt: skip
    else:
        logger.warning(
            "llmhub: role %r: %s from %s/%s on attempt %d; %s",
            event.role, event.error_type, event.provider, event.model, event.attempt,
            "giving up" if event.final else "moving to the next target",
        )  # fmt: skip


def _arguments(
    target: Target, override: Mapping[str, Any] | None, kwargs: Mapping[str, Any], stream: bool, client: Any
) -> dict[str, Any]:
    """Role params < ``params_override`` < call kwargs; a ``None`` in a call layer removes the key.

    Tools given in the call replace the role's tools and its ``tool_choice`` (pass ``tool_choice`` too if needed).
    ``stream`` is never taken from params or kwargs (``_check_call`` refuses it): only the call's ``stream=`` streams.
    """
    override = check_override(override)
    args = dict(target.params)
    if (override and "model" in override) or "model" in kwargs:
        raise e.InvalidInputError(
            "'model' cannot be passed to a call: the role chooses the model. Change the role's "
            "model in llmhub.yaml, or call another role."
        )
    if any("tools" in (layer or {}) and "tool_choice" not in (layer or {}) for layer in (override, kwargs)):
        args.pop("tool_choice", None)
    for layer in (override, kwargs):
        for key, value in (layer or {}).items():
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value
    if target.timeout is not None and "timeout" not in args:
        args["timeout"] = target.timeout
    if stream:
        args["stream"] = True
        if "stream_options" not in args and _openai_style(client):
            args["stream_options"] = {"include_usage": True}
    return args


def _openai_style(client: Any) -> bool:
    """Whether the provider speaks OpenAI's wire format (and so sends a usage chunk on request)."""
    name = type(client).__qualname__
    known = _OPENAI_STYLE.get(name)
    if known is None:
        from any_llm.providers.openai.base import BaseOpenAIProvider

        known = _OPENAI_STYLE[name] = isinstance(client, BaseOpenAIProvider)
    return known
