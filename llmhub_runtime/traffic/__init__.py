"""Traffic control shared across workers: rate limits, budgets, cooldowns and weighted splits.

Configured in ``llmhub.yaml`` (``limits:``, ``cooldown:``, ``weight:`` on roles, inline
fallbacks and provider entries; ``traffic:`` at the top for the state) and applied by the hub
around every attempt. State is in-process by default; ``traffic.state: redis://...`` shares it
between every worker through Redis (extra ``llmhub-runtime[redis]``).

This package imports nothing heavy: redis-py is imported only when a Redis state is used.
"""

from .config import Budget, Cooldown, Limits, LimitScope, TrafficConfig
from .errors import TargetCoolingDownError, TrafficLimitError, TrafficStateError
from .split import split_key

__all__ = [
    "Budget",
    "Cooldown",
    "LimitScope",
    "Limits",
    "TargetCoolingDownError",
    "TrafficConfig",
    "TrafficLimitError",
    "TrafficStateError",
    "split_key",
]
