"""Distance-to-goal estimates for scoring plan prefixes: unmet goal literals, or h_add."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from planner_loop.planning.task import Atom, Task

Heuristic = Callable[[frozenset[Atom]], float]


def goal_count(task: Task) -> Heuristic:
    """Goal literals false in the state."""
    positive, negative = task.goal_sets()

    def h(state: frozenset[Atom]) -> float:
        return float(len(positive - state) + len(negative & state))
    return h


def h_add(task: Task) -> Heuristic:
    """The additive delete-relaxation estimate (positive goals; ``inf`` when unreachable even relaxed)."""
    actions = task.reachable_actions()
    positive, _ = task.goal_sets()

    def h(state: frozenset[Atom]) -> float:
        cost: dict[Atom, float] = dict.fromkeys(state, 0.0)
        changed = True
        while changed:
            changed = False
            for action in actions:
                if not action.pre_pos <= cost.keys():
                    continue
                through = 1.0 + sum(cost[atom] for atom in action.pre_pos)
                for atom in action.add:
                    if through < cost.get(atom, math.inf):
                        cost[atom] = through
                        changed = True
        return sum(cost.get(atom, math.inf) for atom in positive)
    return h


HEURISTICS: Mapping[str, Callable[[Task], Heuristic]] = {"goal-count": goal_count, "h-add": h_add}
