"""any-llm's exceptions → llmhub's, in one place (like httpx's ``map_httpcore_exceptions``).

Classification uses the HTTP status and the exception types only, never message text (any-llm's
own class is a guess from the message when a status is ambiguous, so it is not trusted):

==============================  ==============================================================
status / type                   llmhub error
==============================  ==============================================================
401, 403                        ``AuthenticationError``
404                             ``ModelNotFoundError``
408                             ``ProviderTimeoutError`` (retried)
413                             ``RequestTooLargeError``
429                             ``RateLimitError``
400, 422                        ``BadRequestError``; ``ContextLengthError`` / ``ContentFilterError``
                                when the body's structured ``code`` / ``type`` says so (OpenAI's
                                ``context_length_exceeded``, ``content_filter``, ...)
other 4xx                       ``ProviderError`` (not retried)
5xx, 529, unreadable answer     ``ProviderServerError``
timeout / connection types      ``ProviderTimeoutError`` / ``ProviderConnectionError``
==============================  ==============================================================

A mistake made locally, before any request (a ``TypeError`` / ``ValueError`` raised while the SDK
builds the request: ``tools="x"``, content that is not JSON, NaN, ``timeout="abc"``), raises
``InvalidInputError``; the local machine's own failures (``EMFILE``, ``ENOMEM``, ...) re-raise
their ``OSError``. Neither is retried.

The exceptions the SDK raised stay reachable as ``__cause__`` (types kept), but scrubbed in place
first: every secret (the key in use, credentials in ``api_base`` or ``client_args``) is replaced by
``[secure]`` in messages, bodies and headers; request / response objects become
``RequestSnapshot`` / ``ResponseSnapshot`` (method, masked URL, masked headers, status, text); and
their tracebacks, whose frames hold the SDK's locals (headers, the client), are replaced by a note
listing the innermost frames. Nothing printable or reachable from an llmhub error holds the key.
"""

from __future__ import annotations

import contextlib
import email.utils
import errno
import json
import re
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlsplit

from . import errors as e
from .models import Target
from .redact import MASK, is_sensitive_name, mask_url, scrub, secret_values

__all__ = [
    "RequestSnapshot",
    "ResponseSnapshot",
    "is_params_validation",
    "map_exception",
    "parse_retry_after",
    "scrub_exception",
]

_TIMEOUT_TYPES = frozenset(
    {"APITimeoutError", "TimeoutException", "ReadTimeout", "ConnectTimeout", "WriteTimeout", "PoolTimeout",
     "ServerTimeoutError", "SocketTimeoutError"}
)  # fmt: skip
_CONNECTION_TYPES = frozenset(
    {"APIConnectionError", "ConnectError", "RemoteProtocolError", "ReadError", "WriteError", "NetworkError",
     "TransportError", "ClientConnectionError", "ClientConnectorError", "ServerDisconnectedError", "ClientOSError"}
)  # fmt: skip
_UNREADABLE_TYPES = frozenset(
    {"JSONDecodeError", "APIResponseValidationError", "ResponseValidationError", "DecodingError",
     "ContentTypeError", "ClientPayloadError", "IncompleteRead"}
)  # fmt: skip
"""The answer arrived but cannot be read: the provider's fault."""
_LOCAL_RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS, errno.ENOSPC})
_CONTEXT_CODES = frozenset({"context_length_exceeded", "context_window_exceeded", "string_above_max_length"})
_FILTER_CODES = frozenset(
    {"content_filter", "content_policy_violation", "content_filtered", "responsibleaipolicyviolation"}
)
_RESPONSE_HEADERS_MASKED = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "x-goog-api-key"}
)
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})  # noqa: S104 - a name to compare, not a bind
_ANSWER_FRAME = re.compile(r"response(?!s)|chunk")
"""``_process_response``, ``_convert_completion_response``, ``..._chunk``: not ``responses()`` (a hub method)."""
_ANY_LLM_PARAMS = frozenset(
    {"CompletionParams", "ResponsesParams", "MessagesParams", "ImageGenerationParams", "ImageEditParams",
     "AudioSpeechParams", "AudioTranscriptionParams", "EmbeddingParams", "RerankParams", "ModerationParams"}
)  # fmt: skip
"""any-llm's models of a call's parameters (``any_llm.types``): a ``ValidationError`` on one is a usage mistake."""
_MAX_CHAIN = 16
_FRAMES_KEPT = 6
_TEXT_KEPT = 4000


# --- classification ------------------------------------------------------------------------------


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and everything it was raised from (causes, contexts, ``original_exception``), each once."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < _MAX_CHAIN:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        original = getattr(current, "original_exception", None)
        todo += [original if isinstance(original, BaseException) else None, current.__cause__, current.__context__]
    return seen


def _names(chain: list[BaseException]) -> set[str]:
    return {cls.__name__ for x in chain for cls in type(x).__mro__}


def _status(exc: BaseException, chain: list[BaseException]) -> int | None:
    for x in chain:
        for value in (getattr(x, "status_code", None), getattr(getattr(x, "response", None), "status_code", None)):
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None


def _codes(chain: list[BaseException]) -> set[str]:
    """The structured error identifiers the provider sent (``code``, ``type``), lower-cased."""
    found: set[str] = set()
    for x in chain:
        for name in ("code", "error_type", "type"):
            value = getattr(x, name, None)
            if isinstance(value, str):
                found.add(value.lower())
        body = getattr(x, "body", None)
        for part in (body, body.get("error") if isinstance(body, Mapping) else None):
            if isinstance(part, Mapping):
                found.update(str(part[k]).lower() for k in ("code", "type") if isinstance(part.get(k), str))
    return found


def _by_status(status: int, chain: list[BaseException]) -> type[e.ProviderError]:
    if status in (401, 403):
        return e.AuthenticationError
    if status == 404:
        return e.ModelNotFoundError
    if status == 408:
        return e.ProviderTimeoutError
    if status == 413:
        return e.RequestTooLargeError
    if status == 429:
        return e.RateLimitError
    if status in (400, 422):
        codes = _codes(chain)
        if codes & _CONTEXT_CODES:
            return e.ContextLengthError
        if codes & _FILTER_CODES:
            return e.ContentFilterError
        return e.BadRequestError
    if 400 <= status < 500:
        return e.ProviderError
    return e.ProviderServerError  # 5xx, 529, or a 2xx whose body could not be read


def _raised_reading_answer(chain: list[BaseException]) -> bool:
    """Whether a plain exception came from reading an answer (a response / chunk converter frame)."""
    for x in chain:
        for frame in traceback.extract_tb(x.__traceback__):
            if _ANSWER_FRAME.search(frame.name.lower()):
                return True
    return False


def _local_failure(chain: list[BaseException]) -> BaseException | None:
    """The exception to blame when the failure happened on this machine, before any request; else None."""
    for x in chain:
        if isinstance(x, OSError) and x.errno in _LOCAL_RESOURCE_ERRNOS:
            return x
    names = _names(chain)
    if names & _UNREADABLE_TYPES or any(isinstance(x, json.JSONDecodeError) for x in chain):
        return None
    transport = {n for n in names if n in _TIMEOUT_TYPES or n in _CONNECTION_TYPES}
    plain = [
        x for x in chain
        if type(x).__module__ == "builtins" and isinstance(x, TypeError | ValueError | AttributeError | KeyError)
    ]  # fmt: skip
    if not plain or _raised_reading_answer(chain):
        return None
    if transport and any(isinstance(x, OSError) or type(x).__module__.startswith(("httpx", "httpcore", "aiohttp"))
                         for x in chain):  # fmt: skip
        return None  # a real transport failure, which wraps an OSError or the HTTP library's own error
    return plain[-1]


def _pick(chain: list[BaseException], status: int | None) -> type[e.ProviderError]:
    """The llmhub class for a provider failure; the status decides, then the exception types."""
    import any_llm.exceptions as ax

    if status is not None:
        return _by_status(status, chain)
    names = _names(chain)
    if names & _TIMEOUT_TYPES or any(isinstance(x, TimeoutError) for x in chain):
        return e.ProviderTimeoutError
    if names & _CONNECTION_TYPES or any(isinstance(x, ConnectionError) for x in chain):
        return e.ProviderConnectionError
    top = chain[0]
    if top.__dict__.get("original_exception") is None:  # raised by any-llm itself, so its type is meant
        if isinstance(top, ax.UnsupportedParameterError | ax.InvalidRequestError):
            return e.BadRequestError
        if isinstance(top, ax.ContentFilterError | ax.ContentFilterFinishReasonError):
            return e.ContentFilterError
    return e.ProviderServerError


# --- Retry-After ---------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value: a number, or an HTTP-date (relative to ``now``)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds and seconds != float("inf") else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _response_headers(chain: list[BaseException]) -> dict[str, str]:
    for x in chain:
        headers = getattr(getattr(x, "response", None), "headers", None)
        if headers is None:
            continue
        try:
            return {str(k).lower(): str(v) for k, v in dict(headers).items()}
        except (TypeError, ValueError):
            return {}
    return {}


def _retry_after(headers: Mapping[str, str], exc: BaseException) -> float | None:
    seconds = parse_retry_after(headers.get("retry-after"))
    if seconds is None and "retry-after-ms" in headers:
        ms = parse_retry_after(headers["retry-after-ms"])
        seconds = None if ms is None else ms / 1000
    if seconds is None:
        raw = getattr(exc, "retry_after", None)
        seconds = parse_retry_after(raw) if isinstance(raw, str) else None
    return seconds


# --- the mapping ---------------------------------------------------------------------------------


def is_params_validation(exc: BaseException) -> bool:
    """Whether ``exc`` is any-llm rejecting the call's parameters (a pydantic error on one of its params models).

    Told by type and the model's name (``ValidationError.title``), never by the message; a
    validation error on an answer (a ``response_format`` model) is not one of these.
    """
    title = getattr(exc, "title", None)
    return (
        type(exc).__name__ == "ValidationError"
        and type(exc).__module__.startswith("pydantic")
        and title in _ANY_LLM_PARAMS
    )


def map_exception(exc: Exception, *, target: Target, role: str, api_key: str | None) -> e.ProviderError:
    """The llmhub ``ProviderError`` for an exception raised by an any-llm call (``exc`` is scrubbed in place).

    Raises ``InvalidInputError`` (from ``exc``) for a mistake made locally before any request, and
    re-raises the ``OSError`` of a local resource failure (``EMFILE``, ...): neither is the provider's.
    """
    from .clients import NO_KEY

    if is_params_validation(exc):
        _raise_invalid_params(exc, target)
    secrets = secret_values(
        api_key=None if api_key == NO_KEY else api_key, api_base=target.api_base, extra=target.client_args
    )
    chain = _chain(exc)
    local = _local_failure(chain)
    status = _status(exc, chain)
    cls = _pick(chain, status)
    headers = _response_headers(chain)
    retry_after = _retry_after(headers, exc)
    original = getattr(exc, "original_exception", None)
    body = getattr(original, "body", None)
    if body is None:
        body = getattr(exc, "body", None)
    raw_message = str(getattr(exc, "message", None) or exc) or type(exc).__name__
    scrub_exception(exc, secrets)
    if local is not None:
        _raise_local(local, exc, target, secrets)
    message = scrub(raw_message, secrets)
    fields: dict[str, Any] = {
        "role": role,
        "provider": target.provider,
        "model": target.model,
        "status_code": status,
        "body": scrub(body, secrets),
        "headers": _masked_headers(headers, secrets, _RESPONSE_HEADERS_MASKED.__contains__),
        "retry_after": retry_after,
    }
    if cls is e.ProviderConnectionError:
        message = _connection_message(target, message, chain, secrets)
    return cls(message, **fields)


def _raise_local(local: BaseException, exc: BaseException, target: Target, secrets: tuple[str, ...]) -> NoReturn:
    if isinstance(local, OSError):
        raise local
    detail = scrub(f"{type(local).__name__}: {local}", secrets)
    raise e.InvalidInputError(
        f"The call to {target.label} could not be built, so nothing was sent ({detail}). A parameter or the "
        "message content has the wrong type or a value that is not JSON (e.g. tools must be a list of dicts, "
        "timeout a number, floats finite); fix the call or the role's params."
    ) from exc


def _raise_invalid_params(exc: BaseException, target: Target) -> NoReturn:
    errors = getattr(exc, "errors", None)
    details = errors(include_url=False, include_input=False) if callable(errors) else []
    problems = "; ".join(f"{'.'.join(str(p) for p in d['loc']) or '?'}: {d['msg']}" for d in details[:10])
    raise e.InvalidInputError(
        f"Invalid call parameter(s) for {target.label}, nothing was sent: {problems or exc}. Fix the call's "
        "arguments, params_override or the role's params."
    ) from exc


def _connection_message(target: Target, detail: str, chain: list[BaseException], secrets: tuple[str, ...]) -> str:
    base = mask_url(target.api_base)
    where = base or f"any-llm's default endpoint for {target.kind!r}"
    deepest = next((x for x in reversed(chain) if str(x)), None)
    reason = scrub(str(deepest), secrets) if deepest is not None else detail
    if reason != detail and detail:
        reason = f"{detail} {reason}"
    host = ""
    if target.api_base:
        try:
            host = urlsplit(target.api_base).hostname or ""
        except ValueError:
            host = ""
    if host in _LOOPBACK:
        fix = (
            "Is the server running? `llmhub serve-local` starts the local model and prints the export to set; "
            "`llmhub doctor --ping` checks the endpoint."
        )
    else:
        fix = (
            f"Check providers.{target.provider}.api_base and your network; `llmhub doctor --ping` checks the endpoint."
        )
    return f"Connection to {where} failed ({reason}). {fix}"


# --- scrubbing the SDK's exceptions --------------------------------------------------------------


@dataclass(frozen=True)
class RequestSnapshot:
    """What is left of an HTTP request on a scrubbed exception: method, masked URL, masked headers."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ResponseSnapshot:
    """What is left of an HTTP response on a scrubbed exception (``text`` capped at 4,000 characters)."""

    status_code: int | None
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    request: RequestSnapshot | None = None

    def json(self) -> Any:
        """The body parsed as JSON (like ``httpx.Response.json``)."""
        return json.loads(self.text)


def scrub_exception(exc: BaseException, secrets: tuple[str, ...]) -> None:
    """Scrub ``exc`` and its whole chain in place: secrets masked, requests / responses snapshotted, no frames."""
    for x in _chain(exc):
        _scrub_one(x, secrets)


def _scrub_one(x: BaseException, secrets: tuple[str, ...]) -> None:
    tb = x.__traceback__
    if tb is not None:
        frames = traceback.extract_tb(tb)[-_FRAMES_KEPT:]
        x.__traceback__ = None
        where = "".join(traceback.format_list(frames))
        note = f"raised at (innermost last, frames dropped by llmhub to keep secrets out):\n{where}"
        x.add_note(scrub(note.rstrip("\n"), secrets))
    notes = getattr(x, "__notes__", None)
    if isinstance(notes, list):
        x.__notes__ = [scrub(n, secrets) if isinstance(n, str) else n for n in notes]
    with contextlib.suppress(TypeError, AttributeError):
        x.args = tuple(_clean(a, secrets) for a in x.args)
    for name, value in list(vars(x).items()):
        if name == "__notes__" or isinstance(value, BaseException):
            continue
        cleaned = _clean(value, secrets)
        if cleaned is not value:
            with contextlib.suppress(AttributeError, TypeError):
                object.__setattr__(x, name, cleaned)


def _clean(value: Any, secrets: tuple[str, ...]) -> Any:
    if value is None or isinstance(value, bool | int | float | BaseException):
        return value
    if isinstance(value, str | Mapping | list | tuple):
        cleaned = scrub(value, secrets)
        return value if cleaned == value else cleaned
    if _looks_like(value, "Response"):
        return _response_snapshot(value, secrets)
    if _looks_like(value, "Request"):
        return _request_snapshot(value, secrets)
    try:
        text = repr(value)
    except Exception:
        return value
    if any(s in text for s in secrets):
        return scrub(text, secrets)
    return value


def _looks_like(value: Any, kind: str) -> bool:
    return type(value).__name__.endswith(kind) and hasattr(value, "headers")


def _masked_headers(headers: Any, secrets: tuple[str, ...], sensitive: Any = is_sensitive_name) -> dict[str, str]:
    try:
        items = dict(headers or {}).items()
    except (TypeError, ValueError):
        return {}
    return {str(k).lower(): MASK if sensitive(str(k).lower()) else scrub(str(v), secrets) for k, v in items}


def _request_snapshot(request: Any, secrets: tuple[str, ...]) -> RequestSnapshot:
    return RequestSnapshot(
        method=str(getattr(request, "method", "")),
        url=scrub(mask_url(str(getattr(request, "url", ""))) or "", secrets),
        headers=_masked_headers(getattr(request, "headers", None), secrets),
    )


def _response_snapshot(response: Any, secrets: tuple[str, ...]) -> ResponseSnapshot:
    try:
        text = str(response.text)[:_TEXT_KEPT]
    except Exception:  # a streamed body that was not read
        text = ""
    try:
        request = response.request
    except Exception:  # httpx raises when a response has no request
        request = None
    status = getattr(response, "status_code", None)
    return ResponseSnapshot(
        status_code=status if isinstance(status, int) else None,
        headers=_masked_headers(getattr(response, "headers", None), secrets, _RESPONSE_HEADERS_MASKED.__contains__),
        text=scrub(text, secrets),
        request=None if request is None else _request_snapshot(request, secrets),
    )
