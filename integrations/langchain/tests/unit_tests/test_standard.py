"""LangChain's standard unit suites (langchain-tests), offline: no config file exists here."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.unit_tests import ChatModelUnitTests, EmbeddingsUnitTests
from syrupy.assertion import SnapshotAssertion

from langchain_llmhub import RoleChatModel, RoleEmbeddings

CONFIG = "/srv/app/llmhub.yaml"


class TestRoleChatModelUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[RoleChatModel]:
        return RoleChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"role": "llm.inference"}

    @property
    def standard_chat_model_params(self) -> dict[str, Any]:
        # The standard params include api_key="test"; RoleChatModel rejects keys on purpose
        # (credentials live in llmhub.yaml), so the suite runs with the other standard params.
        params = dict(super().standard_chat_model_params)
        params.pop("api_key")
        return params

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return {"LLMHUB_CONFIG": CONFIG}, {"role": "llm.inference"}, {"config_path": CONFIG}

    @property
    def supports_json_mode(self) -> bool:
        return True

    @pytest.mark.xfail(
        reason="load(allowed_objects='all') admits only classes in langchain-core's own mapping; "
        "RoleChatModel round-trips with allowed_objects=[RoleChatModel] (test_chat_models.py)",
        raises=ValueError,
        strict=True,
    )
    def test_serdes(self, model: BaseChatModel, snapshot: SnapshotAssertion) -> None:
        super().test_serdes(model, snapshot)


class TestRoleEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[RoleEmbeddings]:
        return RoleEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"role": "llm.embedding"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return {"LLMHUB_CONFIG": CONFIG}, {"role": "llm.embedding"}, {"config_path": CONFIG}
