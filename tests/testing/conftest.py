"""SDK clients pointed at the session's stand-in server, with retries off."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anthropic
import openai
import pytest

from llmhub_runtime.testing import StandInServer


@pytest.fixture
def oai(server: StandInServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key="sk-test", base_url=server.openai_base, max_retries=0, timeout=10) as client:
        yield client


@pytest.fixture
async def aoai(server: StandInServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(api_key="sk-test", base_url=server.openai_base, max_retries=0, timeout=10) as client:
        yield client


@pytest.fixture
def claude(server: StandInServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(
        api_key="sk-ant-test", base_url=server.anthropic_base, max_retries=0, timeout=10
    ) as client:
        yield client
