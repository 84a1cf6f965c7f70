"""The small async protocol every chat model in planner-loop speaks.

A caller builds :class:`ChatMessage` objects and a :class:`SamplingParams`, awaits
``model.complete(messages, params)`` and gets ``params.n`` :class:`Completion` objects back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

ROLES = frozenset({"system", "user", "assistant", "tool"})
REASONING_EFFORTS = ("minimal", "low", "medium", "high")


@dataclass(frozen=True)
class ToolCall:
    """A function call a reply asks for (OpenAI function calling): its id, function name and JSON arguments."""

    id: str
    name: str
    arguments: str

    def to_json(self) -> dict[str, Any]:
        """The OpenAI wire form of one entry of an assistant message's ``tool_calls``."""
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


@dataclass(frozen=True)
class ChatMessage:
    """One chat turn: ``role`` is system, user, assistant or tool.

    An assistant turn may carry the ``tool_calls`` it made; a ``tool`` turn answers the call
    ``tool_call_id``.
    """

    role: str
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"chat role must be one of {sorted(ROLES)}, not {self.role!r}")

    def to_json(self) -> dict[str, Any]:
        """The OpenAI wire form ``{"role": ..., "content": ...}`` (tool keys only when set)."""
        wire: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            wire["tool_calls"] = [call.to_json() for call in self.tool_calls]
        if self.tool_call_id is not None:
            wire["tool_call_id"] = self.tool_call_id
        return wire


@dataclass(frozen=True)
class SamplingParams:
    """Everything that decides what a model may return (and so belongs in the cache key).

    ``json_schema`` constrains the reply to a JSON document matching the schema (sent as an OpenAI
    ``response_format``); ``grammar`` is a GBNF grammar (llama.cpp-based servers only).
    ``n`` is the number of samples; sample ``i`` uses ``seed + i`` when it has to be emulated.
    ``reasoning_effort`` (``minimal``, ``low``, ``medium``, ``high``) is sent to reasoning models;
    ``max_completion_tokens`` (when set) is sent instead of ``max_tokens`` and bounds visible plus
    reasoning tokens. Both enter the cache key only when set, so existing caches keep their keys.
    ``tools`` (OpenAI function-calling specs) are sent as ``tools``; also in the key only when set.
    """

    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0
    stop: tuple[str, ...] = ()
    n: int = 1
    json_schema: Mapping[str, Any] | None = field(default=None, hash=False)
    grammar: str | None = None
    reasoning_effort: str | None = None
    max_completion_tokens: int | None = None
    tools: tuple[Mapping[str, Any], ...] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be at least 1, not {self.n}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, not {self.max_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, not {self.temperature}")
        if self.json_schema is not None and self.grammar is not None:
            raise ValueError("give json_schema or grammar, not both")
        if self.reasoning_effort is not None and self.reasoning_effort not in REASONING_EFFORTS:
            raise ValueError(f"reasoning_effort must be one of {', '.join(REASONING_EFFORTS)}, "
                             f"not {self.reasoning_effort!r}")
        if self.max_completion_tokens is not None and self.max_completion_tokens < 1:
            raise ValueError(f"max_completion_tokens must be at least 1, not {self.max_completion_tokens}")

    def to_json(self) -> dict[str, Any]:
        """A plain, JSON-serialisable view (used for cache keys and call records)."""
        view: dict[str, Any] = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "stop": list(self.stop),
            "n": self.n,
            "json_schema": dict(self.json_schema) if self.json_schema is not None else None,
            "grammar": self.grammar,
        }
        if self.reasoning_effort is not None:
            view["reasoning_effort"] = self.reasoning_effort
        if self.max_completion_tokens is not None:
            view["max_completion_tokens"] = self.max_completion_tokens
        if self.tools:
            view["tools"] = [dict(tool) for tool in self.tools]
        return view


@dataclass(frozen=True)
class Completion:
    """One sampled reply with its accounting.

    ``retries`` counts the failed attempts before this reply arrived; ``cost_usd`` is ``None``
    when no price is known for the model; ``cached`` is true when it came from the response cache.
    ``reasoning_tokens`` (part of ``completion_tokens``) and ``cached_prompt_tokens`` (part of
    ``prompt_tokens``) are what the endpoint reported; ``reasoning_content`` is a server's separate
    reasoning text (vLLM, DeepSeek), kept for the record and never part of ``text``. ``truncated``
    is true when the reply was cut at :data:`~planner_loop.llm.textsafety.MAX_REPLY_CHARS`;
    ``batch_id`` names the Batch API job that produced it; ``tool_calls`` the function calls the
    reply asks for (when ``SamplingParams.tools`` offered some).
    """

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    cached: bool
    call_id: str
    retries: int
    cost_usd: float | None
    reasoning_tokens: int = 0
    cached_prompt_tokens: int = 0
    reasoning_content: str | None = None
    truncated: bool = False
    batch_id: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()


@runtime_checkable
class ChatModel(Protocol):
    """An async chat model. ``complete`` returns exactly ``params.n`` completions."""

    spec: str

    async def complete(self, messages: Sequence[ChatMessage], params: SamplingParams) -> list[Completion]:
        """Sample ``params.n`` replies to ``messages``."""
        ...

    async def aclose(self) -> None:
        """Release connections and any local server the model started."""
        ...
