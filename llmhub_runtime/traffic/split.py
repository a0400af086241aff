"""Weighted splits between a role's targets (``weight:``), sticky by an optional key.

The targets with a ``weight`` share the role's traffic: one of them, picked by weight, goes
first and the rest of the chain follows in its configured order (so the others stay fallbacks).
Inside ``with split_key("tenant-42"):`` the pick is a hash of the role and the key — the same
tenant or session always lands on the same target (sticky canaries); without a key it is random.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import ResolvedCall

__all__ = ["choose", "current_split_key", "reorder", "split_key"]

_KEY: ContextVar[str | None] = ContextVar("llmhub_split_key", default=None)


@contextmanager
def split_key(key: str) -> Iterator[None]:
    """Route the calls made inside the block by ``key`` (a tenant, user or session id)."""
    if not isinstance(key, str):
        from ..errors import InvalidInputError

        raise InvalidInputError(f"split_key() takes a string, not {type(key).__name__}")
    token = _KEY.set(key)
    try:
        yield
    finally:
        _KEY.reset(token)


def current_split_key() -> str | None:
    """The key set by the innermost ``split_key`` block, if any."""
    return _KEY.get()


def _unit(role: str, key: str) -> float:
    digest = hashlib.sha256(f"{role}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose(call: ResolvedCall, key: str | None, rng: random.Random) -> int:
    """The index of the target that goes first (0 when no target has a weight)."""
    weighted = [(index, target.weight) for index, target in enumerate(call.targets) if target.weight]
    total = sum(weight for _, weight in weighted)
    if not total:
        return 0
    point = (_unit(call.role, key) if key is not None else rng.random()) * total
    for index, weight in weighted:
        point -= weight
        if point < 0:
            return index
    return weighted[-1][0]


def reorder(call: ResolvedCall, first: int) -> ResolvedCall:
    """``call`` with target ``first`` moved to the front."""
    if first == 0:
        return call
    targets = call.targets
    return call.model_copy(update={"targets": (targets[first], *targets[:first], *targets[first + 1 :])})
