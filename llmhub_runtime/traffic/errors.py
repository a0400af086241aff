"""Errors of traffic control. Each is a ``ProviderError`` raised *instead of* sending a request.

::

    ProviderError
    └── TrafficLimitError               a configured limit has no room (.scope .limit .retry_after)
        ├── TargetCoolingDownError      the target's circuit breaker is open (or its probe is out)
        └── TrafficStateError           the shared state (Redis) is unavailable and fail: closed

Like any failure of a target, they move the call to its next target; the planner never retries them.
"""

from __future__ import annotations

from typing import Any

from ..errors import ProviderError

__all__ = ["TargetCoolingDownError", "TrafficLimitError", "TrafficStateError"]


class TrafficLimitError(ProviderError):
    """A limit llmhub enforces has no room for this call within what it may wait; nothing was sent."""

    def __init__(
        self, message: str, *, scope: str | None = None, limit: str | None = None, retry_after: float | None = None,
        **fields: Any,
    ) -> None:  # fmt: skip
        super().__init__(message, **fields)
        self.scope = scope
        self.limit = limit
        self.retry_after = retry_after


class TargetCoolingDownError(TrafficLimitError):
    """The target failed repeatedly (or said Retry-After) and is skipped by every worker until it cools down."""


class TrafficStateError(TrafficLimitError):
    """The shared traffic state cannot be reached and the config says ``fail: closed``."""
