"""Reading a chat-completion reply: texts, reasoning, token accounting, and what a model refuses.

Every text is normalised and bounded here (:mod:`planner_loop.llm.textsafety`), before it is
cached, logged or returned. A server's ``reasoning_content`` (vLLM, DeepSeek; ``reasoning`` on
some gateways) is kept apart and never becomes the answer text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import openai

from planner_loop.llm.protocol import ToolCall
from planner_loop.llm.retry import GarbledReplyError
from planner_loop.llm.textsafety import safe_reply

# OpenAI reasoning models refuse a temperature other than the default (and max_tokens).
_REASONING_MODEL = re.compile(r"^(o1|o3|o4)(-|$)|^gpt-5(?!.*chat)")
_REFUSAL_WORDS = ("unsupported", "not supported", "does not support")


def is_reasoning_model(model: str) -> bool:
    """True for model names known to refuse ``temperature`` and ``max_tokens`` (o1/o3/o4, gpt-5)."""
    return bool(_REASONING_MODEL.search(model.rsplit("/", 1)[-1].lower()))


def refused_parameter(error: openai.BadRequestError) -> str | None:
    """The parameter a 400 says the model does not support (``temperature``, ``max_tokens``), if any."""
    message = str(error.message).lower()
    if not any(word in message for word in _REFUSAL_WORDS):
        return None
    for name in ("temperature", "max_tokens"):
        if error.param == name or f"'{name}'" in message or f"`{name}`" in message or f'"{name}"' in message:
            return name
    return None


def check_completion(data: Any) -> dict[str, Any]:
    """``data`` if it is a usable chat completion, else GarbledReplyError (retried)."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not all(
            isinstance(c, dict) and isinstance(c.get("message"), dict) for c in choices):
        raise GarbledReplyError("reply has no usable choices")
    return data


@dataclass(frozen=True)
class Sample:
    """One choice of a reply, normalised."""

    text: str
    finish_reason: str
    reasoning_content: str | None
    truncated: bool
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ParsedReply:
    """A reply's samples and its per-request usage."""

    samples: tuple[Sample, ...]
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    cached_prompt_tokens: int

    def share(self, j: int) -> tuple[int, int, int, int]:
        """Sample ``j``'s (prompt, completion, reasoning, cached prompt) tokens: the first sample carries
        the prompt tokens and the rounding remainders, so sums over samples equal what was billed."""
        count = len(self.samples)
        c_share, c_rest = divmod(self.completion_tokens, count)
        r_share, r_rest = divmod(self.reasoning_tokens, count)
        first = j == 0
        return (self.prompt_tokens if first else 0, c_share + (c_rest if first else 0),
                r_share + (r_rest if first else 0), self.cached_prompt_tokens if first else 0)


def _count(mapping: Any, key: str) -> int:
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def read_completion(data: Mapping[str, Any], wanted: int) -> ParsedReply:
    """The first ``wanted`` choices (by index) of a checked completion, with usage."""
    choices = sorted(data["choices"], key=lambda c: _count(c, "index"))[:wanted]
    samples = []
    for choice in choices:
        message = choice["message"]
        text, truncated = safe_reply(str(message.get("content") or ""))
        thought = message.get("reasoning_content")
        if not isinstance(thought, str):
            thought = message.get("reasoning") if isinstance(message.get("reasoning"), str) else None
        samples.append(Sample(text, str(choice.get("finish_reason") or "stop"),
                              safe_reply(thought)[0] if thought else None, truncated, _tool_calls(message)))
    usage = data.get("usage")
    return ParsedReply(
        samples=tuple(samples), prompt_tokens=_count(usage, "prompt_tokens"),
        completion_tokens=_count(usage, "completion_tokens"),
        reasoning_tokens=_count(usage.get("completion_tokens_details") if isinstance(usage, Mapping) else None,
                                "reasoning_tokens"),
        cached_prompt_tokens=_count(usage.get("prompt_tokens_details") if isinstance(usage, Mapping) else None,
                                    "cached_tokens"))


def _tool_calls(message: Mapping[str, Any]) -> tuple[ToolCall, ...]:
    """The function calls of a reply message (entries that are not well-formed are skipped)."""
    calls = []
    for entry in message.get("tool_calls") or ():
        function = entry.get("function") if isinstance(entry, Mapping) else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            calls.append(ToolCall(str(entry.get("id") or ""), function["name"], str(function.get("arguments") or "")))
    return tuple(calls)
