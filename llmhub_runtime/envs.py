"""Per-environment bindings: pick the env, then lay its overlay over the base config.

The env is ``LLMHub(env=...)``, else ``$LLMHUB_ENV``, else ``env:`` in the file. The file's own
``env:`` names the base itself and needs no overlay; any other name must be a key of ``envs:``,
also when the file has no ``envs:`` at all (``LLMHUB_ENV=staging`` against a file that knows
no ``staging`` is an ``UnknownEnvError``, never a silent base config). In an overlay, each field
set replaces the base's, ``params`` are merged key by key, and new providers and roles are added.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

from pydantic import BaseModel

from .errors import UnknownEnvError
from .models import RuntimeConfig

__all__ = ["ENV_VAR", "UnknownEnvError", "bind_env", "config_name", "select_env"]

ENV_VAR = "LLMHUB_ENV"
M = TypeVar("M", bound=BaseModel)


def select_env(config: RuntimeConfig, requested: str | None = None) -> str | None:
    """The env to bind: ``requested``, else ``$LLMHUB_ENV``, else the file's ``env:``."""
    source = "env=" if requested else f"${ENV_VAR}" if os.environ.get(ENV_VAR) else None
    name = requested or os.environ.get(ENV_VAR) or config.env
    if name is None or name in config.envs or name == config.env:
        return name
    known = sorted({*config.envs, *([config.env] if config.env else [])})
    raise UnknownEnvError(name, known, config=config_name(config), source=source)


def config_name(config: RuntimeConfig) -> str:
    """The file name ``config`` was loaded from, for messages (``llmhub.yaml`` when built in code)."""
    return config._source or "llmhub.yaml"


def bind_env(config: RuntimeConfig, env: str | None) -> RuntimeConfig:
    """``config`` with ``env``'s overlay applied (``env`` recorded; ``envs`` kept for provenance)."""
    overlay = config.envs.get(env) if env is not None else None
    if overlay is None:
        return config if env == config.env else config.model_copy(update={"env": env})
    data = config.model_dump(exclude_unset=True)
    data["env"] = env
    for section in ("providers", "roles"):
        merged: dict[str, Any] = dict(data.get(section, {}))
        for name, entry in getattr(overlay, section).items():
            merged[name] = _merge(merged.get(name, {}), entry)
        data[section] = merged
    if overlay.defaults is not None:
        data["defaults"] = _merge(data.get("defaults", {}), overlay.defaults)
    bound = RuntimeConfig.model_validate(data)
    bound._source = config._source
    return bound


def _merge(base: dict[str, Any], overlay: BaseModel) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.model_dump(exclude_unset=True).items():
        if key == "params":
            merged["params"] = {**merged.get("params", {}), **value}
        else:
            merged[key] = value
    return merged
