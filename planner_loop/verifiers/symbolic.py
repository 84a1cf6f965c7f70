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
        if plan is None:
            return Verdict(False, self.renderer.no_plan(context.parse_error), {"kind": self.kind})
        report = validate(task, plan, all_errors=self.feedback == "all-errors")
        text = "" if report.valid else self.renderer.render(report, self.feedback)
        return Verdict(report.valid, text, {"kind": self.kind})
