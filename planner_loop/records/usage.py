"""What a round or an episode spent: model calls, tokens and (where prices are known) dollars."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import Field

from planner_loop.records.base import RecordModel


def _sum_known(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


class Usage(RecordModel):
    """Calls and tokens of one round or one episode (a sum over the calls it made).

    Token counts are ``None`` when no call reported them (records of schema version 1 kept no
    tokens; many servers report no reasoning or cached tokens). A sum keeps the known parts.
    """

    calls: int = Field(0, ge=0, description="Model calls made (cache hits included).")
    prompt_tokens: int | None = Field(0, ge=0, description="Prompt tokens over those calls; null when not recorded.")
    completion_tokens: int | None = Field(
        0, ge=0, description="Completion tokens (reasoning included) over those calls; null when not recorded.")
    reasoning_tokens: int | None = Field(
        None, ge=0, description="Reasoning tokens among the completion tokens; null when no call reported them.")
    cached_prompt_tokens: int | None = Field(
        None, ge=0, description="Prompt tokens the server served from its prompt cache; null when not reported.")
    cost_usd: float | None = Field(
        None, ge=0, description="Dollars for those calls; null when the price of any of them is unknown.")

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens (unrecorded counts as 0)."""
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)

    @classmethod
    def zero(cls) -> Usage:
        """No calls, nothing spent (a round judged without a model)."""
        return cls(calls=0, prompt_tokens=0, completion_tokens=0, cost_usd=0.0)

    @classmethod
    def of_completion(cls, completion: Any) -> Usage:
        """One call's usage from an ``llm`` ``Completion`` (newer fields read when present)."""
        return cls(
            calls=1,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            reasoning_tokens=getattr(completion, "reasoning_tokens", None),
            cached_prompt_tokens=getattr(completion, "cached_prompt_tokens", None),
            cost_usd=completion.cost_usd,
        )

    @classmethod
    def total(cls, parts: Iterable[Usage | None]) -> Usage:
        """The sum of ``parts`` (``None`` parts are skipped; an unknown cost of a call makes the total unknown)."""
        items = [p for p in parts if p is not None]
        if not items:
            return cls.zero()
        spending = [p for p in items if p.calls > 0]
        costs = [p.cost_usd for p in spending]
        return cls(
            calls=sum(p.calls for p in items),
            prompt_tokens=_sum_known(p.prompt_tokens for p in items),
            completion_tokens=_sum_known(p.completion_tokens for p in items),
            reasoning_tokens=_sum_known(p.reasoning_tokens for p in items),
            cached_prompt_tokens=_sum_known(p.cached_prompt_tokens for p in items),
            cost_usd=None if any(c is None for c in costs) else round(sum(c for c in costs if c is not None), 10),
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage.total((self, other))
