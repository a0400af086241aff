"""``RoleAdapter``: the fields and construction ``RoleChatModel`` and ``RoleEmbeddings`` share.

The rules themselves (refusals, which hub, what ``None`` means, cache keys) are llmhub's, in
``llmhub_runtime.adapter_core``; this module only fits them to a pydantic/LangChain model.
Construction stays offline: it reads at most ``$LLMHUB_CONFIG`` (the path, not the file).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from llmhub_runtime import LLMHub
from llmhub_runtime.adapter_core import HubLookup, hub_args, refuse_init_kwargs
from llmhub_runtime.errors import UsageError
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

__all__ = ["RoleAdapter"]


class RoleAdapter(BaseModel):
    """A LangChain model bound to an llmhub role: ``role``, which hub, ``hooks`` and extra params."""

    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True, protected_namespaces=())

    role: str = Field(description="The llmhub role to call, e.g. 'llm.inference'.")
    hub: LLMHub | None = Field(default=None, exclude=True, description="Hub to call; default: the shared one.")
    config_path: str | None = Field(default=None, description="llmhub.yaml to use; default: $LLMHUB_CONFIG.")
    hooks: list[Any] = Field(
        default_factory=list,
        exclude=True,
        description="llmhub hooks added to the hub's own (they see every call made through that hub).",
    )
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="More params sent on every call; a None value removes the role's."
    )

    _param_fields: ClassVar[Mapping[str, str]] = {}
    """Fields (and aliases) that are call params: an explicit ``None`` becomes ``model_kwargs[param] = None``."""

    _lookup: HubLookup | None = PrivateAttr(default=None)

    def __init__(self, role: str | None = None, /, **kwargs: Any) -> None:
        """``Cls("llm.inference", ...)``: the role positional or as ``role=``."""
        if role is not None:
            if "role" in kwargs:
                raise UsageError(f"{type(self).__name__} got the role twice (positional and role=); pass it once.")
            kwargs["role"] = role
        super().__init__(**kwargs)

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        owner, role = cls.__name__, values.get("role")
        extra = values.get("model_kwargs") or {}
        refuse_init_kwargs(values, owner, role if isinstance(role, str) else None)
        refuse_init_kwargs(extra, owner, role if isinstance(role, str) else None)
        values["hub"], values["config_path"] = hub_args(values.get("hub"), values.get("config_path"), owner)
        names = set(cls.model_fields) | {field.alias for field in cls.model_fields.values() if field.alias}
        moved = {key: values.pop(key) for key in list(values) if key not in names}
        for name, param in cls._param_fields.items():
            if name in values and values[name] is None:
                del values[name]
                moved[param] = None  # explicit None: send no value for this param, even if the role sets one
        if moved:
            clash = sorted(set(moved) & set(extra))
            if clash:
                raise UsageError(f"{', '.join(clash)} given both directly and in model_kwargs=; pass each once.")
            values["model_kwargs"] = {**extra, **moved}
        return values

    @property
    def _client(self) -> LLMHub:
        """The hub, found once per instance (``llmhub_runtime.adapter_core.HubLookup``)."""
        lookup = self._lookup
        if lookup is None or not lookup.matches(self.hub, self.config_path, self.hooks):
            lookup = self._lookup = HubLookup(self.hub, self.config_path, self.hooks)
        return lookup()
