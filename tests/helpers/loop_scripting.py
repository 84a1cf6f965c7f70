"""Scripted replies for the loop's end-to-end tests, served by the llm layer's real fake HTTP server.

The generator's script is keyed by content (its previous reply decides its next one), so replies
do not depend on request order or concurrency; the critic's reply is looked up by the plan text it
was asked about, and may depend on the vote (the request's seed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

CRITIC_MARK = "plan checker"


class ScriptedReplies:
    """A responder for ``FakeOpenAIServer``: generator replies in order, critic replies by plan."""

    def __init__(self, generator: Sequence[str],
                 critic: Mapping[str, str] | Callable[[str, int], str] | None = None,
                 critic_default: str = "Verdict: invalid") -> None:
        if len(set(generator)) != len(generator):
            raise ValueError("scripted generator replies must be distinct")
        self.generator = list(generator)
        self.critic = critic or {}
        self.critic_default = critic_default
        self.critic_requests: list[Mapping[str, Any]] = []

    def __call__(self, request: Mapping[str, Any]) -> str:
        messages = request["messages"]
        if CRITIC_MARK in messages[0]["content"]:
            self.critic_requests.append(request)
            plan = checked_plan(messages[-1]["content"])
            vote = int(request.get("seed") or 0) % 1000
            if callable(self.critic):
                return self.critic(plan, vote)
            return self.critic.get(plan, self.critic_default)
        replies = [m["content"] for m in messages if m["role"] == "assistant"]
        if not replies:
            return self.generator[0]
        index = self.generator.index(replies[-1])
        return self.generator[min(index + 1, len(self.generator) - 1)]


def checked_plan(prompt: str) -> str:
    """The plan a critic prompt asks about (the last plan block of the prompt)."""
    blocks = re.findall(r"The plan to check:\n(?:\[PLAN\]\n)?(.*?)(?:\n\[PLAN END\])?\n\n", prompt, re.S)
    return blocks[-1].strip() if blocks else ""
