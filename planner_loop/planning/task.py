"""The planning task: the STRIPS model (:mod:`.strips`) and the PDDL reader (:mod:`.reader`), re-exported.

Kept so ``from planner_loop.planning.task import Task, load_task`` goes on working.
"""

from planner_loop.planning.pddl_text import SUPPORTED_REQUIREMENTS
from planner_loop.planning.reader import PDDLDomain, load_domain, load_task, parse_domain, parse_task
from planner_loop.planning.strips import (
    ROOT_TYPE,
    ActionSchema,
    Atom,
    GroundAction,
    GroundingError,
    Literal,
    Task,
    applicable_actions,
    atom_to_pddl,
    type_options,
)

__all__ = [
    "ROOT_TYPE",
    "SUPPORTED_REQUIREMENTS",
    "ActionSchema",
    "Atom",
    "GroundAction",
    "GroundingError",
    "Literal",
    "PDDLDomain",
    "Task",
    "applicable_actions",
    "atom_to_pddl",
    "load_domain",
    "load_task",
    "parse_domain",
    "parse_task",
    "type_options",
]
