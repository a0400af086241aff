"""llmhub-runtime 1.x's ``on_before_call`` / ``on_after_call`` callables, served by llmhub's hooks.

``LLMHub(on_before_call=f, on_after_call=g)`` installs ``PayloadHooks``, an ordinary hook (``on_start``)
that turns the first attempt's start event into 1.x's payload dict; the after-payload is sent once
the call has returned or raised, because only then are the response and the error known. Both fire
**once per call**, whatever the retries and fallbacks (every attempt still reaches ``hooks=``)::

    before: {"role", "provider", "model", "mode", "params", "messages"}   # "input" for other methods
    after:  {"role", "provider", "model", "mode", "success", "error", "response"}

``params`` are those sent to the first target (role params < ``params_override`` < keyword arguments);
``provider``/``model`` in the after-payload are the target that answered, or failed last. A call
refused before any network (unknown role, wrong mode, missing key, bad input) fires neither, as
it fires no hook. A callable that raises is logged and ignored, like any hook. For ``stream=True``
the after-payload's ``response`` is the stream, sent when the stream is handed back.

Also here: ``check_env`` (``strict_env=True``) and ``legacy_notes`` (what ``llmhub check`` says about
1.x file shapes it accepts). Every 1.x name and behaviour: docs/migration.md.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import MissingCredentialError

if TYPE_CHECKING:  # the rest is imported where used: ``import llmhub_runtime.hub`` stays light
    from .hooks import CallEvent
    from .hub import LLMHub
    from .resolver import Resolver

__all__ = [
    "CALL_METHODS",
    "CallContext",
    "CallResult",
    "Payload",
    "PayloadCallback",
    "PayloadHooks",
    "check_env",
    "legacy_notes",
    "with_payload_hooks",
]

logger = logging.getLogger("llmhub_runtime")

Payload = dict[str, Any]
PayloadCallback = Callable[[Payload], object]
CallContext = Payload
"""1.x's name (in ``llmhub_runtime.hub``) for the before-payload's type."""
CallResult = Payload
"""1.x's name (in ``llmhub_runtime.hub``) for the after-payload's type."""

CALL_METHODS: tuple[str, ...] = tuple(
    f"{prefix}{name}"
    for name in (
        "completion", "embedding", "image", "speech", "transcription", "rerank", "moderation", "responses"
    )
    for prefix in ("", "a")
)  # fmt: skip
"""The hub methods whose calls the payload callables see."""

_NOT_PAYLOAD = frozenset({"self", "role", "params_override", "stream", "kwargs"})


@dataclass
class _Call:
    """What one hub call passed, and which target it reached (filled by the hook)."""

    inputs: dict[str, Any]
    override: Mapping[str, Any] | None
    kwargs: Mapping[str, Any]
    started: CallEvent | None = None
    last: CallEvent | None = field(default=None, repr=False)


_CURRENT: ContextVar[_Call | None] = ContextVar("llmhub_payload_call", default=None)


class PayloadHooks:
    """A hook that gives 1.x-style callables one payload dict before and one after each call."""

    def __init__(self, hub: LLMHub, before: PayloadCallback | None, after: PayloadCallback | None) -> None:
        self._hub = hub
        self.before = before
        self.after = after

    def __repr__(self) -> str:
        return f"PayloadHooks(before={self.before!r}, after={self.after!r})"

    def on_start(self, event: CallEvent) -> None:
        call = _CURRENT.get()
        if call is None:
            return
        call.last = event
        if call.started is not None:
            return  # a retry or a fallback of a call already announced
        call.started = event
        if self.before is not None:
            target = self._hub.resolve(event.role).primary
            params = _sent_params(target.params, call.override, call.kwargs)
            self.before({**_where(event), "params": params, **call.inputs})

    def wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        """``method`` (a bound hub method) running inside a call scope, sending the after-payload at its end."""
        signature = inspect.signature(method)

        def scope(args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call:
            bound = signature.bind(*args, **kwargs).arguments
            names = [name for name in bound if name not in _NOT_PAYLOAD]
            inputs = {("messages" if name == "messages" else "input" if i == 0 else name): bound[name]
                      for i, name in enumerate(names)}  # fmt: skip
            return _Call(inputs, bound.get("params_override"), bound.get("kwargs", {}))

        if inspect.iscoroutinefunction(method):

            @functools.wraps(method)
            async def acall(*args: Any, **kwargs: Any) -> Any:
                call = scope(args, kwargs)
                token = _CURRENT.set(call)
                try:
                    result = await method(*args, **kwargs)
                except Exception as exc:
                    self._done(call, None, exc)
                    raise
                finally:
                    _CURRENT.reset(token)
                self._done(call, result, None)
                return result

            return acall

        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            scoped = scope(args, kwargs)
            token = _CURRENT.set(scoped)
            try:
                result = method(*args, **kwargs)
            except Exception as exc:
                self._done(scoped, None, exc)
                raise
            finally:
                _CURRENT.reset(token)
            self._done(scoped, result, None)
            return result

        return call

    def _done(self, call: _Call, response: Any, error: BaseException | None) -> None:
        if self.after is None or call.last is None:
            return  # refused before any attempt: no hook saw it either
        payload = {**_where(call.last), "success": error is None, "error": error, "response": response}
        try:
            self.after(payload)
        except Exception:
            logger.exception("llmhub on_after_call %r failed; ignored", self.after)


def with_payload_hooks(
    hub: LLMHub, hooks: Sequence[object], before: PayloadCallback | None, after: PayloadCallback | None
) -> tuple[object, ...]:
    """``hooks``, plus a ``PayloadHooks`` for ``before``/``after`` when given (it also wraps the hub's call methods)."""
    if before is None and after is None:
        return tuple(hooks)
    adapter = PayloadHooks(hub, before, after)
    for name in CALL_METHODS:
        setattr(hub, name, adapter.wrap(getattr(hub, name)))
    return (*hooks, adapter)


def check_env(hub: LLMHub) -> None:
    """``strict_env=True``: every key the config names must be set now, else ``MissingCredentialError``.

    Checked: each declared provider's explicit ``env_key`` (as 1.x did), then every target of every role
    (fallbacks and implied ``<KIND>_API_KEY`` keys included).
    """
    for name, entry in hub.config.providers.items():
        if entry.env_key is not None and not os.environ.get(entry.env_key, "").strip():
            raise MissingCredentialError(entry.env_key, name)
    from .clients import read_credential

    for role in hub.roles:
        for target in hub.resolve(role).targets:
            read_credential(target, role)


def _where(event: CallEvent) -> Payload:
    from .models import LLMMode

    mode: str = event.mode
    return {"role": event.role, "provider": event.provider, "model": event.model, "mode": LLMMode(mode)}


def _sent_params(
    params: Mapping[str, Any], override: Mapping[str, Any] | None, kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    merged = dict(params)
    for layer in (override or {}, kwargs):
        for key, value in layer.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
    return merged


_LEGACY_MODE_NOTES = {
    "audio": "mode 'audio' (llmhub-runtime 1.x) is served by completion() as a chat completion, as 1.x did; "
    "audio goes in and out through chat params (modalities, audio). For text to speech use mode 'speech', "
    "for speech to text mode 'transcription'",
    "other": "mode 'other' (llmhub-runtime 1.x) is served by completion() like 'chat', as 1.x did; "
    "give the role a specific mode if its model is not a chat model",
}


def legacy_notes(hub: LLMHub | Resolver) -> list[str]:
    """What ``llmhub check`` says about 1.x shapes it accepts: legacy modes, tool roles without tools, ``meta:``."""
    notes: list[str] = []
    config = hub.config
    for role in hub.roles:
        mode = hub.resolve(role).mode
        if mode in _LEGACY_MODE_NOTES:
            notes.append(f"role {role!r}: {_LEGACY_MODE_NOTES[mode]}")
        elif mode == "tool" and not config.roles[role].tools:
            notes.append(f"role {role!r}: mode 'tool' without 'tools:': each call must pass tools=[...]")
    if config.defaults.mode in _LEGACY_MODE_NOTES:
        notes.append(f"defaults: {_LEGACY_MODE_NOTES[config.defaults.mode]}")
    if config.meta:
        described = [name for name in config.meta if name in config.roles]
        notes.append(
            f"meta: generator notes for {len(described)} role{'s' if len(described) != 1 else ''} "
            "(llmhub generate); shown by 'llmhub explain', never used for calls"
        )
        notes.extend(f"meta: {name!r} is not a configured role" for name in config.meta if name not in config.roles)
    return notes
