"""The sound plan validator: sequential STRIPS semantics (``GroundAction.applicable``/``apply``).

Stricter than VAL: wrong argument counts (too many or too few), unknown actions or objects, type
mismatches and malformed plan lines all make a plan invalid, each reported with its step number.

First-error mode stops at the first failing step (a precondition failure or a plan-level error); the
goal is then not evaluated. All-errors mode keeps going: a step whose preconditions fail still has
its effects applied, a step with a plan-level error is skipped, every failing step is listed in
``failures`` (precondition failures) or ``errors`` (plan-level errors), and the goal is evaluated at
the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from planner_loop.planning.plan import Plan, PlanLineError, PlanStep
from planner_loop.planning.strips import Atom, GroundingError, Task

PLAN_ERROR_KINDS = frozenset({"syntax", "unknown-action", "arity", "unknown-object", "type-mismatch"})


@dataclass(frozen=True, slots=True)
class PlanError:
    """A plan-level error at a step: kind in ``PLAN_ERROR_KINDS``."""

    step: int | None
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class StepFailure:
    """A step whose preconditions do not hold, with the unmet ones as PDDL text."""

    step: int
    action: str
    unmet_preconditions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome of validating one plan (see the module docstring for the two modes)."""

    valid: bool
    failed_step: int | None
    action: str | None
    unmet_preconditions: tuple[str, ...]
    unmet_goals: tuple[str, ...]
    errors: tuple[PlanError, ...]
    failures: tuple[StepFailure, ...]
    all_errors: bool
    steps: int
    states: tuple[frozenset[Atom], ...] | None = None

    def to_json(self, plan_path: str | None = None) -> dict[str, Any]:
        """The CLI ``--json`` object (``failures`` only in all-errors mode)."""
        record: dict[str, Any] = {
            "plan": plan_path,
            "valid": self.valid,
            "failed_step": self.failed_step,
            "action": self.action,
            "unmet_preconditions": list(self.unmet_preconditions),
            "unmet_goals": list(self.unmet_goals),
            "errors": [{"step": e.step, "kind": e.kind, "message": e.message} for e in self.errors],
            "steps": self.steps,
            "all_errors": self.all_errors,
        }
        if self.all_errors:
            record["failures"] = [
                {"step": f.step, "action": f.action, "unmet_preconditions": list(f.unmet_preconditions)}
                for f in self.failures
            ]
        return record


def numbered(plan: Plan) -> Sequence[PlanStep | PlanLineError]:
    """Steps and malformed lines in step order (malformed lines keep their own step numbers)."""
    if not plan.syntax_errors:
        return plan.steps
    total = len(plan.steps) + len(plan.syntax_errors)
    by_step = {error.step: error for error in plan.syntax_errors}
    steps = iter(plan.steps)
    return [by_step[k] if k in by_step else next(steps) for k in range(1, total + 1)]


def validate(task: Task, plan: Plan, *, all_errors: bool = False, trace: bool = False) -> ValidationReport:
    """Execute ``plan`` from ``task.init`` and report whether it reaches the goal."""
    entries = numbered(plan)
    state: set[Atom] = set(task.init)
    states: list[frozenset[Atom]] | None = [task.init] if trace else None
    errors: list[PlanError] = []
    failures: list[StepFailure] = []
    first: tuple[int, str, tuple[str, ...]] | None = None
    ground = task.ground
    # Task.ground's own cache, read directly: one dict lookup per step instead of a method call.
    local = task._ground_cache

    for number, entry in enumerate(entries, start=1):
        if entry.__class__ is PlanLineError:
            errors.append(PlanError(number, "syntax", f"line {entry.line}: {entry.message}: {entry.text}"))
            first = first or (number, entry.text, ())
            if not all_errors:
                break
            if states is not None:
                states.append(frozenset(state))
            continue
        key = (entry.name, entry.args)  # type: ignore[union-attr]
        action = local.get(key)  # type: ignore[arg-type]
        if action is None:
            try:
                action = ground(*key)  # type: ignore[arg-type]
            except GroundingError as error:
                errors.append(PlanError(number, error.kind, error.message))
                first = first or (number, entry.to_pddl(), ())  # type: ignore[union-attr]
                if not all_errors:
                    break
                if states is not None:
                    states.append(frozenset(state))
                continue
        # GroundAction.applicable and .apply_in_place, inlined: two method calls per step would cost
        # a third of the validator's time (tests/test_planning_semantics.py checks they agree).
        if not (action.pre_pos <= state and action.pre_neg.isdisjoint(state)) or action.static_failures:
            unmet = action.unmet(state)
            text = action.to_pddl()
            failures.append(StepFailure(number, text, unmet))
            first = first or (number, text, unmet)
            if not all_errors:
                break
        state -= action.delete
        state |= action.add
        if states is not None:
            states.append(frozenset(state))

    ran_to_end = all_errors or first is None
    unmet_goals: tuple[str, ...] = ()
    goal_pos, goal_neg = task.goal_sets()
    if ran_to_end and not (goal_pos <= state and goal_neg.isdisjoint(state)):
        unmet_goals = tuple(lit.to_pddl() for lit in task.goal if (lit.atom in state) != lit.positive)
    return ValidationReport(
        valid=first is None and not unmet_goals,
        failed_step=first[0] if first else None,
        action=first[1] if first else None,
        unmet_preconditions=first[2] if first else (),
        unmet_goals=unmet_goals,
        errors=tuple(errors),
        failures=tuple(failures),
        all_errors=all_errors,
        steps=len(entries),
        states=tuple(states) if states is not None else None,
    )
