"""``RoleComponent``: the fields and construction ``RoleLLM`` and ``RoleEmbedding`` share.

The rules themselves (refusals, which hub, what ``None`` means, cache fingerprints) are llmhub's,
in ``llmhub_runtime.adapter_core``; this module only fits them to a LlamaIndex component.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from llama_index.core.bridge.pydantic import (
    Field,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)
from llama_index.core.schema import BaseComponent

from llmhub_runtime import LLMHub
from llmhub_runtime.adapter_core import HubLookup, hub_args, refuse_init_kwargs, role_fingerprint
from llmhub_runtime.errors import LLMHubError

__all__ = ["TARGET_KEY", "RoleComponent"]

TARGET_KEY = "llmhub_target"
"""The key ``to_dict()`` adds: what the role resolves to (read back and ignored by ``from_dict``)."""


class RoleComponent(BaseComponent):
    """A LlamaIndex component bound to an llmhub role: ``role``, which hub, params over the role's."""

    role: str = Field(description="The llmhub role to call, e.g. 'llm.inference'.")
    config_path: str | None = Field(
        default=None, description="Path of llmhub.yaml; None: $LLMHUB_CONFIG at construction, else ./llmhub.yaml."
    )
    params_override: dict[str, Any] = Field(
        default_factory=dict, description="Params that win over the role's own (None removes one)."
    )

    _lookup: HubLookup = PrivateAttr(default_factory=HubLookup)

    def __init__(
        self,
        role: str,
        *,
        hub: LLMHub | None = None,
        config_path: str | os.PathLike[str] | None = None,
        hooks: Sequence[object] = (),
        **overrides: Any,
    ) -> None:
        owner = type(self).__name__
        overrides.pop(TARGET_KEY, None)  # written by to_dict(); the role decides it again
        if overrides.get("model_name") == role:
            overrides.pop("model_name")  # RoleEmbedding's model_name is the role (to_dict() round trip)
        fields = {name: overrides.pop(name) for name in list(overrides) if name in type(self).model_fields}
        params = {**(fields.pop("params_override", None) or {}), **overrides}
        refuse_init_kwargs([*fields, *params], owner, role)
        found_hub, path = hub_args(hub, config_path, owner)
        super().__init__(role=role, config_path=path, params_override=params, **self._init_defaults(role), **fields)
        self._lookup = HubLookup(found_hub, path, hooks)
        self._bound()

    def _init_defaults(self, role: str) -> dict[str, Any]:
        """Framework fields this class sets from the role (``RoleEmbedding``: ``model_name``)."""
        return {}

    def _bound(self) -> None:
        """Called once the hub lookup is set (``RoleEmbedding`` scopes its ``embeddings_cache``)."""

    @property
    def hub(self) -> LLMHub:
        """The hub this component calls: the one given, else the shared hub of ``config_path`` (found once)."""
        return self._lookup()

    def llmhub_target(self) -> dict[str, Any] | None:
        """What the role resolves to with this component's params (``adapter_core.role_fingerprint``).

        ``None`` when the config cannot be read or the role is unknown (a call would raise).
        """
        try:
            return role_fingerprint(self.hub.resolve(self.role), self.params_override)
        except LLMHubError:
            return None

    @model_serializer(mode="wrap")
    def custom_model_dump(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        """The fields, ``class_name`` and ``llmhub_target``: so caches keyed by ``to_dict()`` (e.g.
        ``IngestionPipeline``'s) change when the role's model, endpoint or params change."""
        data: dict[str, Any] = handler(self)
        data["class_name"] = self.class_name()
        data[TARGET_KEY] = self.llmhub_target()
        return data
