"""The default brain: a deterministic scripted model that answers a `Conversation`.

Rules, first match wins:

1. **ReAct.** When a system prompt asks for the ReAct text format ("> Tool Name:" ... "Action Input:",
   as LlamaIndex's `ReActAgent` sends) and no tools API is used: "Thought/Action/Action Input" for a
   tool the user's words match (rule 2, tool names looked up in user messages only), and
   "Thought/Answer" otherwise or after an "Observation:".
2. **Tool call.** With tools offered and `tool_choice` not "none", call one tool when the choice
   is "required"/"any" (the best match), names a tool (that tool), or is "auto" and the last message
   is a user message while a tool's name appears in a user or system message or a word of its
   description (4+ letters, not a stop word) appears in the last user message. Best match: name
   mentioned, then most description words shared, then first offered. Arguments are built from
   the tool's JSON schema (`schema_instance`): numbers from the last user message in order
   (fallback 1), strings from its quoted text, then its runs of capitalised words (fallback
   "example"), booleans true, enums their first value, arrays one element, objects recursively.
3. **After tool results.** When the last message is a tool result: "Tool result: <content>"
   (several trailing results are joined with "; ").
4. **JSON schema** (`response_format` json_schema / Anthropic `output_config`): a JSON instance
   valid for the schema, built the same way.
5. **JSON object** mode: an object whose keys are the quoted identifiers of the last user message
   (values "example"), or `{"answer": "<text reply>"}` when there are none.
6. **Text.** "say X" / "repeat X" / "reply with X" → X; otherwise
   "Stand-in reply to: <last user text>" ("Stand-in reply." when there is no user text).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from llmhub_runtime.testing.conversation import Conversation, ToolSpec
from llmhub_runtime.testing.replies import Reply, ToolCall
from llmhub_runtime.testing.schema_instance import hints_from_text, instance_for

__all__ = ["answer", "text_reply"]

# fmt: off
_STOP_WORDS = frozenset({
    "about", "after", "also", "able", "based", "before", "being", "call", "calls", "called", "does", "each",
    "from", "given", "have", "into", "make", "more", "only", "other", "over", "same", "should", "some", "such",
    "than", "that", "their", "them", "then", "there", "these", "they", "this", "those", "tool", "tools",
    "under", "used", "uses", "using", "value", "values", "what", "when", "where", "which", "will", "with",
    "would", "your", "function", "functions", "input", "inputs", "output", "outputs", "return", "returns",
    "result", "results", "data", "specified", "provided",
})
# fmt: on
_SAY = re.compile(
    r"^\s*(?:please\s+)?(?:say|repeat(?:\s+after\s+me)?|reply\s+with|respond\s+with|answer\s+with)\b\s*:?\s*(.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_REACT_TOOL = re.compile(
    r"> Tool Name: (?P<name>[^\n]+)\nTool Description: (?P<description>.*?)\nTool Args: (?P<args>[^\n]*)", re.DOTALL
)
_REACT_DONE = "Thought: I can answer without using any more tools. I'll use the user's language to answer"
_IDENTIFIER = re.compile(r"^[A-Za-z_][\w-]{0,63}$")
_KEY_QUOTED = re.compile(r"\"([^\"\n]+)\"|(?<!\w)'([^'\n]+)'(?!\w)|`([^`\n]+)`")


def answer(conversation: Conversation) -> Reply:
    """The default answer for a conversation (see the module docstring for the rules)."""
    react = _react(conversation)
    if react is not None:
        return Reply(text=react)
    tool = _tool_to_call(conversation)
    if tool is not None:
        return Reply(tool_calls=[ToolCall(tool.name, _arguments(tool, conversation))])
    last = conversation.messages[-1] if conversation.messages else None
    if last is not None and last.role == "tool":
        return Reply(text=_after_tool_results(conversation))
    if conversation.response_schema is not None:
        hints = hints_from_text(conversation.last_user_text)
        value = instance_for(conversation.response_schema, hints)
        return Reply(text=json.dumps(value, ensure_ascii=False))
    if conversation.json_object:
        return Reply(text=json.dumps(_json_object(conversation), ensure_ascii=False))
    return Reply(text=text_reply(conversation.last_user_text))


def text_reply(user_text: str) -> str:
    """The plain-text answer to a user message."""
    said = _SAY.match(user_text)
    if said:
        return said.group(1).strip().strip("\"'`“”").rstrip(".") or said.group(1)
    user_text = " ".join(user_text.split())
    return f"Stand-in reply to: {user_text}" if user_text else "Stand-in reply."


def _tool_to_call(conversation: Conversation) -> ToolSpec | None:
    tools = conversation.tools
    if not tools or conversation.tool_choice == "none":
        return None
    if conversation.tool_choice == "named":
        return next((tool for tool in tools if tool.name == conversation.forced_tool), None)
    if conversation.tool_choice == "required":
        return _best_match(conversation, require_match=False)
    last = conversation.messages[-1] if conversation.messages else None
    if last is None or last.role != "user":
        return None
    return _best_match(conversation, require_match=True)


def _best_match(
    conversation: Conversation, *, require_match: bool, roles: tuple[str, ...] = ("user", "system")
) -> ToolSpec | None:
    prompt_text = " ".join(m.text for m in conversation.messages if m.role in roles)
    user_words = set(re.findall(r"[a-z]+", conversation.last_user_text.lower()))
    best: tuple[int, int, ToolSpec] | None = None
    for position, tool in enumerate(conversation.tools):
        named = re.search(rf"(?<![\w]){re.escape(tool.name)}(?![\w])", prompt_text) is not None
        description_words = {
            word for word in re.findall(r"[a-z]+", tool.description.lower()) if len(word) >= 4
        } - _STOP_WORDS
        score = (100 if named else 0) + len(description_words & user_words)
        if best is None or score > best[0]:
            best = (score, position, tool)
    if best is None or (require_match and best[0] == 0):
        return None
    return best[2]


def _arguments(tool: ToolSpec, conversation: Conversation) -> dict[str, object]:
    names = tuple(t.name for t in conversation.tools)
    hints = hints_from_text(conversation.last_user_text, exclude=names)
    schema = dict(tool.parameters) if tool.parameters else {"type": "object", "properties": {}}
    schema.setdefault("type", "object")
    value = instance_for(schema, hints)
    return value if isinstance(value, dict) else {}


def _after_tool_results(conversation: Conversation) -> str:
    results: list[str] = []
    for message in reversed(conversation.messages):
        if message.role != "tool":
            break
        results.append(message.text)
    return "Tool result: " + "; ".join(reversed(results))


def _json_object(conversation: Conversation) -> dict[str, object]:
    keys: list[str] = []
    for match in _KEY_QUOTED.findall(conversation.last_user_text):
        key = next(group for group in match if group)
        if _IDENTIFIER.match(key) and key not in keys:
            keys.append(key)
    if not keys:
        return {"answer": text_reply(conversation.last_user_text)}
    return dict.fromkeys(keys, "example")


def _react(conversation: Conversation) -> str | None:
    """Answer in the ReAct text format when the system prompt asks for it (and no tools API is used)."""
    if conversation.tools or not any(
        m.role == "system" and "Action Input:" in m.text and "> Tool Name:" in m.text for m in conversation.messages
    ):
        return None
    last = conversation.messages[-1]
    if last.role in ("user", "tool") and last.text.startswith("Observation:"):
        observation = last.text.removeprefix("Observation:").strip()
        return f"{_REACT_DONE}\nAnswer: Tool result: {observation}"
    system = "\n".join(m.text for m in conversation.messages if m.role == "system")
    tools = tuple(
        ToolSpec(match["name"].strip(), match["description"].strip(), _json_object_or_empty(match["args"]))
        for match in _REACT_TOOL.finditer(system)
    )
    with_tools = replace(conversation, tools=tools, tool_choice="auto")
    tool = _best_match(with_tools, require_match=True, roles=("user",)) if last.role == "user" else None
    if tool is None:
        return f"{_REACT_DONE}\nAnswer: {text_reply(conversation.last_user_text)}"
    arguments = json.dumps(_arguments(tool, with_tools), ensure_ascii=False)
    return (
        f"Thought: I need to use a tool to help me answer the question.\nAction: {tool.name}\nAction Input: {arguments}"
    )


def _json_object_or_empty(text: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
