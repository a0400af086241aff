"""Deterministic embeddings: SHA-256 of the text stretched into a unit-length float32 vector.

The same text always gives the same vector (across runs and machines); different texts give
different vectors. Values are rounded to float32, so the `float` and `base64` encodings of a
vector decode to exactly the same numbers.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Sequence

__all__ = ["DEFAULT_DIMENSIONS", "embed", "encode_base64", "to_float32"]

DEFAULT_DIMENSIONS = 16


def embed(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """A unit-length vector of `dimensions` float32 values derived from `text`."""
    if dimensions < 1:
        raise ValueError(f"dimensions must be >= 1, got {dimensions}")
    seed = hashlib.sha256(text.encode("utf-8")).digest()
    raw: list[float] = []
    counter = 0
    while len(raw) < dimensions:
        block = hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        raw.extend((value / 0xFFFF) * 2.0 - 1.0 for (value,) in struct.iter_unpack(">H", block))
        counter += 1
    raw = raw[:dimensions]
    norm = math.sqrt(sum(value * value for value in raw)) or 1.0
    return to_float32([value / norm for value in raw])


def to_float32(vector: Sequence[float]) -> list[float]:
    """Round every value to float32 precision."""
    return list(struct.unpack(f"<{len(vector)}f", struct.pack(f"<{len(vector)}f", *vector)))


def encode_base64(vector: Sequence[float]) -> str:
    """Little-endian float32 bytes, base64-encoded (what the OpenAI API sends for `base64`)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
