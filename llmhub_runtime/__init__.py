"""llmhub: call LLMs by role from a validated ``llmhub.yaml``; every provider call goes through any-llm.

>>> from llmhub_runtime import LLMHub
>>> hub = LLMHub("llmhub.yaml")                                   # doctest: +SKIP
>>> hub.completion("llm.inference", "Say hi").choices[0].message   # doctest: +SKIP

Importing this package imports no provider SDK; any-llm is loaded on the first call.
"""

from __future__ import annotations

from .config_loader import config_from_dict, load_config
from .envs import UnknownEnvError
from .errors import (
    AllTargetsFailedError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConfigNotFoundError,
    ConfigProblem,
    ConfigSyntaxError,
    ConfigValidationError,
    ContentFilterError,
    ContextLengthError,
    HubClosedError,
    InvalidInputError,
    LLMHubError,
    MissingCredentialError,
    ModelNotFoundError,
    ModeMismatchError,
    ProviderConnectionError,
    ProviderError,
    ProviderServerError,
    ProviderTimeoutError,
    RateLimitError,
    StreamInterruptedError,
    TargetFailure,
    UnknownRoleError,
    UsageError,
)
from .hooks import CallEvent, Hook, Usage
from .hub import LLMHub
from .models import (
    DefaultsConfig,
    EnvOverlay,
    FallbackConfig,
    Pricing,
    ProviderConfig,
    ResolvedCall,
    RetryPolicy,
    RoleConfig,
    RuntimeConfig,
    Target,
)
from .retry import Timer
from .usage import UsageReport, UsageStats

__version__ = "0.1.0"

__all__ = [
    "AllTargetsFailedError",
    "AuthenticationError",
    "BadRequestError",
    "CallEvent",
    "ConfigError",
    "ConfigNotFoundError",
    "ConfigProblem",
    "ConfigSyntaxError",
    "ConfigValidationError",
    "ContentFilterError",
    "ContextLengthError",
    "DefaultsConfig",
    "EnvOverlay",
    "FallbackConfig",
    "Hook",
    "HubClosedError",
    "InvalidInputError",
    "LLMHub",
    "LLMHubError",
    "MissingCredentialError",
    "ModeMismatchError",
    "ModelNotFoundError",
    "Pricing",
    "ProviderConfig",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderServerError",
    "ProviderTimeoutError",
    "RateLimitError",
    "ResolvedCall",
    "RetryPolicy",
    "RoleConfig",
    "RuntimeConfig",
    "StreamInterruptedError",
    "Target",
    "TargetFailure",
    "Timer",
    "UnknownEnvError",
    "UnknownRoleError",
    "Usage",
    "UsageError",
    "UsageReport",
    "UsageStats",
    "__version__",
    "config_from_dict",
    "load_config",
]
