from any_llm import AnyLLM

from llmhub_runtime.providers import default_env_key, known_provider_ids


def test_known_ids_match_any_llm() -> None:
    assert known_provider_ids() == frozenset(AnyLLM.get_supported_providers())


def test_default_env_key() -> None:
    assert default_env_key("openai") == "OPENAI_API_KEY"
    assert default_env_key("llamacpp") is None
