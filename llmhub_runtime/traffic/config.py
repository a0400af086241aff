"""Config models of traffic control: ``limits:``, ``cooldown:``, ``weight:`` and the top-level ``traffic:``.

All frozen and strict, like every other model of ``llmhub.yaml``. ``LimitScope`` is what the
resolver attaches to a ``Target``: one ``Limits`` block and the name of the counters it uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Budget", "Cooldown", "LimitScope", "Limits", "Period", "RequestWindow", "TrafficConfig", "mask_url"]

Period = Literal["minute", "hour", "day", "week", "month"]
"""Budget periods, aligned to UTC: weeks start on Monday, months on the 1st."""

_LIMIT_FIELDS = ("rps", "rpm", "rpd", "requests", "tpm", "max_concurrent", "budget")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False, defer_build=True)


class Budget(_Frozen):
    """A spending cap per period, priced from the target's ``pricing``."""

    amount: float = Field(gt=0, description="Most that may be spent per period, in the pricing's currency.")
    period: Period = Field("day", description="minute, hour, day, week or month (UTC).")


class RequestWindow(_Frozen):
    """``count`` requests per sliding window of ``seconds`` (e.g. Azure OpenAI's 10-second windows)."""

    count: int = Field(ge=1, description="Requests allowed in any window of this length.")
    seconds: float = Field(gt=0, le=86400, description="The window's length in seconds.")


class Limits(_Frozen):
    """Limits checked together before each attempt: all must have room, or none is charged."""

    rps: int | None = Field(None, ge=1, description="Requests per second (sliding one-second window).")
    rpm: int | None = Field(None, ge=1, description="Requests per minute (sliding 60-second window).")
    rpd: int | None = Field(None, ge=1, description="Requests per day (sliding 24-hour window).")
    requests: RequestWindow | None = Field(None, description="Requests per custom window: {count: N, seconds: S}.")
    tpm: int | None = Field(
        None,
        ge=1,
        description="Input + output tokens per minute; each call reserves its estimate first, settled after.",
    )
    max_concurrent: int | None = Field(None, ge=1, description="Requests in flight at once.")
    budget: Budget | None = None
    policy: Literal["wait", "next"] = Field(
        "wait",
        description="When a limit is reached: wait for room (bounded by the timeout) or move to the next target.",
    )
    per: Literal["entry", "model"] = Field(
        "entry",
        description="Provider entries only: one set of counters for the entry, or one per model.",
    )

    @model_validator(mode="after")
    def _something_limited(self) -> Limits:
        if all(getattr(self, name) is None for name in _LIMIT_FIELDS):
            raise ValueError(f"limits need at least one of {', '.join(_LIMIT_FIELDS)}")
        return self

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _LIMIT_FIELDS if getattr(self, name))
        return f"Limits({shown}, policy={self.policy!r})"


class Cooldown(_Frozen):
    """Circuit breaker of one target: after ``failures`` in a row it is skipped for ``seconds``."""

    failures: int = Field(3, ge=1, le=1000, description="Consecutive transient failures that trip it.")
    seconds: float = Field(30.0, gt=0, le=86400, description="How long a tripped target is skipped.")


class LimitScope(_Frozen):
    """One ``limits:`` block and the name of its counters (shared by every worker on the same state)."""

    scope: str
    limits: Limits
    where: str = Field(description="The config key that set it, for messages.")


class TrafficConfig(_Frozen):
    """The top-level ``traffic:`` key: where limit and cooldown state lives."""

    state: str = Field(
        "memory",
        description="memory (this process only) or a Redis URL (redis://, rediss://, unix://) shared by workers.",
    )
    fail: Literal["open", "closed"] = Field(
        "open",
        description="Redis down or slow: open = fall back to in-process limits; closed = refuse the call.",
    )
    timeout: float = Field(0.25, gt=0, le=10, description="Seconds allowed per Redis operation.")
    prefix: str = Field("llmhub", min_length=1, description="Prefix of every Redis key (one hash tag).")
    max_wait: float = Field(
        60.0, ge=0, le=3600, description="Longest wait for a limit when the target has no timeout, in seconds."
    )

    @field_validator("state")
    @classmethod
    def _known_state(cls, value: str) -> str:
        if value == "memory" or value.split("://", 1)[0] in ("redis", "rediss", "unix"):
            return value
        raise ValueError(f"state must be 'memory' or a redis://, rediss:// or unix:// URL, not {mask_url(value)!r}")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if name == "state" else value


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``[secure]``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "[secure]"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:[secure]@{host}{port}"))
