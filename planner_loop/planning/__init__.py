"""Ground truth: PDDL tasks, plans, the sound validator and plan search."""

from planner_loop.planning.plan import Plan, PlanLineError, PlanStep, load_plan, parse_plan
from planner_loop.planning.search import optimal_plan_length, solve
from planner_loop.planning.task import (
    ActionSchema,
    Atom,
    GroundAction,
    GroundingError,
    Literal,
    Task,
    applicable_actions,
    atom_to_pddl,
    load_task,
    parse_task,
)
from planner_loop.planning.validator import PlanError, StepFailure, ValidationReport, validate

__all__ = [
    "ActionSchema",
    "Atom",
    "GroundAction",
    "GroundingError",
    "Literal",
    "Plan",
    "PlanError",
    "PlanLineError",
    "PlanStep",
    "StepFailure",
    "Task",
    "ValidationReport",
    "applicable_actions",
    "atom_to_pddl",
    "load_plan",
    "load_task",
    "optimal_plan_length",
    "parse_plan",
    "parse_task",
    "solve",
    "validate",
]
