"""Cache keys: a SHA-256 of everything that shapes an answer, and nothing that does not.

In the key: the mode, every target of the role's chain (provider entry, any-llm kind, model,
``api_base`` without credentials, merged params), the call's params and inputs (messages, tools,
``response_format``, ...). Left out: credentials, timeouts, retries, pricing, hooks, and whether
the caller streams (a streamed and a plain call share an answer). So a change to a role's model
or params in ``llmhub.yaml`` can never return an old answer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..models import ResolvedCall, Target

__all__ = [
    "KEY_VERSION",
    "NOT_OUTPUT_SHAPING",
    "call_fingerprint",
    "item_key",
    "item_keys",
    "request_key",
    "role_prefix",
]

KEY_VERSION = "llmhub-cache-1"

NOT_OUTPUT_SHAPING: frozenset[str] = frozenset(
    {"timeout", "stream", "stream_options", "api_key", "api_base", "extra_headers", "metadata", "user", "cache"}
)
"""Call params that never change what the model answers, so they stay out of the key."""


def _plain(value: Any) -> Any:
    """A JSON-ready form of ``value`` (pydantic models dumped, bytes hashed, floats exact)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return {"bytes": hashlib.sha256(value).hexdigest()}
    if isinstance(value, float):
        return repr(value) if not math.isfinite(value) else value
    if isinstance(value, str | int | bool) or value is None:
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return _plain(dump(mode="json"))
    if isinstance(value, type):
        schema = getattr(value, "model_json_schema", None)
        return {"type": f"{value.__module__}.{value.__qualname__}", "schema": schema() if callable(schema) else None}
    return {"repr": f"{type(value).__module__}.{type(value).__qualname__}"}


def _public_base(api_base: str | None) -> str | None:
    """``api_base`` without user, password or query (where keys are sometimes put)."""
    if not api_base:
        return api_base
    parts = urlsplit(api_base)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def _effective(params: Mapping[str, Any], layers: Sequence[Mapping[str, Any] | None]) -> dict[str, Any]:
    """The params one target is sent: its own, then each call layer (``None`` removes a key)."""
    merged = {k: v for k, v in params.items() if k not in NOT_OUTPUT_SHAPING}
    for layer in layers:
        for key, value in (layer or {}).items():
            if key in NOT_OUTPUT_SHAPING:
                continue
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
    return merged


def _target_part(target: Target, layers: Sequence[Mapping[str, Any] | None] = ()) -> dict[str, Any]:
    params = _effective(target.params, layers)
    return {
        "provider": target.provider,
        "kind": target.kind,
        "model": target.model,
        "api_base": _public_base(target.api_base),
        "params": _plain(params),
    }


def call_fingerprint(call: ResolvedCall) -> dict[str, Any]:
    """What a role resolves to, as far as answers go (its mode and every target); JSON-ready."""
    return {"mode": call.mode, "targets": [_target_part(target) for target in call.targets]}


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    raw = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def role_prefix(role: str) -> str:
    """Every key of ``role`` starts with this (so ``llmhub cache clear ROLE`` finds them)."""
    return hashlib.sha256(role.encode()).hexdigest()[:12] + ":"


def request_key(call: ResolvedCall, inputs: Any, layers: Sequence[Mapping[str, Any] | None]) -> str:
    """The key of one whole request: the role's targets with the params each is sent, and the inputs.

    ``layers`` are the call's own params (``params_override``, then keyword arguments).
    """
    payload = {
        "v": KEY_VERSION,
        "mode": call.mode,
        "targets": [_target_part(target, layers) for target in call.targets],
        "inputs": _plain(inputs),
    }
    return role_prefix(call.role) + _digest(payload)


def item_key(call: ResolvedCall, item: str, layers: Sequence[Mapping[str, Any] | None]) -> str:
    """The key of one embedding input (``item_keys`` for one item)."""
    return item_keys(call, [item], layers)[0]


def item_keys(call: ResolvedCall, items: Sequence[str], layers: Sequence[Mapping[str, Any] | None]) -> list[str]:
    """The keys of embedding inputs: the role's targets and params are serialised once, then each text added."""
    payload = {"v": KEY_VERSION, "mode": call.mode, "targets": [_target_part(t, layers) for t in call.targets]}
    head = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    prefix = role_prefix(call.role)
    keys = []
    for item in items:
        digest = hashlib.sha256(head + b"\x00" + item.encode()).digest()
        keys.append(prefix + base64.urlsafe_b64encode(digest).decode().rstrip("="))
    return keys
