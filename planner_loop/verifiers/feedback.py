"""Feedback text from a validation report, at a granularity, in natural language or PDDL.

Levels (Valmeekam et al. 2023): ``binary`` (valid or not), ``first-error`` (the first action that
cannot be taken and its unmet preconditions, or else the unmet goals) and ``all-errors`` (every
failing step with its unmet preconditions, plus the unmet goals). Wording: ``feedback.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from planner_loop.prompts import fill, load_templates

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain
    from planner_loop.planning.plan import PlanStep
    from planner_loop.planning.task import Atom
    from planner_loop.planning.validator import ValidationReport

FEEDBACK_LEVELS = ("none", "binary", "first-error", "all-errors")


def parse_literal(text: str) -> tuple[Atom, bool]:
    """``"(on a b)"`` -> ``(("on", "a", "b"), True)``; ``"(not (clear b))"`` -> ``(("clear", "b"), False)``."""
    tokens = text.replace("(", " ( ").replace(")", " ) ").split()
    words = [t.lower() for t in tokens if t not in "()"]
    if words and words[0] == "not":
        return tuple(words[1:]), False
    return tuple(words), True


def parse_action(text: str) -> PlanStep:
    """``"(stack a b)"`` -> a ``PlanStep``."""
    from planner_loop.planning.plan import PlanStep

    words = text.strip().strip("()").split()
    return PlanStep(words[0].lower(), tuple(w.lower() for w in words[1:]))


class FeedbackRenderer:
    """Turns validator reports into the text a sound verifier sends back."""

    def __init__(self, domain: Domain, style: str = "nl", templates: Mapping[str, Any] | None = None) -> None:
        self.domain = domain
        self.style = style
        all_templates = templates if templates is not None else load_templates(domain.domain_file)
        self._t: Mapping[str, str] = all_templates["feedback"][style]

    def literal(self, text: str) -> str:
        """One precondition or goal literal, rendered in the feedback's style."""
        if self.style == "pddl":
            return text
        atom, positive = parse_literal(text)
        rendered = self.domain.render_atom(atom, "nl").strip().rstrip(".")
        return rendered if positive else fill(self._t["negated"], atom=rendered)

    def literals(self, texts: tuple[str, ...] | list[str]) -> str:
        return self._t["join"].join(self.literal(t) for t in texts)

    def action(self, text: str) -> str:
        """A ground action (PDDL text) in the feedback's style."""
        if self.style == "pddl":
            return text
        return self.domain.render_action(parse_action(text), "nl").strip().rstrip(".")

    def no_plan(self, reason: str | None) -> str:
        """Feedback for a reply from which no plan could be read."""
        return fill(self._t["no_plan"], reason=(reason or "no actions found").strip().rstrip("."))

    def no_plan_claim_wrong(self) -> str:
        """Feedback for a "no plan exists" answer on an instance not recorded as unsolvable."""
        return self._t["no_plan_claim_wrong"]

    def unreachable(self, report: ValidationReport, level: str) -> str:
        """Feedback for a plan on an instance recorded as unsolvable: invalid, and above ``binary`` the
        statement that no plan can reach the goal."""
        if level == "none":
            return ""
        head = self._t["invalid"] if report.valid else self.render(report, level)
        return head if level == "binary" else f"{head}\n{self._t['unreachable']}"

    def render(self, report: ValidationReport, level: str) -> str:
        """Feedback for a report at ``level`` (``none`` gives the empty string)."""
        if level == "none":
            return ""
        if report.valid:
            return self._t["valid"]
        if level == "binary":
            return self._t["invalid"]
        lines = [self._t["invalid"]]
        if level == "first-error":
            lines += self._first_error(report)
        elif level == "all-errors":
            lines += self._all_errors(report)
        else:
            raise ValueError(f"unknown feedback level {level!r}")
        return "\n".join(lines)

    def _plan_error(self, step: int | None, message: str) -> str:
        if step is None:
            return fill(self._t["plan_error_nostep"], message=message.rstrip("."))
        return fill(self._t["plan_error"], step=str(step), message=message.rstrip("."))

    def _first_error(self, report: ValidationReport) -> list[str]:
        if report.failed_step is not None and report.unmet_preconditions:
            return [fill(self._t["step_failure"], step=str(report.failed_step),
                         action=self.action(report.action or ""),
                         unmet=self.literals(report.unmet_preconditions))]
        if report.errors:
            first = report.errors[0]
            return [self._plan_error(first.step, first.message)]
        if report.unmet_goals:
            return [fill(self._t["goals"], unmet=self.literals(report.unmet_goals))]
        return []

    def _all_errors(self, report: ValidationReport) -> list[str]:
        items: list[tuple[int, str]] = []
        for failure in report.failures:
            items.append((failure.step, fill(self._t["step_failure"], step=str(failure.step),
                                             action=self.action(failure.action),
                                             unmet=self.literals(failure.unmet_preconditions))))
        for error in report.errors:
            items.append((error.step or 0, self._plan_error(error.step, error.message)))
        lines = [text for _, text in sorted(items, key=lambda item: item[0])]
        if report.unmet_goals:
            key = "goals" if not items else "goals_after_all"
            lines.append(fill(self._t[key], unmet=self.literals(report.unmet_goals)))
        return lines
