"""Chat turns of one answered function call (OpenAI function calling)."""

from __future__ import annotations

from planner_loop.llm.protocol import ChatMessage, Completion, ToolCall


def function_turns(completion: Completion, call_id: str | None, result: str) -> list[ChatMessage]:
    """The assistant turn holding the call answered (only that one) and the ``tool`` turn with its result."""
    call = next((c for c in completion.tool_calls if c.id == call_id), None)
    calls: tuple[ToolCall, ...] = (call,) if call is not None else ()
    return [ChatMessage("assistant", completion.text, tool_calls=calls),
            ChatMessage("tool", result, tool_call_id=call_id)]
