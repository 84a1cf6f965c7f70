"""The one interface every verifier implements, and the verdict it returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from planner_loop.errors import PlannerLoopError
from planner_loop.records.usage import Usage

if TYPE_CHECKING:
    from planner_loop.planning.plan import Plan
    from planner_loop.planning.task import Task
    from planner_loop.prompts import SolvedExample


class VerifierError(PlannerLoopError):
    """A verifier could not reach a verdict (e.g. a VAL quirk); the episode ends with ``error``."""


@dataclass(frozen=True)
class Verdict:
    """A verifier's judgement of one plan.

    ``valid`` is ``None`` when no verdict could be read (an LLM critic's unreadable reply) or when
    there is no verifier (LLM only); either way the plan is not accepted. ``feedback`` is the text the
    generator gets back. ``call_ids`` are the LLM calls made to reach the verdict and ``usage`` what
    they spent (``None`` when the verifier called no model).
    """

    valid: bool | None
    feedback: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    call_ids: tuple[str, ...] = ()
    usage: Usage | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``verdict`` object of an episode round (:class:`planner_loop.records.VerdictRecord`)."""
        return {"valid": self.valid, "feedback": self.feedback, "detail": dict(self.detail),
                "usage": self.usage.model_dump(mode="json") if self.usage is not None else None}


@dataclass(frozen=True)
class VerifyContext:
    """What a verifier may know besides the task and the plan."""

    round: int = 1
    seed: int = 0
    parse_error: str | None = None          # why the reply held no plan (plan is None then)
    reply: str | None = None                # the generator's raw reply
    reference_plan: Plan | None = None      # an optimal plan, for reference-guided critics
    examples: Sequence[SolvedExample] = ()  # solved instances, for few-shot critics
    no_plan_claim: bool = False             # the reply claims that no plan exists
    solvable: bool | None = None            # the instance set's label (None: not recorded)


@runtime_checkable
class Verifier(Protocol):
    """Judges a plan (``None`` = the reply held no readable plan) for a task."""

    kind: str
    # Optional: ``calls_per_verdict: int``, the model calls one verdict makes (0 when absent); budgeted
    # strategies reserve them before a round starts.

    async def verify(self, task: Task, plan: Plan | None, context: VerifyContext) -> Verdict:
        """Return the verdict; raise ``VerifierError`` when no verdict can be reached."""
        ...


class NoVerifier:
    """The LLM-only system: no judgement, no feedback."""

    kind = "none"

    async def verify(self, task: Task, plan: Plan | None, context: VerifyContext) -> Verdict:
        return Verdict(valid=None, feedback="", detail={"kind": "none"})
