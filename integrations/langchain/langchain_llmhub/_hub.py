"""What ``RoleChatModel`` and ``RoleEmbeddings`` share: checking their init kwargs and finding the hub.

Construction stays offline: it reads at most ``$LLMHUB_CONFIG`` (the path, not the file). The
hub is looked up on each call with ``LLMHub.shared(config_path)``, which is the process-wide
cache (one hub per config file) and replaces a hub that was closed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, MutableMapping
from typing import Any

from llmhub_runtime import LLMHub
from llmhub_runtime.errors import UsageError

__all__ = ["CONFIG_ENV_VAR", "hub_for", "move_extra_to", "prepare_init"]

CONFIG_ENV_VAR = "LLMHUB_CONFIG"

# Keys that belong in llmhub.yaml, never in a model's kwargs (a key would leak into params and reprs).
_CONFIG_ONLY = frozenset({"api_key", "base_url", "api_base", "organization", "default_headers"})


def prepare_init(values: MutableMapping[str, Any], owner: str) -> MutableMapping[str, Any]:
    """Check ``hub``/``config_path``, reject credentials and per-instance models, default the config path."""
    for key in values:
        if key in _CONFIG_ONLY or key.endswith("_api_key"):
            raise UsageError(
                f"{owner} takes no {key}=: credentials and endpoints come from llmhub.yaml "
                "(providers.<name>.env_key / api_base). Point config_path= at the config to use."
            )
    if "model" in values or "model_name" in values:
        raise UsageError(
            f"{owner} takes no model=: the role decides the model in llmhub.yaml. "
            f"Pass the role instead, e.g. {owner}('llm.inference')."
        )
    hub = values.get("hub")
    if hub is not None and values.get("config_path") is not None:
        raise UsageError(f"Pass {owner}(hub=...) or {owner}(config_path=...), not both.")
    if hub is not None and not isinstance(hub, LLMHub):
        raise UsageError(f"{owner}(hub=...) takes an LLMHub, not {type(hub).__name__}.")
    if hub is None and values.get("config_path") is None:
        values["config_path"] = os.environ.get(CONFIG_ENV_VAR) or None
    elif isinstance(values.get("config_path"), os.PathLike):
        values["config_path"] = os.fspath(values["config_path"])
    return values


def move_extra_to(values: MutableMapping[str, Any], fields: Iterable[str], target: str) -> MutableMapping[str, Any]:
    """Move keys that are not fields into ``values[target]`` (provider params, like langchain-openai)."""
    known = set(fields)
    extra = {key: values.pop(key) for key in list(values) if key not in known}
    if extra:
        clash = sorted(set(extra) & set(values.get(target) or {}))
        if clash:
            raise UsageError(f"{', '.join(clash)} given both directly and in {target}=; pass each once.")
        values[target] = {**(values.get(target) or {}), **extra}
    return values


def hub_for(hub: LLMHub | None, config_path: str | None) -> LLMHub:
    """The explicit hub, else the shared hub of ``config_path`` (``$LLMHUB_CONFIG`` / ``./llmhub.yaml``)."""
    return hub if hub is not None else LLMHub.shared(config_path)
