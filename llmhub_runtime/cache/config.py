"""``cache:`` in ``llmhub.yaml``: per role (and under ``defaults``), which answers are kept and where."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CacheConfig"]


class CacheConfig(BaseModel):
    """A role's response cache: exact matches only, keyed by the resolved targets, params and inputs."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    ttl: float | None = Field(
        3600.0, gt=0, le=10 * 365 * 86400, description="Seconds an answer is kept; null keeps it until evicted."
    )
    backend: Literal["memory", "sqlite", "redis"] = Field(
        "memory", description="memory (this process, bounded), sqlite (a file; survives restarts), redis (shared)."
    )
    mode: Literal["exact"] = Field("exact", description="exact: same targets, params and inputs.")
    path: str | None = Field(None, description="sqlite: the database file (default: .llmhub-cache.sqlite).")
    url: str | None = Field(None, description="redis: redis://host:port/db (default: $LLMHUB_REDIS_URL).")
    max_entries: int = Field(10_000, ge=1, le=10_000_000, description="memory: entries kept (least recently used go).")
    sampled: bool = Field(
        True,
        description=(
            "Also cache calls whose temperature (or top_p) makes the model sample (> 0). "
            "false: such calls bypass the cache."
        ),
    )

    def __repr__(self) -> str:
        return f"CacheConfig(backend={self.backend!r}, ttl={self.ttl!r}, mode={self.mode!r})"
