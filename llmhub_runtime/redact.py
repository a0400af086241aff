"""Masking secrets for display: keys in URLs, in header/``client_args`` mappings, and known values.

Secrets are masked as httpx masks a URL's password: ``[secure]``. A value is a secret when it is
the API key in use, when it sits under a sensitive name (``authorization``, ``x-api-key``,
``api_key``, ``token``, ``password``, ...), or in a URL's userinfo or sensitive query parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "is_sensitive_name", "mask_mapping", "mask_url", "scrub", "secret_values"]

MASK = "[secure]"
_SENSITIVE = re.compile(
    r"auth|key|token|secret|passw|pwd|cookie|session|signature|^sig$|credential|bearer", re.IGNORECASE
)
_MIN_SECRET = 4
"""Shorter values are not scrubbed from text: replacing ``"abc"`` everywhere would garble messages."""
_DEPTH = 8


def is_sensitive_name(name: object) -> bool:
    """Whether a header / argument / query parameter called ``name`` holds a credential."""
    return isinstance(name, str) and bool(_SENSITIVE.search(name))


def mask_url(url: str | None) -> str | None:
    """``url`` with its userinfo and sensitive query values replaced by ``[secure]``."""
    if not url or ("@" not in url and "?" not in url):
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, MASK if is_sensitive_name(k) else v) for k, v in pairs], safe="[]")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return MASK


def mask_mapping(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` (nested dicts / lists) with every sensitive-named entry masked; URLs masked too."""
    if _depth > _DEPTH:
        return MASK
    if isinstance(value, Mapping):
        return {
            k: (MASK if is_sensitive_name(k) and v is not None else mask_mapping(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_mapping(v, _depth + 1) for v in value]
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


def secret_values(*, api_key: str | None = None, api_base: str | None = None, extra: Any = None) -> tuple[str, ...]:
    """Every secret string to scrub from text: the key, credentials in ``api_base``, sensitive ``extra`` entries."""
    found: list[str] = []
    if api_key:
        found.append(api_key)
    if api_base and ("@" in api_base or "?" in api_base):
        try:
            parts = urlsplit(api_base)
            found += [parts.username or "", parts.password or ""]
            found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if is_sensitive_name(k)]
        except ValueError:
            found.append(api_base)
    found += _sensitive_strings(extra, 0)
    unique = {s for s in found if isinstance(s, str) and len(s) >= _MIN_SECRET}
    for value in list(unique):  # "Bearer sk-..." also hides the bare key
        head, _, rest = value.partition(" ")
        if head.lower() in ("bearer", "basic", "token") and len(rest) >= _MIN_SECRET:
            unique.add(rest)
    return tuple(sorted(unique, key=len, reverse=True))  # longest first: a key inside a header value


def _sensitive_strings(value: Any, depth: int) -> list[str]:
    if depth > _DEPTH or not isinstance(value, Mapping | list | tuple):
        return []
    if isinstance(value, Mapping):
        out: list[str] = []
        for k, v in value.items():
            if is_sensitive_name(k) and isinstance(v, str):
                out.append(v)
            else:
                out += _sensitive_strings(v, depth + 1)
        return out
    return [s for item in value for s in _sensitive_strings(item, depth + 1)]


def scrub(value: Any, secrets: Iterable[str], _depth: int = 0) -> Any:
    """``value`` with every occurrence of each secret in its strings (nested dicts / lists too) masked."""
    secrets = tuple(secrets)
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if _depth > _DEPTH:
        return value
    if isinstance(value, Mapping):
        return {scrub(k, secrets, _depth + 1): scrub(v, secrets, _depth + 1) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(scrub(v, secrets, _depth + 1) for v in value)
    if isinstance(value, list):
        return [scrub(v, secrets, _depth + 1) for v in value]
    return value
