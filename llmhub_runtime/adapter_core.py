"""What every framework adapter of llmhub shares (LangChain, LlamaIndex, ...): one rule per question.

Adapters only translate framework types. Everything else they need is decided here, once:

- **Refusals** (``refuse_init_kwargs`` / ``refuse_call_kwargs``): an adapter never takes a key, an
  endpoint, client settings or a model (``api_key``, ``base_url``, ``api_base``, ``organization``,
  ``client_args``, ``default_headers``, ``*_api_key``, ..., ``model``, ``model_name``): they live in
  llmhub.yaml, and the error says where.
- **Which hub** (``hub_args`` + ``HubLookup``): ``hub=`` or ``config_path=`` (not both; default
  ``$LLMHUB_CONFIG``, read at construction, else ``./llmhub.yaml`` at the first call), found once per
  adapter instance and looked up again only when that shared hub was closed. ``hooks=`` are added to
  the hub's hooks (``attach_hooks``).
- **One meaning for None** (``merge_params``): in an adapter's params, as in the hub's call layers,
  a value of ``None`` removes the key (nothing is sent); a param the adapter does not set keeps the
  role's value.
- **Cache keys** (``role_fingerprint`` / ``fingerprint_key`` / ``fingerprint_digest``): what
  decides a role's answers (env, mode, each target's provider, kind, model, api_base and merged
  params; no secret), so framework caches never serve one model's answer for another.
- **Embeddings** (``batches``, ``embedding_vectors``): batching and the checks on returned vectors.

Nothing here imports a framework or a provider SDK.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import InvalidInputError, ProviderServerError, UsageError

if TYPE_CHECKING:
    from .hub import LLMHub
    from .models import ResolvedCall

__all__ = [
    "CONFIG_ENV_VAR",
    "CONFIG_ONLY_KEYS",
    "MODEL_KEYS",
    "HubLookup",
    "attach_hooks",
    "batches",
    "embedding_vectors",
    "fingerprint_digest",
    "fingerprint_key",
    "hub_args",
    "merge_params",
    "refuse_call_kwargs",
    "refuse_init_kwargs",
    "role_fingerprint",
]

CONFIG_ENV_VAR = "LLMHUB_CONFIG"
"""The environment variable naming the config file adapters use by default."""

CONFIG_ONLY_KEYS = frozenset(
    {
        "api_key",
        "api_base",
        "base_url",
        "organization",
        "client_args",
        "default_headers",
        "default_query",
        "http_client",
        "http_async_client",
    }
)
"""Keyword arguments that belong in llmhub.yaml (``providers.<name>``), never in an adapter."""

_CONFIG_ONLY_SUFFIXES = ("_api_key", "_api_base", "_base_url", "_organization")
"""Framework spellings such as ``openai_api_key`` or ``anthropic_api_base``."""

MODEL_KEYS = frozenset({"model", "model_name"})
"""Keyword arguments naming a model: the role decides it."""


# --- refusals -----------------------------------------------------------------------------------


def _config_only(key: str) -> bool:
    return key in CONFIG_ONLY_KEYS or key.endswith(_CONFIG_ONLY_SUFFIXES)


def refuse_init_kwargs(keys: Iterable[str], owner: str, role: str | None = None) -> None:
    """Raise ``UsageError`` for constructor arguments that belong in llmhub.yaml (keys, endpoints, models).

    The message names the argument, never its value (which may be a key).
    """
    for key in keys:
        if _config_only(key):
            raise UsageError(
                f"{owner} takes no {key}=: credentials, endpoints and client settings come from llmhub.yaml "
                "(providers.<name>.env_key / api_base / client_args). Point config_path= at the config to use."
            )
        if key in MODEL_KEYS:
            where = f"roles.{role}.model" if role else "the role's model"
            raise UsageError(
                f"{owner} takes no {key}=: the role decides the model in llmhub.yaml. "
                f"Change {where} there, or use another role."
            )


def refuse_call_kwargs(keys: Iterable[str], owner: str, role: str) -> None:
    """Raise ``InvalidInputError`` for per-call arguments a role does not take (a model, keys, endpoints)."""
    for key in keys:
        if key in MODEL_KEYS:
            raise InvalidInputError(
                f"{owner} calls role {role!r}; its model comes from llmhub.yaml and cannot be overridden "
                "per call. Change the role's model there, or call another role."
            )
        if _config_only(key):
            raise InvalidInputError(
                f"{owner} takes no {key}= per call: credentials, endpoints and client settings come from "
                "llmhub.yaml (providers.<name>.env_key / api_base / client_args)."
            )


# --- which hub ----------------------------------------------------------------------------------


def hub_args(hub: object, config_path: object, owner: str) -> tuple[LLMHub | None, str | None]:
    """Check ``hub=`` / ``config_path=`` and default the path: ``(hub, config_path)`` to store.

    Both given, or a ``hub`` that is not an ``LLMHub``, is a ``UsageError``. Without either, the
    path is ``$LLMHUB_CONFIG`` read now (``None``: ``./llmhub.yaml``, resolved at the first call).
    """
    from .hub import LLMHub

    if hub is not None and config_path is not None:
        raise UsageError(f"Pass {owner}(hub=...) or {owner}(config_path=...), not both.")
    if hub is not None:
        if not isinstance(hub, LLMHub):
            raise UsageError(f"{owner}(hub=...) takes an LLMHub, not {type(hub).__name__}.")
        return hub, None
    if config_path is None:
        return None, os.environ.get(CONFIG_ENV_VAR) or None
    if isinstance(config_path, str | os.PathLike):
        return None, os.fspath(config_path)
    raise UsageError(f"{owner}(config_path=...) takes a path, not {type(config_path).__name__}.")


class HubLookup:
    """An adapter instance's hub, found once: the given hub, else ``LLMHub.shared(config_path)``.

    A shared hub that was closed is looked up again (``LLMHub.shared`` then builds a new one); a hub
    given explicitly is kept even when closed (its calls raise ``HubClosedError``). ``hooks`` are
    added to the hub when it is first found (see ``attach_hooks``).
    """

    __slots__ = ("_found", "config_path", "hooks", "hub")

    def __init__(self, hub: LLMHub | None = None, config_path: str | None = None, hooks: Sequence[object] = ()):
        self.hub = hub
        self.config_path = config_path
        self.hooks = tuple(hooks)
        self._found: LLMHub | None = None

    def matches(self, hub: LLMHub | None, config_path: str | None, hooks: Sequence[object] = ()) -> bool:
        """Whether this lookup is for these settings (an adapter copied with new ones needs a new lookup)."""
        return (
            self.hub is hub
            and self.config_path == config_path
            and len(self.hooks) == len(hooks)
            and all(a is b for a, b in zip(self.hooks, hooks, strict=True))
        )

    def __call__(self) -> LLMHub:
        """The hub (loads the config on first use; ``ConfigError`` subclasses if it cannot)."""
        found = self._found
        if found is not None and (self.hub is not None or not found._closed):
            return found
        if self.hub is not None:
            found = self.hub
        else:
            from .hub import LLMHub

            found = LLMHub.shared(self.config_path)
        if self.hooks:
            attach_hooks(found, self.hooks)
        self._found = found
        return found

    def __reduce__(self) -> tuple[type[HubLookup], tuple[LLMHub | None, str | None, tuple[object, ...]]]:
        """Pickled without the hub it found (clients and locks stay in this process; found again after)."""
        return (HubLookup, (self.hub, self.config_path, self.hooks))

    def __repr__(self) -> str:
        return f"HubLookup(hub={self.hub!r}, config_path={self.config_path!r}, hooks={len(self.hooks)})"


def attach_hooks(hub: LLMHub, hooks: Iterable[object]) -> None:
    """Add ``hooks`` to ``hub``'s hooks; a hook already there (the same object) is not added twice.

    Hooks see every call made through that hub, whichever adapter (or plain code) makes it: the
    shared hub of a config file is one hub.
    """
    from .hooks import HookRunner

    current = hub._hooks.hooks
    new = [hook for hook in hooks if not any(hook is known for known in current)]
    if new:
        hub._hooks = HookRunner((*current, *new))


# --- params -------------------------------------------------------------------------------------


def merge_params(base: Mapping[str, Any], *layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """``base`` with each layer laid over it in order; a ``None`` value removes the key.

    The hub applies the same rule to ``params_override`` and call kwargs; adapters use this to
    report what a call will send (LangSmith params, LlamaIndex metadata, cache keys).
    """
    merged = dict(base)
    for layer in layers:
        for key, value in (layer or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
    return merged


# --- cache keys ---------------------------------------------------------------------------------

_SECRET_NAME = re.compile(
    r"(?:^|[-_.])(?:key|secret|password|passwd|token|auth|authorization|credentials?|signature|sig)$", re.IGNORECASE
)
"""Names whose values are secrets: ``api_key``, ``X-Api-Key``, ``Authorization``, ``access_token``, ...
(but not ``max_tokens``)."""


def role_fingerprint(call: ResolvedCall, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What decides the answers of ``call`` with the adapter's ``params`` laid over each target's.

    A JSON-ready dict: the role, env, mode and, per target in order, provider, kind, model,
    api_base and merged params (client_args too). No secret is kept: values under secret-looking
    names (``*key*``, ``*token*``, ``authorization``, ...) and URL credentials become a short
    digest, so two keys still give two fingerprints without either key being readable.
    """
    return {
        "role": call.role,
        "env": call.env,
        "mode": call.mode,
        "targets": [
            {
                "provider": target.provider,
                "kind": target.kind,
                "model": target.model,
                "api_base": _public_url(target.api_base),
                "params": _jsonable(merge_params(target.params, params)),
                "client_args": _jsonable(target.client_args),
            }
            for target in call.targets
        ],
    }


def fingerprint_key(call: ResolvedCall, params: Mapping[str, Any] | None = None) -> str:
    """``role_fingerprint`` as one canonical JSON string (for string cache keys such as LangChain's)."""
    return json.dumps(role_fingerprint(call, params), sort_keys=True, separators=(",", ":"))


def fingerprint_digest(call: ResolvedCall, params: Mapping[str, Any] | None = None) -> str:
    """A short hex digest of ``fingerprint_key`` (for cache namespaces and collection names)."""
    return hashlib.sha256(fingerprint_key(call, params).encode("utf-8")).hexdigest()[:16]


def _digest(value: object) -> str:
    return "sha256:" + hashlib.sha256(repr(value).encode("utf-8")).hexdigest()[:12]


def _jsonable(value: Any) -> Any:
    """``value`` as stable JSON data: secret-looking entries digested, other objects by type name."""
    if isinstance(value, Mapping):
        return {
            str(key): _digest(item) if _SECRET_NAME.search(str(key)) else _jsonable(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return f"<{type(value).__qualname__}>"  # e.g. an http client: its id would change every run


def _public_url(url: str | None) -> str | None:
    """``url`` without user:password and with secret-looking query values digested."""
    if not url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{_digest(userinfo)}@{host}"
    query = urlencode(
        [
            (name, _digest(value) if _SECRET_NAME.search(name) else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# --- embeddings ---------------------------------------------------------------------------------


def batches(texts: Sequence[str], size: int) -> Iterator[list[str]]:
    """``texts`` in consecutive lists of at most ``size`` (one request each)."""
    if size < 1:
        raise UsageError(f"A batch size must be at least 1, not {size}.")
    for start in range(0, len(texts), size):
        yield list(texts[start : start + size])


def embedding_vectors(response: Any, expected: int, *, role: str | None = None) -> list[list[float]]:
    """The vectors of an embeddings response in input order, checked: one per input, all the same length.

    A response that breaks either rule is the provider's failure (``ProviderServerError``): its
    vectors cannot be matched to the texts.
    """
    items = sorted(response.data, key=lambda item: item.index)
    model = getattr(response, "model", None)
    if len(items) != expected:
        raise ProviderServerError(
            f"the provider returned {len(items)} embedding(s) for {expected} input(s); "
            "the vectors cannot be matched to the texts.",
            role=role,
            model=model,
        )
    vectors = [[float(value) for value in item.embedding] for item in items]
    lengths = sorted({len(vector) for vector in vectors})
    if lengths and (len(lengths) > 1 or lengths[0] == 0):
        raise ProviderServerError(
            f"the provider returned embeddings of length(s) {', '.join(map(str, lengths))} in one response; "
            "every vector must have the same, non-zero length.",
            role=role,
            model=model,
        )
    return vectors
