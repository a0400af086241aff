"""A LlamaIndex FunctionAgent whose model is an llmhub role, finishing a task that needs a tool.

    pip install -e integrations/llamaindex
    LLMHUB_CONFIG=path/to/llmhub.yaml python examples/llamaindex_agent.py [ROLE]

The role (default ``llm.inference``) must be a chat role on a model that calls tools; which
provider and model that is, is decided by llmhub.yaml: ``$LLMHUB_CONFIG``, else
``local/llmhub.yaml`` next to this file (the tiny local SmolLM2, which ignores tools). Runs from
any directory.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.tools import FunctionTool
from llama_index.llms.llmhub import RoleLLM

os.environ.setdefault("LLMHUB_CONFIG", str(Path(__file__).resolve().parent / "local" / "llmhub.yaml"))


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


async def run(role: str) -> str:
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(fn=multiply)],
        llm=RoleLLM(role),
        system_prompt="You are a calculator. Use the multiply tool.",
    )
    handler = agent.run(user_msg="What is 6 multiplied by 7? Use the multiply tool.")
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            print(f"tool {event.tool_name}({event.tool_kwargs}) -> {event.tool_output.content}")
    return str(await handler)


def main() -> None:
    role = sys.argv[1] if len(sys.argv) > 1 else "llm.inference"
    print("answer:", asyncio.run(run(role)))


if __name__ == "__main__":
    main()
