"""The param names read from any-llm's source are those of its real method signatures."""

from __future__ import annotations

import inspect

import pytest

from llmhub_runtime.models import MODES
from llmhub_runtime.params import CALL_ARGUMENTS, MODE_METHOD_NAMES, SDK_PASSTHROUGH, accepted_params


@pytest.mark.parametrize("mode", MODES)
def test_names_match_any_llm_signatures(mode: str) -> None:
    from any_llm import AnyLLM

    method = MODE_METHOD_NAMES[mode]
    parameters = inspect.signature(getattr(AnyLLM, method)).parameters
    named = {n for n, p in parameters.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
    expected = named - CALL_ARGUMENTS[method] - {"self", "model", "stream", "timeout", "session_label"}
    assert accepted_params(mode) == (frozenset(expected | SDK_PASSTHROUGH) if expected else None)


def test_chat_knows_the_common_params() -> None:
    assert {"temperature", "max_tokens", "top_p", "stop", "response_format", "tools"} <= (
        accepted_params("chat") or set()
    )
    assert accepted_params("embedding") is None  # every embedding param is provider-specific
