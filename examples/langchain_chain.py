"""LangChain on llmhub roles: a prompt | model | parser chain, then a tool-calling loop.

    pip install -e integrations/langchain
    LLMHUB_CONFIG=path/to/llmhub.yaml python examples/langchain_chain.py [ROLE]

ROLE defaults to ``llm.inference``; which provider and model answer is decided by llmhub.yaml:
``$LLMHUB_CONFIG``, else ``local/llmhub.yaml`` next to this file (the local model, which ignores
tools). Runs from any directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langchain_llmhub import RoleChatModel

os.environ.setdefault("LLMHUB_CONFIG", str(Path(__file__).resolve().parent / "local" / "llmhub.yaml"))


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def run_chain(llm: RoleChatModel) -> str:
    """A plain LCEL chain: prompt template, the role's model, string output."""
    prompt = ChatPromptTemplate.from_messages([("system", "Answer in one short sentence."), ("human", "Say {phrase}")])
    chain = prompt | llm | StrOutputParser()
    return chain.invoke({"phrase": "hello from llmhub"})


def run_tool_loop(llm: RoleChatModel, question: str, max_rounds: int = 3) -> str:
    """Model → tool → model until the model answers without calling a tool."""
    tools = {"multiply": multiply}
    llm_with_tools = llm.bind_tools(list(tools.values()))
    messages: list[BaseMessage] = [
        SystemMessage("Use the multiply tool for arithmetic, then answer with the result."),
        HumanMessage(question),
    ]
    for _ in range(max_rounds):
        reply = llm_with_tools.invoke(messages)
        messages.append(reply)
        if not isinstance(reply, AIMessage) or not reply.tool_calls:
            break
        for call in reply.tool_calls:
            messages.append(tools[call["name"]].invoke(call))
    return str(messages[-1].content)


def main(role: str = "llm.inference") -> None:
    llm = RoleChatModel(role, temperature=0)
    print("chain:", run_chain(llm))
    print("tools:", run_tool_loop(llm, "What is 6 multiply 7?"))


if __name__ == "__main__":
    main(*sys.argv[1:2])
