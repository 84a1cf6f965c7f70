"""The sound verifier: the project's own validator, with feedback at a chosen granularity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner_loop.planning.validator import validate
from planner_loop.verifiers.feedback import FeedbackRenderer
from planner_loop.verifiers.protocol import Verdict, VerifyContext

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain
    from planner_loop.planning.plan import Plan
    from planner_loop.planning.task import Task


class SymbolicVerifier:
    """Judges with ``planner_loop.planning.validate``; sound and complete for its PDDL fragment."""

    kind = "symbolic"

    def __init__(self, domain: Domain, *, feedback: str = "first-error", style: str = "nl") -> None:
        self.feedback = feedback
        self.renderer = FeedbackRenderer(domain, style)

    async def verify(self, task: Task, plan: Plan | None, context: VerifyContext) -> Verdict:
        claim = no_plan_claim_verdict(self.renderer, context, self.kind)
        if claim is not None:
            return claim
        if plan is None:
            # as VAL and PlanBench's loop do, a reply without a plan is judged as the empty plan
            # (its feedback names the unmet goals); it is never accepted, and scoring keeps it invalid
            from planner_loop.planning.plan import Plan as PlanType

            empty = validate(task, PlanType(()), all_errors=self.feedback == "all-errors")
            detail = {"kind": self.kind, "empty_plan": True, "parse_error": context.parse_error}
            if empty.valid:
                return Verdict(False, self.renderer.no_plan(context.parse_error), detail)
            return Verdict(False, f"{self.renderer.no_plan(context.parse_error)}\n"
                                  f"{self.renderer.render(empty, self.feedback)}".strip(), detail)
        report = validate(task, plan, all_errors=self.feedback == "all-errors")
        if context.solvable is False:
            return Verdict(False, self.renderer.unreachable(report, self.feedback), {"kind": self.kind, "unsolvable": True})
        text = "" if report.valid else self.renderer.render(report, self.feedback)
        return Verdict(report.valid, text, {"kind": self.kind})


def no_plan_claim_verdict(renderer: FeedbackRenderer, context: VerifyContext, kind: str) -> Verdict | None:
    """The verdict on a reply claiming that no plan exists (None for any other reply).

    As ground truth scores it, the claim is right exactly when the instance is recorded as unsolvable.
    """
    if not context.no_plan_claim:
        return None
    detail = {"kind": kind, "no_plan_claim": True, "solvable": context.solvable}
    if context.solvable is False:
        return Verdict(True, "", detail)
    return Verdict(False, renderer.no_plan_claim_wrong(), detail)
