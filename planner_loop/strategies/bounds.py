"""The most one episode of a strategy can ask for: its calls and the shape of its prompts.

Each built-in strategy declares ``episode_bound(condition) -> EpisodeBound`` beside its ``run``;
``run --dry-run`` (:mod:`planner_loop.run_estimate`) asks it, and :func:`max_calls` caps the answer
by the condition's per-episode budget. A strategy from another package may declare one too; without
it the dry run bounds the condition by its budget alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from planner_loop.records import Budget


class BoundedCondition(Protocol):
    """The condition settings a bound reads (a ``ConditionConfig`` has them)."""

    @property
    def max_rounds(self) -> int | None: ...

    @property
    def context(self) -> str: ...

    @property
    def budget(self) -> Budget: ...


@dataclass(frozen=True)
class EpisodeBound:
    """At most ``generator_calls`` generator calls and ``verdicts`` verdicts (each of a verifier's
    calls per verdict) in one episode.

    A generator call's prompt is the generator's first prompt plus, for the i-th call, at most
    ``min(i - 1, carried)`` earlier exchanges (a reply and, when ``carries_feedback``, what was
    fed back on it: feedback, a review request or a tool result) and at most ``text_bytes`` of the strategy's own wording. A
    judged plan is made of at most ``plan_replies`` replies. After one budget check a strategy starts
    at most one generator call and ``verdicts_per_step`` verdicts. ``least_calls`` is what an
    episode makes when its first answer ends it (an estimate for the low figure, not a bound).
    """

    generator_calls: int
    verdicts: int
    carried: int
    text_bytes: int = 0
    plan_replies: int = 1
    carries_feedback: bool = True
    """An exchange carried holds what was fed back on the reply (tree search carries actions only)."""
    verdicts_per_step: int = 1
    least_generator_calls: int = 1
    least_verdicts: int = 1
    constrained: bool = False
    """The generator's plan is decoded under the plan schema (its prompt asks for JSON)."""

    def calls(self, verifier_calls_per_verdict: int) -> int:
        """Most model calls of one episode, critic votes included (no budget applied)."""
        return self.generator_calls + self.verdicts * verifier_calls_per_verdict

    def least(self, verifier_calls_per_verdict: int) -> int:
        return self.least_generator_calls + self.least_verdicts * verifier_calls_per_verdict


def refinement_bound(condition: BoundedCondition, text_bytes: int = 0) -> EpisodeBound:
    """Propose → judge → feed back for ``max_rounds`` rounds (``context: all`` carries every earlier round)."""
    rounds = condition.max_rounds or 1
    carried = rounds - 1 if condition.context == "all" else min(rounds - 1, 1)
    return EpisodeBound(generator_calls=rounds, verdicts=rounds, carried=carried, text_bytes=text_bytes)


def max_calls(bound: EpisodeBound, condition: BoundedCondition, verifier_calls_per_verdict: int) -> int:
    """Most calls of one episode: the strategy's bound, capped by the budget's ``max_calls``."""
    calls = bound.calls(verifier_calls_per_verdict)
    limit = condition.budget.max_calls
    return calls if limit is None else min(calls, limit)
