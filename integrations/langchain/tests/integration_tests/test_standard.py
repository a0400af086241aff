"""LangChain's standard integration suites (langchain-tests) against the loopback stand-in server."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests, EmbeddingsIntegrationTests

from langchain_llmhub import RoleChatModel, RoleEmbeddings


@pytest.mark.usefixtures("offline_test_media")
class TestRoleChatModelIntegration(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[RoleChatModel]:
        return RoleChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"role": "llm.inference"}

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_pdf_inputs(self) -> bool:
        return True

    @property
    def supports_audio_inputs(self) -> bool:
        return True

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_pdf_tool_message(self) -> bool:
        return True

    @property
    def enable_vcr_tests(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        # The role picks the model in llmhub.yaml; switch roles with configurable_fields(role=...).
        return False


class TestRoleEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[RoleEmbeddings]:
        return RoleEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"role": "llm.embedding"}


class TestRoleChatModelAnthropicIntegration(TestRoleChatModelIntegration):
    """The same suite for a role whose provider speaks Anthropic's Messages API (via any-llm).

    Capabilities are the OpenAI-wire role's, except those overridden below.
    """

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"role": "llm.anthropic"}

    @property
    def supports_json_mode(self) -> bool:
        # any-llm's Anthropic provider rejects response_format json_object (json_schema works).
        return False

    @property
    def supports_audio_inputs(self) -> bool:
        # Anthropic's Messages API takes no audio.
        return False

    @property
    def supports_image_tool_message(self) -> bool:
        # any-llm passes OpenAI image parts into Anthropic tool_result blocks unconverted.
        return False

    @property
    def supports_pdf_tool_message(self) -> bool:
        # Same for OpenAI file parts in tool results.
        return False
