"""any-llm's unified exceptions → llmhub's, in one place (like httpx's ``map_httpcore_exceptions``).

any-llm (with ``unified_exceptions=True``) already turns each SDK's error into one of its own
classes by HTTP status; this module maps those classes onto llmhub's tree, most specific
first, tells timeouts and dropped connections apart by the SDK exception's type (never by its
message), and stamps role/provider/model once. The API key in use is scrubbed from messages.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import errors as e

if TYPE_CHECKING:
    from .models import Target

__all__ = ["map_exception", "parse_retry_after"]

_TIMEOUT_TYPES = frozenset(
    {"APITimeoutError", "TimeoutException", "ReadTimeout", "ConnectTimeout", "WriteTimeout", "PoolTimeout"}
)
_CONNECTION_TYPES = frozenset(
    {"APIConnectionError", "ConnectError", "RemoteProtocolError", "ReadError", "NetworkError", "TransportError"}
)


def _type_names(exc: BaseException | None) -> set[str]:
    names: set[str] = set()
    seen = 0
    while exc is not None and seen < 6:  # the SDK error, and what it was raised from
        names.update(cls.__name__ for cls in type(exc).__mro__)
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return names


def _pick(exc: Exception) -> type[e.ProviderError]:
    """The llmhub class for an any-llm exception; most specific wins."""
    import any_llm.exceptions as ax

    status = getattr(exc, "status_code", None)
    table: tuple[tuple[type[Exception], type[e.ProviderError]], ...] = (
        (ax.ContextLengthExceededError, e.ContextLengthError),
        (ax.ContentFilterError, e.ContentFilterError),
        (ax.RateLimitError, e.RateLimitError),
        (ax.AuthenticationError, e.AuthenticationError),
        (ax.ModelNotFoundError, e.ModelNotFoundError),
        (ax.UnsupportedParameterError, e.BadRequestError),
        (ax.InvalidRequestError, e.BadRequestError),
        (ax.UpstreamProviderError, e.ProviderServerError),
        (ax.GatewayTimeoutError, e.ProviderServerError),
    )
    for source, target in table:
        if isinstance(exc, source):
            return target
    names = _type_names(getattr(exc, "original_exception", None) or exc)
    if names & _TIMEOUT_TYPES or isinstance(exc, TimeoutError):
        return e.ProviderTimeoutError
    if names & _CONNECTION_TYPES or isinstance(exc, ConnectionError):
        return e.ProviderConnectionError
    if isinstance(status, int) and 400 <= status < 500:
        return e.BadRequestError if status in (400, 422) else e.ProviderError
    return e.ProviderServerError


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value: a number, or an HTTP-date (relative to ``now``)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _headers(exc: Exception) -> Mapping[str, str]:
    original = getattr(exc, "original_exception", None)
    headers = getattr(getattr(original, "response", None), "headers", None)
    try:
        return {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}
    except (TypeError, ValueError):
        return {}


def map_exception(exc: Exception, *, target: Target, role: str, api_key: str | None) -> e.ProviderError:
    """Turn an exception raised by an any-llm call into the matching llmhub ``ProviderError``."""
    cls = _pick(exc)
    secret = api_key if api_key and len(api_key) >= 4 else None
    message = _scrub(str(getattr(exc, "message", None) or exc) or type(exc).__name__, secret)
    original = getattr(exc, "original_exception", None)
    fields: dict[str, Any] = {
        "role": role,
        "provider": target.provider,
        "model": target.model,
        "status_code": getattr(exc, "status_code", None),
        "body": _scrub(getattr(original, "body", None), secret),
        "headers": _scrub(_headers(exc), secret),
    }
    if cls is e.RateLimitError:
        return e.RateLimitError(message, retry_after=parse_retry_after(getattr(exc, "retry_after", None)), **fields)
    return cls(message, **fields)


def _scrub(value: Any, secret: str | None) -> Any:
    """``value`` with every occurrence of ``secret`` in its strings replaced by ``[secure]``."""
    if secret is None:
        return value
    if isinstance(value, str):
        return value.replace(secret, "[secure]")
    if isinstance(value, Mapping):
        return {k: _scrub(v, secret) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, secret) for v in value]
    return value
