"""llmhub: call LLMs by role from a validated ``llmhub.yaml``; every provider call goes through any-llm.

>>> from llmhub_runtime import LLMHub
>>> hub = LLMHub("llmhub.yaml")                                   # doctest: +SKIP
>>> hub.completion("llm.inference", "Say hi").choices[0].message   # doctest: +SKIP

Importing this package imports no provider SDK, nor pydantic or yaml: public names load on first use,
and any-llm on the first call.
"""

from __future__ import annotations

import typing

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
    EnvVarMissingError,
    HubClosedError,
    InvalidInputError,
    LLMHubError,
    LLMHubRuntimeError,
    MissingCredentialError,
    ModelNotFoundError,
    ModeMismatchError,
    ProviderConnectionError,
    ProviderError,
    ProviderServerError,
    ProviderTimeoutError,
    RateLimitError,
    RequestTooLargeError,
    StreamInterruptedError,
    TargetFailure,
    UnknownEnvError,
    UnknownProviderError,
    UnknownRoleError,
    UsageError,
)

if typing.TYPE_CHECKING:
    from .config_loader import config_from_dict, load_config
    from .hooks import CallEvent, Hook, Usage
    from .hub import LLMHub
    from .models import (
        DefaultsConfig,
        EnvOverlay,
        FallbackConfig,
        LLMMode,
        Pricing,
        ProviderConfig,
        ResolvedCall,
        RetryPolicy,
        RoleConfig,
        RoleDefaultsConfig,
        RuntimeConfig,
        Target,
    )
    from .retry import Timer
    from .usage import UsageReport, UsageStats

_LAZY = {
    "CallEvent": "hooks",
    "DefaultsConfig": "models",
    "EnvOverlay": "models",
    "FallbackConfig": "models",
    "Hook": "hooks",
    "LLMHub": "hub",
    "LLMMode": "models",
    "Pricing": "models",
    "ProviderConfig": "models",
    "ResolvedCall": "models",
    "RetryPolicy": "models",
    "RoleConfig": "models",
    "RoleDefaultsConfig": "models",
    "RuntimeConfig": "models",
    "Target": "models",
    "Timer": "retry",
    "Usage": "hooks",
    "UsageReport": "usage",
    "UsageStats": "usage",
    "config_from_dict": "config_loader",
    "load_config": "config_loader",
}
"""Public names imported on first use (PEP 562), so ``import llmhub_runtime`` stays cheap.

The errors are imported eagerly: ``except llmhub_runtime.LLMHubError`` must never import more.
"""


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llmhub_runtime' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__version__ = "2.0.0"
"""2.x: the successor of the published llmhub-runtime 1.0.x (see docs/migration.md), so ``pip install -U``
never replaces it with 1.0.3."""

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
    "EnvVarMissingError",
    "FallbackConfig",
    "Hook",
    "HubClosedError",
    "InvalidInputError",
    "LLMHub",
    "LLMHubError",
    "LLMHubRuntimeError",
    "LLMMode",
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
    "RequestTooLargeError",
    "ResolvedCall",
    "RetryPolicy",
    "RoleConfig",
    "RoleDefaultsConfig",
    "RuntimeConfig",
    "StreamInterruptedError",
    "Target",
    "TargetFailure",
    "Timer",
    "UnknownEnvError",
    "UnknownProviderError",
    "UnknownRoleError",
    "Usage",
    "UsageError",
    "UsageReport",
    "UsageStats",
    "__version__",
    "config_from_dict",
    "load_config",
]
