"""Config models for ``llmhub.yaml`` and the resolved call they produce.

Every model is frozen and rejects unknown keys. ``RuntimeConfig`` is what the loader
validates a file into; ``ResolvedCall`` is what the resolver hands the hub for one role.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_serializer, field_validator, model_validator

from .cache.config import CacheConfig
from .redact import mask_mapping, mask_url
from .traffic.config import Cooldown, Limits, LimitScope, TrafficConfig

__all__ = [
    "LEGACY_MODES",
    "CacheConfig",
    "DefaultsConfig",
    "EnvOverlay",
    "FallbackConfig",
    "LLMMode",
    "Mode",
    "Pricing",
    "ProviderConfig",
    "ResolvedCall",
    "RetryPolicy",
    "RoleConfig",
    "RoleDefaultsConfig",
    "RuntimeConfig",
    "Target",
    "ToolChoice",
    "ToolDefinition",
    "ToolFunction",
]

Mode = Literal[
    "chat", "tool", "embedding", "image", "speech", "transcription", "rerank", "moderation", "responses",
    "audio", "other",
]  # fmt: skip
"""What a role does, and so which hub method calls it (see ``MODE_METHODS``).

``audio`` and ``other`` are the legacy modes of llmhub-runtime 1.x (and of ``llmhub generate``): both
are served by ``completion()`` as chat completions, as 1.x served every role (see docs/migration.md).
"""

LEGACY_MODES: frozenset[str] = frozenset({"audio", "other"})
"""Modes kept from llmhub-runtime 1.x; served by ``completion()`` like ``chat``."""

MODES: tuple[str, ...] = get_args(Mode)

MODE_METHODS: Mapping[str, str] = MappingProxyType(
    {
        "chat": "completion",
        "tool": "completion",
        "embedding": "embedding",
        "image": "image",
        "speech": "speech",
        "transcription": "transcription",
        "rerank": "rerank",
        "moderation": "moderation",
        "responses": "responses",
        "audio": "completion",
        "other": "completion",
    }
)
"""The hub method for each mode (the async twin is the same name with an ``a`` in front)."""

TOOL_MODES: frozenset[str] = frozenset({"chat", "tool"})
"""Modes whose roles may carry ``tools:`` and ``tool_choice:``."""

DEFAULT_TIMEOUT = 120.0
"""Seconds an attempt may take when no ``timeout`` is configured (a stream: until its first chunk)."""

_CHUNK_TIMEOUT = "Seconds a stream may go without a chunk after its first one (default: the timeout)."


DEFAULT_MAX_ATTEMPTS = 3
"""Attempts per target when no ``retry:`` says otherwise: like the OpenAI and Anthropic SDKs' defaults
(2 retries), which llmhub-runtime 1.x users got without knowing; only transient failures are retried."""


class _Frozen(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=False, defer_build=True, allow_inf_nan=False
    )


class RetryPolicy(_Frozen):
    """How often one target is tried and how long to wait between attempts."""

    max_attempts: int = Field(
        DEFAULT_MAX_ATTEMPTS, ge=1, le=20, description="Attempts per target, the first one included."
    )
    backoff: float = Field(0.5, ge=0, le=60, description="Base wait in seconds; doubles each retry, with jitter.")
    max_backoff: float = Field(20.0, ge=0, le=600, description="Cap on one computed wait, in seconds.")
    max_retry_after: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="Longest Retry-After llmhub will honour; a longer one moves on to the next target.",
    )

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_attempts={self.max_attempts}, backoff={self.backoff}, "
            f"max_backoff={self.max_backoff}, max_retry_after={self.max_retry_after})"
        )


class Pricing(_Frozen):
    """Prices in currency units per million tokens."""

    input: float = Field(ge=0, description="Price per million input (prompt) tokens.")
    output: float = Field(0.0, ge=0, description="Price per million output (completion) tokens.")

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """The price of one call's tokens."""
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


class ProviderConfig(_Frozen):
    """One provider entry: which any-llm provider it is and how to reach and authenticate it."""

    kind: str | None = Field(None, description="any-llm provider id; defaults to the entry's name.")
    env_key: str | None = Field(
        None,
        description=(
            "Environment variable holding the API key, read at call time. null: no key needed. "
            "Omitted: <KIND>_API_KEY (none for local servers such as llamacpp and ollama)."
        ),
    )
    api_base: str | None = Field(None, description="Base URL of the provider's API.")
    client_args: dict[str, Any] = Field(default_factory=dict, description="Passed to the provider's client.")
    transport: Literal["auto", "httpx", "aiohttp"] = Field(
        "auto",
        description=(
            "HTTP transport of OpenAI- and Anthropic-style SDK clients. auto (default): aiohttp when "
            "httpx-aiohttp is installed (extra: llmhub-runtime[aiohttp]), else httpx. aiohttp is faster and "
            "keeps idle connections (see benchmarks/RESULTS.md); httpx opts out. Other providers use their SDK's own."
        ),
    )
    timeout: float | None = Field(None, gt=0, description="Seconds per attempt for this provider's targets.")
    chunk_timeout: float | None = Field(None, gt=0, description=_CHUNK_TIMEOUT)
    retry: RetryPolicy | None = None
    pricing: dict[str, Pricing] = Field(default_factory=dict, description="Prices per model name.")
    limits: Limits | None = Field(None, description="Limits of everything sent through this entry (or per model).")
    cooldown: Cooldown | None = Field(None, description="Circuit breaker of each of this entry's targets.")
    extra_params: list[str] = Field(
        default_factory=list,
        description=(
            "Provider-specific param names (e.g. top_k) accepted in the params of roles on this provider, "
            "besides those any-llm declares for the role's mode."
        ),
    )

    @field_serializer("api_base", when_used="json")
    def _mask_api_base(self, value: str | None) -> str | None:
        return mask_url(value)  # keys in a URL's userinfo / query never reach JSON output

    @field_serializer("client_args", when_used="json")
    def _mask_client_args(self, value: dict[str, Any]) -> Any:
        return mask_mapping(value)  # headers such as Authorization / x-api-key are masked

    def __repr__(self) -> str:
        return f"ProviderConfig(kind={self.kind!r}, env_key={self.env_key!r}, api_base={mask_url(self.api_base)!r})"


class FallbackConfig(_Frozen):
    """One fallback: another role (``role:``) or an inline target (``provider:`` + ``model:``)."""

    role: str | None = None
    provider: str | None = None
    model: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    limits: Limits | None = Field(None, description="Limits of this inline target, as this role uses it.")
    cooldown: Cooldown | None = None
    weight: float | None = Field(None, ge=0, description="Share of the role's traffic sent here first.")

    @model_validator(mode="after")
    def _one_shape(self) -> FallbackConfig:
        if self.role is not None and (self.provider or self.model or self.params):
            raise ValueError("a fallback is either 'role: NAME' or 'provider:' + 'model:', not both")
        if self.role is not None and (self.limits or self.cooldown or self.weight is not None):
            raise ValueError(f"set limits, cooldown and weight on role {self.role!r} itself, not on the fallback")
        if self.role is None and not (self.provider and self.model):
            raise ValueError("a fallback needs 'role: NAME', or both 'provider:' and 'model:'")
        return self


class ToolFunction(_Frozen):
    """The function a tool calls: its name, what it does, and the JSON Schema of its arguments."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Letters, digits, '_' and '-'; up to 64.")
    description: str | None = None
    parameters: dict[str, Any] | None = Field(None, description="JSON Schema of the arguments object.")
    strict: bool | None = None


class ToolDefinition(_Frozen):
    """One tool a role offers the model, in OpenAI's format (any-llm converts it per provider)."""

    type: Literal["function"] = "function"
    function: ToolFunction

    def to_wire(self) -> dict[str, Any]:
        """The plain dict any-llm takes."""
        return self.model_dump(exclude_none=True)


class _NamedFunction(_Frozen):
    name: str


class ToolChoice(_Frozen):
    """Force one tool: ``{type: function, function: {name: NAME}}``."""

    type: Literal["function"] = "function"
    function: _NamedFunction


class RoleConfig(_Frozen):
    """One role: the target it calls, its mode, params and reliability policy."""

    provider: str | None = None
    model: str | None = None
    mode: Mode | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    tools: list[ToolDefinition] | None = Field(
        None, description="Tools sent with every call of a chat or tool role (required for mode tool)."
    )
    tool_choice: Literal["auto", "required", "none"] | ToolChoice | None = Field(
        None, description="auto, required, none, or {type: function, function: {name: NAME}}."
    )
    description: str | None = None
    timeout: float | None = Field(None, gt=0)
    chunk_timeout: float | None = Field(None, gt=0, description=_CHUNK_TIMEOUT)
    retry: RetryPolicy | None = None
    fallbacks: list[FallbackConfig] = Field(default_factory=list)
    context_window: int | None = Field(None, gt=0, description="Tokens the model accepts; for framework adapters.")
    batch_size: int | None = Field(
        None,
        gt=0,
        le=100_000,
        description="Embedding roles: most texts in one request; the hub splits a larger input into several.",
    )
    pricing: Pricing | None = Field(None, description="Prices of the role's own target (not its fallbacks).")
    limits: Limits | None = Field(None, description="Limits of the role's own target (not its fallbacks).")
    cooldown: Cooldown | None = Field(None, description="Circuit breaker of the role's own target.")
    weight: float | None = Field(None, ge=0, description="Share of the traffic sent to this target first.")
    cache: CacheConfig | None = Field(None, description="Response cache for this role (see README: Caching).")


class DefaultsConfig(_Frozen):
    """Values filling what a role leaves out (params are merged under the role's)."""

    provider: str | None = None
    model: str | None = None
    mode: Mode | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    timeout: float | None = Field(None, gt=0)
    chunk_timeout: float | None = Field(None, gt=0, description=_CHUNK_TIMEOUT)
    retry: RetryPolicy | None = None
    cache: CacheConfig | None = Field(None, description="Response cache for roles without their own cache:.")


class EnvOverlay(_Frozen):
    """What one environment changes: fields set here replace the base's (params are merged)."""

    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    roles: dict[str, RoleConfig] = Field(default_factory=dict)
    defaults: DefaultsConfig | None = None
    traffic: TrafficConfig | None = None


class RuntimeConfig(_Frozen):
    """A whole validated ``llmhub.yaml``."""

    project: str | None = None
    env: str | None = Field(None, description="The environment bound by default (LLMHUB_ENV overrides it).")
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    roles: dict[str, RoleConfig] = Field(default_factory=dict)
    defaults: DefaultsConfig = Field(default_factory=DefaultsConfig)
    envs: dict[str, EnvOverlay] = Field(default_factory=dict, description="Overlays per environment name.")
    traffic: TrafficConfig | None = Field(None, description="Where limit and cooldown state lives (memory or Redis).")
    _source: str | None = PrivateAttr(None)
    """The file it was loaded from (set by the loader), named in error messages."""
    meta: dict[str, Any] | None = Field(
        None,
        description=(
            "Notes the generator (llmhub generate) writes per role: rationale, relaxations_applied, backups. "
            "Kept for people and 'llmhub explain'; never used to make a call."
        ),
    )

    @field_validator("defaults", mode="before")
    @classmethod
    def _no_defaults(cls, value: Any) -> Any:
        """``defaults: null`` (as llmhub-runtime 1.x accepted) means no defaults."""
        return {} if value is None else value

    def __repr__(self) -> str:
        return (
            f"RuntimeConfig(project={self.project!r}, env={self.env!r}, "
            f"providers={sorted(self.providers)}, roles={sorted(self.roles)})"
        )


class Target(_Frozen):
    """One concrete provider + model to call, with everything merged in."""

    provider: str
    kind: str
    model: str
    params: dict[str, Any] = Field(default_factory=dict)
    param_sources: dict[str, str] = Field(default_factory=dict)
    api_base: str | None = None
    env_key: str | None = None
    client_args: dict[str, Any] = Field(default_factory=dict)
    transport: Literal["auto", "httpx", "aiohttp"] = "auto"
    timeout: float | None = None
    chunk_timeout: float | None = None
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    pricing: Pricing | None = None
    via_role: str | None = None
    limits: tuple[LimitScope, ...] = ()
    cooldown: Cooldown | None = None
    weight: float | None = None

    @field_serializer("api_base", when_used="json")
    def _mask_api_base(self, value: str | None) -> str | None:
        return mask_url(value)

    @field_serializer("client_args", when_used="json")
    def _mask_client_args(self, value: dict[str, Any]) -> Any:
        return mask_mapping(value)

    @property
    def label(self) -> str:
        """``provider/model``, the target's name in messages."""
        return f"{self.provider}/{self.model}"

    def __repr__(self) -> str:
        return f"Target({self.label!r}, kind={self.kind!r}, via_role={self.via_role!r})"


class ResolvedCall(_Frozen):
    """What one role resolves to: its mode and its chain of targets, primary first."""

    role: str
    mode: Mode
    targets: tuple[Target, ...]
    source: Literal["role", "defaults"] = "role"
    env: str | None = None

    @property
    def primary(self) -> Target:
        """The first target tried."""
        return self.targets[0]

    @property
    def provider(self) -> str:
        return self.primary.provider

    @property
    def kind(self) -> str:
        return self.primary.kind

    @property
    def model(self) -> str:
        return self.primary.model

    @property
    def params(self) -> Mapping[str, Any]:
        return self.primary.params

    @property
    def api_base(self) -> str | None:
        return self.primary.api_base

    @property
    def from_defaults(self) -> bool:
        """True when the role is not configured and ``defaults`` supplied the whole target."""
        return self.source == "defaults"

    def __repr__(self) -> str:
        chain = " -> ".join(t.label for t in self.targets)
        return f"ResolvedCall(role={self.role!r}, mode={self.mode!r}, targets={chain!r}, source={self.source!r})"


# --- names kept from llmhub-runtime 1.x (see docs/migration.md) ---------------------------------


class LLMMode(StrEnum):
    """Every role mode as a string enum (llmhub-runtime 1.x's name); members equal their strings."""

    chat = "chat"
    embedding = "embedding"
    image = "image"
    audio = "audio"
    tool = "tool"
    other = "other"
    speech = "speech"
    transcription = "transcription"
    rerank = "rerank"
    moderation = "moderation"
    responses = "responses"


RoleDefaultsConfig = DefaultsConfig
"""llmhub-runtime 1.x's name for the ``defaults:`` block."""
