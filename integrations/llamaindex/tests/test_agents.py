"""FunctionAgent and ReActAgent (llama_index.core.agent.workflow) finishing a task that needs a tool."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ReActAgent, ToolCallResult
from llama_index.core.memory import ChatMemoryBuffer

from llama_index.llms.llmhub import RoleLLM
from llmhub_runtime.testing import StandInServer

# Workflow construction inspects the agent (a pydantic model) with inspect.getmembers, and the
# ReAct step checks ctx.is_running: both warn inside llama-index itself, not in this adapter.
pytestmark = [
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20"),
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211"),
    pytest.mark.filterwarnings("ignore:is_running called from within a step:DeprecationWarning"),
]

QUESTION = "What is 6 multiplied by 7? Use the multiply tool."


@pytest.mark.parametrize("streaming", [True, False])
async def test_function_agent(config_path: str, server: StandInServer, multiplier: Any, streaming: bool) -> None:
    agent = FunctionAgent(
        tools=[multiplier.tool()],
        llm=RoleLLM("llm.inference", config_path=config_path),
        system_prompt="You are a calculator.",
        streaming=streaming,
    )
    handler = agent.run(user_msg=QUESTION)
    results = [event async for event in handler.stream_events() if isinstance(event, ToolCallResult)]
    output = await handler

    assert multiplier.calls == [(6, 7)]
    assert [(r.tool_name, r.tool_kwargs, r.tool_output.content) for r in results] == [
        ("multiply", {"a": 6, "b": 7}, "42")
    ]
    assert str(output) == "Tool result: 42"

    first, second = server.requests
    assert [first.stream, second.stream] == [streaming, streaming]
    assert [t["function"]["name"] for t in first.body["tools"]] == ["multiply"]
    assert first.body["parallel_tool_calls"] is True
    # The second turn carries the assistant's tool call and the tool's answer to it.
    assistant, tool = second.body["messages"][-2:]
    [call] = assistant["tool_calls"]
    assert (call["function"]["name"], call["function"]["arguments"]) == ("multiply", '{"a": 6, "b": 7}')
    assert tool == {"role": "tool", "content": "42", "tool_call_id": call["id"]}


@pytest.mark.parametrize("streaming", [True, False])
async def test_react_agent(config_path: str, server: StandInServer, multiplier: Any, streaming: bool) -> None:
    agent = ReActAgent(
        tools=[multiplier.tool()], llm=RoleLLM("llm.react", config_path=config_path), streaming=streaming
    )
    handler = agent.run(user_msg="What is 12 multiplied by 5?")
    deltas = [event.delta async for event in handler.stream_events() if isinstance(event, AgentStream)]
    output = await handler

    assert multiplier.calls == [(12, 5)]
    assert str(output) == "The product is 60."
    first, second = server.requests
    assert [first.stream, second.stream] == [streaming, streaming]
    assert "tools" not in first.body  # ReAct describes tools in its prompt
    assert "multiply" in first.body["messages"][0]["content"]
    assert second.body["messages"][-1] == {"role": "user", "content": "Observation: 60"}
    if streaming:
        assert "".join(deltas).endswith("Answer: The product is 60.")


async def test_function_agent_keeps_chat_memory(config_path: str, server: StandInServer, multiplier: Any) -> None:
    memory = ChatMemoryBuffer.from_defaults()
    agent = FunctionAgent(tools=[multiplier.tool()], llm=RoleLLM("llm.inference", config_path=config_path))
    await agent.run(user_msg="say first", memory=memory)
    await agent.run(user_msg="say second", memory=memory)
    last = server.requests[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in last] == [
        ("user", "say first"),
        ("assistant", "first"),
        ("user", "say second"),
    ]
    assert multiplier.calls == []
