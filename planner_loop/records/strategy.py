"""How an episode spent its compute: the strategy, its parameters and its budget."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from planner_loop.records.base import RecordModel
from planner_loop.records.usage import Usage


class Budget(RecordModel):
    """An episode's spending limit (``None`` = no limit).

    ``max_calls`` is strict: a strategy never starts a call that would pass it. Token counts are
    known only after a call, so ``max_tokens`` is checked between calls: once it is reached no new
    call starts, and the call that crossed it is kept.
    """

    max_calls: int | None = Field(None, ge=0, description="Model calls allowed per episode (critic calls included).")
    max_tokens: int | None = Field(None, ge=0, description="Prompt plus completion tokens allowed per episode.")

    def allows(self, used: Usage, next_calls: int = 1) -> bool:
        """Whether ``next_calls`` more calls may start after ``used`` was spent."""
        if self.max_calls is not None and used.calls + next_calls > self.max_calls:
            return False
        return self.max_tokens is None or used.total_tokens < self.max_tokens


class StrategyRecord(RecordModel):
    """The strategy that ran the episode (``refine`` is the propose → judge → feed back loop)."""

    name: str = Field("refine", description="Registered strategy name.")
    params: dict[str, Any] = Field(default_factory=dict, description="The strategy's parameters as configured.")
    budget: Budget = Field(default_factory=Budget, description="The spending limit the episode ran under.")
