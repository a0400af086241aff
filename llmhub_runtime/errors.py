"""The llmhub error tree.

Two families: mistakes in the config or in how the hub is called (fix your code or your
YAML), and failures of the provider call itself (retry, fall back, or report)::

    LLMHubError                           (= LLMHubRuntimeError, its 1.x name)
    ├── UsageError                        the config or the call is wrong; never retried
    │   ├── ConfigError                   llmhub.yaml cannot be used
    │   │   ├── ConfigNotFoundError       no file at the path
    │   │   ├── ConfigSyntaxError         not YAML (line/column kept)
    │   │   └── ConfigValidationError     valid YAML, wrong content (.problems: every one)
    │   │       └── UnknownProviderError  resolve_role(): the role's provider is not declared
    │   ├── UnknownRoleError              no such role (close matches listed)
    │   ├── UnknownEnvError               no such env under envs:
    │   ├── ModeMismatchError             completion() on an embedding role, ...
    │   ├── MissingCredentialError        the provider's env var is unset or empty (= EnvVarMissingError)
    │   ├── InvalidInputError             malformed messages / embedding input
    │   └── HubClosedError                the hub was closed
    └── ProviderError                     the provider call failed (.role .provider .model ...)
        ├── AuthenticationError           401/403: the key is wrong
        ├── BadRequestError               400/422: the request is wrong
        │   ├── ContextLengthError        prompt too long for the model
        │   ├── ContentFilterError        blocked by the provider's safety filter
        │   └── RequestTooLargeError      413: the request body is too large
        ├── ModelNotFoundError            404: no such model
        ├── RateLimitError                429 (.retry_after)
        ├── ProviderTimeoutError          no answer within the timeout, or 408
        ├── ProviderConnectionError       could not connect / connection dropped
        ├── ProviderServerError           5xx, 529 overloaded, unparseable answer
        ├── StreamInterruptedError        a stream failed after its first chunk (.partial_text)
        └── AllTargetsFailedError         every target of a fallback chain failed (.failures)

Provider errors are classified by HTTP status and exception type only, never by message text.
Every error with fields pickles (``__reduce__``) and never carries an API key: neither in its
message and fields nor anywhere in its ``__cause__`` / ``__context__`` chain (the SDK exceptions
there are scrubbed copies, without request objects or tracebacks; see ``errors_map``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AllTargetsFailedError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ConfigNotFoundError",
    "ConfigProblem",
    "ConfigSyntaxError",
    "ConfigValidationError",
    "ContentFilterError",
    "ContextLengthError",
    "EnvVarMissingError",
    "HubClosedError",
    "InvalidInputError",
    "LLMHubError",
    "LLMHubRuntimeError",
    "MissingCredentialError",
    "ModeMismatchError",
    "ModelNotFoundError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderServerError",
    "ProviderTimeoutError",
    "RateLimitError",
    "RequestTooLargeError",
    "StreamInterruptedError",
    "TargetFailure",
    "UnknownEnvError",
    "UnknownProviderError",
    "UnknownRoleError",
    "UsageError",
]


class LLMHubError(Exception):
    """Base class of every error llmhub raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[LLMHubError], state: dict[str, Any]) -> LLMHubError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


# --- usage mistakes -------------------------------------------------------------------


class UsageError(LLMHubError):
    """The config or the way the hub is called is wrong. Fix the code or the YAML."""


class ConfigError(UsageError):
    """``llmhub.yaml`` cannot be used."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class ConfigNotFoundError(ConfigError):
    """There is no config file where one was expected."""


class ConfigSyntaxError(ConfigError):
    """The file is not valid YAML; ``line`` and ``column`` are 1-based."""

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(message, path=path)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a config: where it is, what is wrong, and a suggestion."""

    key_path: str
    message: str
    path: str | None = None
    line: int | None = None
    suggestion: str | None = None

    def __str__(self) -> str:
        where = f"{self.path or '<config>'}:{self.line}" if self.line else (self.path or "<config>")
        text = f"{where}: {self.key_path or '<root>'}: {self.message}"
        if self.suggestion:
            text += f" (did you mean {self.suggestion!r}?)"
        return text


class ConfigValidationError(ConfigError):
    """The YAML parsed but its content is wrong; ``problems`` lists every issue found."""

    def __init__(self, problems: Sequence[ConfigProblem], *, path: str | None = None) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {path or 'the config'}:"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]), path=path)


class UnknownRoleError(UsageError, LookupError):
    """No role of that name is configured. The message lists at most ``SHOWN`` known roles."""

    SHOWN = 20

    def __init__(
        self, role: str, known: Sequence[str], matches: Sequence[str] = (), *, config: str | None = None
    ) -> None:
        self.role = role
        self.known = tuple(known)
        self.matches = tuple(matches)
        hint = f" Did you mean {' or '.join(repr(m) for m in self.matches[:5])}?" if self.matches else ""
        roles = ", ".join(repr(k) for k in self.known[: self.SHOWN]) or "none"
        if len(self.known) > self.SHOWN:
            roles += f" and {len(self.known) - self.SHOWN} more (llmhub roles lists them all)"
        super().__init__(
            f"Unknown role {role!r}.{hint} Known roles: {roles}. Add it under 'roles:' in {config or 'llmhub.yaml'}."
        )


class ModeMismatchError(UsageError):
    """The role's mode does not fit the method called (e.g. ``completion`` on an embedding role)."""

    def __init__(
        self,
        role: str,
        mode: str,
        method: str,
        expected: str,
        *,
        accepted: Sequence[str] = (),
        use: str | None = None,
    ) -> None:
        self.role = role
        self.mode = mode
        self.method = method
        self.expected = expected
        self.use = use
        accepted = tuple(accepted) or (expected,)
        self.accepted = accepted
        rest = " or ".join(repr(m) for m in accepted[1:])
        others = f" (or {_a(accepted[1])} {rest} role)" if len(accepted) > 1 else ""
        fix = f"Call {use}() or a{use}() for {mode!r} roles" if use else f"Mode {mode!r} has no hub method"
        needs = " or ".join(repr(m) for m in accepted)
        super().__init__(
            f"Role {role!r} has mode {mode!r}, but {method}() needs {_a(expected)} {expected!r} role{others}. "
            f"{fix}, or point {method}() at {_a(accepted[0])} {needs} role."
        )


def _a(word: str) -> str:
    """The indefinite article for ``word``: "an 'embedding'", "a 'chat'"."""
    return "an" if word[:1].lower() in "aeiou" else "a"


class MissingCredentialError(UsageError):
    """The environment variable that holds the provider's key is unset or empty."""

    def __init__(self, env_key: str, provider: str, role: str | None = None) -> None:
        self.env_key = env_key
        self.provider = provider
        self.role = role
        for_role = f" (needed by role {role!r})" if role else ""
        super().__init__(
            f"No API key for provider {provider!r}{for_role}: environment variable {env_key} is "
            f"not set or empty. Set it (export {env_key}=...) or change providers.{provider}.env_key "
            "in llmhub.yaml."
        )


class UnknownEnvError(UsageError):
    """The requested environment has no overlay under ``envs:``."""

    def __init__(self, env: str, known: list[str], *, config: str | None = None, source: str | None = None) -> None:
        self.env = env
        self.known = known
        origin = f" (from {source})" if source else ""
        super().__init__(
            f"Unknown env {env!r}{origin}. Known envs: {', '.join(repr(k) for k in known) or 'none'}. "
            f"Add it under 'envs:' in {config or 'llmhub.yaml'}, or set LLMHUB_ENV / LLMHub(env=...) to a known one."
        )


class InvalidInputError(UsageError, ValueError):
    """The messages or the input given to a call are malformed."""


class HubClosedError(UsageError):
    """The hub was closed; create a new one."""


# --- provider failures ------------------------------------------------------------------


class ProviderError(LLMHubError):
    """A provider call failed. Carries where (role/provider/model) and the HTTP details seen."""

    def __init__(
        self,
        message: str,
        *,
        role: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        status_code: int | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.role = role
        self.provider = provider
        self.model = model
        self.status_code = status_code
        self.body = body
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.attempts = attempts
        self.retry_after = retry_after
        """Seconds the provider asked to wait (its ``Retry-After``), on any status; None if it did not say."""

    def __str__(self) -> str:
        where = ", ".join(
            f"{name}={value!r}"
            for name, value in (("role", self.role), ("provider", self.provider), ("model", self.model))
            if value
        )
        status = f" [HTTP {self.status_code}]" if self.status_code else ""
        return f"{self.message}{status}" + (f" ({where})" if where else "")


class AuthenticationError(ProviderError):
    """The provider rejected the credentials (401/403)."""


class BadRequestError(ProviderError):
    """The provider rejected the request as malformed (400/422)."""


class ContextLengthError(BadRequestError):
    """The prompt is longer than the model's context window."""


class ContentFilterError(BadRequestError):
    """The provider's safety filter blocked the request or the answer."""


class RequestTooLargeError(BadRequestError):
    """The provider refused the request body as too large (413). Like ``ContextLengthError``, the next
    target (which may accept more) is tried; this one is not retried."""


class ModelNotFoundError(ProviderError):
    """The provider does not know the model (404)."""


class RateLimitError(ProviderError):
    """The provider is rate limiting (429). ``retry_after`` is in seconds, when the provider said."""


class ProviderTimeoutError(ProviderError):
    """No answer arrived within the timeout, or the server answered 408 (Request Timeout)."""


class ProviderConnectionError(ProviderError):
    """The provider could not be reached, or the connection dropped. The message names the ``api_base``."""


class ProviderServerError(ProviderError):
    """The provider failed on its side (5xx, 529 overloaded) or sent an answer that cannot be read."""


class StreamInterruptedError(ProviderError):
    """A stream failed after its first chunk. llmhub never restarts it silently.

    ``partial_text`` holds the text received before the failure.
    """

    def __init__(self, message: str, *, partial_text: str = "", chunks_received: int = 0, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.partial_text = partial_text
        self.chunks_received = chunks_received


@dataclass(frozen=True)
class TargetFailure:
    """How one target of a fallback chain failed."""

    provider: str
    model: str
    attempts: int
    error: ProviderError

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} after {self.attempts} attempt(s): {type(self.error).__name__}: " + (
            self.error.message
        )


class AllTargetsFailedError(ProviderError):
    """Every target in the role's fallback chain failed; ``failures`` says how, in order."""

    def __init__(self, role: str, failures: Sequence[TargetFailure]) -> None:
        self.failures = tuple(failures)
        lines = "\n".join(f"  {i}. {f}" for i, f in enumerate(self.failures, 1))
        last = self.failures[-1].error if self.failures else None
        super().__init__(
            f"All {len(self.failures)} targets for role {role!r} failed:\n{lines}",
            role=role,
            status_code=last.status_code if last else None,
            attempts=sum(f.attempts for f in self.failures),
        )

    def __str__(self) -> str:
        return self.message


# --- names kept from llmhub-runtime 1.x (see docs/migration.md) -----------------------------------

LLMHubRuntimeError = LLMHubError
"""llmhub-runtime 1.x's base class: the same class as ``LLMHubError``."""

EnvVarMissingError = MissingCredentialError
"""llmhub-runtime 1.x's name: the same class as ``MissingCredentialError`` (raised by ``strict_env=True``
at construction, and by any call whose key is unset)."""


class UnknownProviderError(ConfigValidationError):
    """A role (or ``defaults``) names a provider that is neither declared nor an any-llm provider id.

    A ``ConfigValidationError`` (``.problems`` holds it), so ``except ConfigError`` catches it too. Raised by
    ``resolver.resolve_role``; loading a file reports the same problem as a ``ConfigValidationError``.
    """
