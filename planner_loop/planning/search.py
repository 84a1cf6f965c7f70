"""Plan search: Fast Downward (bundled in the ``up-fast-downward`` wheel) and small own searches.

Planners:

- ``"fast-downward"``: the wheel's ``fast-downward.py`` driver in a subprocess on PDDL written from the
  task; A* with LM-cut when ``optimal``, LAMA's first iteration otherwise.
- ``"astar"``: own A* with the admissible h_max heuristic (optimal; for small tasks).
- ``"bfs"``: own breadth-first search (optimal; for tiny tasks and cross-checks).
- ``"auto"``: Fast Downward when its binary is present, else A*.

They are entries of a :class:`~planner_loop.registry.Registry` (:func:`default_planners`); another
package adds one through the ``planner_loop.planners`` entry-point group (a :class:`Planner`).

Every returned plan is checked with the sound validator before it is returned.
"""

from __future__ import annotations

import heapq
import itertools
import os
import signal
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from planner_loop.errors import ConfigError, PlannerLoopError
from planner_loop.registry import Registry
from planner_loop.planning.plan import Plan, PlanStep, parse_plan
from planner_loop.planning.strips import ROOT_TYPE, Atom, GroundAction, Task, atom_to_pddl
from planner_loop.planning.validator import validate

PLANNERS = ("auto", "fast-downward", "astar", "bfs")
DEFAULT_TIMEOUT_S = 300.0
ENTRY_POINT_GROUP = "planner_loop.planners"

# Fast Downward driver exit codes (driver/returncodes.py).
_FD_SOLVED = {0, 1, 2, 3}
_FD_UNSOLVABLE = {10, 11}


class SearchError(PlannerLoopError):
    """A planner failed (crashed, timed out, or returned a plan the validator rejects)."""


class Planner(Protocol):
    """A planner: a plan for ``task`` (optimal when asked, if it can), or None when it is unsolvable."""

    def __call__(self, task: Task, *, optimal: bool, timeout_s: float) -> Plan | None: ...


def _check_planner(entry: object) -> Planner:
    if not callable(entry):
        raise ConfigError(f"planner entry {entry!r} is not callable")
    return entry  # type: ignore[return-value]


def default_planners(*, plugins: bool = True) -> Registry[Planner]:
    """The built-in planners, plus those of the ``planner_loop.planners`` entry-point group."""
    registry: Registry[Planner] = Registry("planner", {
        "auto": "planner_loop.planning.search:solve_auto",
        "fast-downward": "planner_loop.planning.search:solve_fast_downward",
        "astar": "planner_loop.planning.search:solve_astar",
        "bfs": "planner_loop.planning.search:solve_bfs",
    }, check=_check_planner, group=ENTRY_POINT_GROUP)
    return registry.load_entry_points(replace=False) if plugins else registry


def fast_downward_driver() -> Path | None:
    """Path of the ``fast-downward.py`` driver bundled with ``up-fast-downward``, if installed."""
    try:
        import up_fast_downward
    except ImportError:
        return None
    driver = Path(up_fast_downward.__file__).parent / "downward" / "fast-downward.py"
    return driver if driver.is_file() else None


def solve(task: Task, *, optimal: bool = True, planner: str = "auto",
          timeout_s: float = DEFAULT_TIMEOUT_S, planners: Registry[Planner] | None = None) -> Plan | None:
    """A plan for ``task`` (optimal when asked), or None when the task is unsolvable.

    ``planner`` names an entry of ``planners`` (default: :func:`default_planners`); unknown names
    raise :class:`ConfigError` with near-name hints.
    """
    search = (planners if planners is not None else default_planners()).get(planner)
    if validate(task, Plan(())).valid:
        # The goal already holds. Fast Downward refuses an empty goal ("does not support axioms").
        return Plan(())
    plan = search(task, optimal=optimal, timeout_s=timeout_s)
    if plan is not None:
        report = validate(task, plan)
        if not report.valid:
            raise SearchError(f"{planner} returned a plan the validator rejects: {report.to_json()}")
    return plan


def solve_auto(task: Task, *, optimal: bool, timeout_s: float) -> Plan | None:
    """Fast Downward when its binary is present, else the own A*."""
    if fast_downward_driver() is not None:
        return solve_fast_downward(task, optimal=optimal, timeout_s=timeout_s)
    return solve_astar(task, optimal=optimal, timeout_s=timeout_s)


def optimal_plan_length(task: Task, *, planner: str = "auto", timeout_s: float = DEFAULT_TIMEOUT_S) -> int | None:
    """Length of a shortest plan for ``task`` (unit costs), or None when unsolvable."""
    plan = solve(task, optimal=True, planner=planner, timeout_s=timeout_s)
    return None if plan is None else len(plan.steps)


# ---------------------------------------------------------------------------------------------
# Fast Downward


def solve_fast_downward(task: Task, *, optimal: bool, timeout_s: float) -> Plan | None:
    """Fast Downward: A* with LM-cut when ``optimal``, LAMA's first iteration otherwise."""
    driver = fast_downward_driver()
    if driver is None:
        raise SearchError("Fast Downward is not available: install up-fast-downward")
    alias = [] if optimal else ["--alias", "lama-first"]
    search = ["--search", "astar(lmcut())"] if optimal else []
    with tempfile.TemporaryDirectory(prefix="planner-loop-fd-") as tmp:
        folder = Path(tmp)
        (folder / "domain.pddl").write_text(domain_to_pddl(task), encoding="utf-8")
        (folder / "problem.pddl").write_text(problem_to_pddl(task), encoding="utf-8")
        command = [sys.executable, str(driver), *alias, "--plan-file", "plan.txt", "--sas-file", "output.sas",
                   "domain.pddl", "problem.pddl", *search]
        # Own session, so a timeout stops the driver's translate/search children too.
        with subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True) as process:
            try:
                output, _ = process.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                raise SearchError(f"Fast Downward timed out after {timeout_s:g} s on {task.name}") from None
        if process.returncode in _FD_UNSOLVABLE:
            return None
        plan_file = folder / "plan.txt"
        if process.returncode not in _FD_SOLVED or not plan_file.is_file():
            tail = output.strip().splitlines()[-3:]
            raise SearchError(f"Fast Downward failed (exit {process.returncode}) on {task.name}: {' | '.join(tail)}")
        plan = parse_plan(plan_file.read_text(encoding="utf-8"))
    if plan.syntax_errors:
        raise SearchError(f"cannot read Fast Downward's plan: {plan.syntax_errors[0].message}")
    return Plan(tuple(PlanStep(s.name, s.args) for s in plan.steps))


def _schema_constants(task: Task) -> set[str]:
    constants: set[str] = set()
    for schema in task.actions.values():
        for atom in (*schema.pre_pos, *schema.pre_neg, *schema.add, *schema.delete):
            constants.update(t for t in atom[1:] if not t.startswith("?"))
        for left, right, _ in schema.equalities:
            constants.update(t for t in (left, right) if not t.startswith("?"))
    return constants


def _is_typed(task: Task) -> bool:
    return len(task.types) > 1 or any(t != ROOT_TYPE for t in task.objects.values())


def _typed(names: Iterable[tuple[str, str]], typed: bool) -> str:
    return " ".join(f"{name} - {typ}" if typed else name for name, typ in names)


def domain_to_pddl(task: Task) -> str:
    """The task's domain as PDDL text (constants used by the action schemas included)."""
    typed = _is_typed(task)
    negative = any(s.pre_neg for s in task.actions.values()) or any(not g.positive for g in task.goal)
    equality = any(s.equalities for s in task.actions.values())
    requirements = [":strips"] + [":typing"] * typed + [":negative-preconditions"] * negative
    requirements += [":equality"] * equality
    lines = [f"(define (domain {task.domain_name})", f"  (:requirements {' '.join(requirements)})"]
    if typed:
        subtypes = [f"{t} - {p}" for t, p in task.types.items() if p is not None]
        lines.append(f"  (:types {' '.join(subtypes)})")
    constants = sorted(_schema_constants(task))
    if constants:
        lines.append(f"  (:constants {_typed(((c, task.objects[c]) for c in constants), typed)})")
    predicates = " ".join(
        "(" + " ".join(filter(None, [name, _typed(((f"?x{i}", t) for i, t in enumerate(types)), typed)])) + ")"
        for name, types in task.predicates.items()
    )
    lines.append(f"  (:predicates {predicates})")
    for schema in task.actions.values():
        pre = [atom_to_pddl(a) for a in schema.pre_pos]
        pre += [f"(not {atom_to_pddl(a)})" for a in schema.pre_neg]
        pre += [f"(= {left} {right})" if pos else f"(not (= {left} {right}))" for left, right, pos in schema.equalities]
        eff = [atom_to_pddl(a) for a in schema.add] + [f"(not {atom_to_pddl(a)})" for a in schema.delete]
        lines += [
            f"  (:action {schema.name}",
            f"    :parameters ({_typed(schema.parameters, typed)})",
            f"    :precondition (and {' '.join(pre)})",
            f"    :effect (and {' '.join(eff)}))",
        ]
    lines.append(")")
    return "\n".join(lines) + "\n"


def problem_to_pddl(task: Task) -> str:
    """The task's problem as PDDL text (objects that are not schema constants)."""
    constants = _schema_constants(task)
    objects = [(o, t) for o, t in sorted(task.objects.items()) if o not in constants]
    init = " ".join(atom_to_pddl(a) for a in sorted(task.init))
    goal = " ".join(lit.to_pddl() for lit in task.goal)
    return (
        f"(define (problem {task.name})\n  (:domain {task.domain_name})\n"
        f"  (:objects {_typed(objects, _is_typed(task))})\n  (:init {init})\n  (:goal (and {goal})))\n"
    )


# ---------------------------------------------------------------------------------------------
# Own searches (small tasks)


def _successors(actions: tuple[GroundAction, ...], state: frozenset[Atom]) -> Iterable[tuple[GroundAction, frozenset[Atom]]]:
    for action in actions:
        if action.applicable(state):
            yield action, action.apply(state)


def _to_plan(actions: list[GroundAction]) -> Plan:
    return Plan(tuple(PlanStep(a.name, a.args) for a in actions))


def _reconstruct(parents: dict[frozenset[Atom], tuple[frozenset[Atom], GroundAction] | None],
                 state: frozenset[Atom]) -> Plan:
    steps: list[GroundAction] = []
    link = parents[state]
    while link is not None:
        state, action = link
        steps.append(action)
        link = parents[state]
    return _to_plan(steps[::-1])


def solve_bfs(task: Task, *, optimal: bool = True, timeout_s: float = DEFAULT_TIMEOUT_S) -> Plan | None:
    """Breadth-first search over reachable ground actions (always optimal; no time limit)."""
    actions = task.reachable_actions()
    positive, negative = task.goal_sets()
    start = task.init
    parents: dict[frozenset[Atom], tuple[frozenset[Atom], GroundAction] | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if positive <= state and negative.isdisjoint(state):
            return _reconstruct(parents, state)
        for action, successor in _successors(actions, state):
            if successor not in parents:
                parents[successor] = (state, action)
                queue.append(successor)
    return None


def _h_max(actions: tuple[GroundAction, ...], state: frozenset[Atom], goal: frozenset[Atom]) -> float:
    """h_max: in the delete relaxation, the cost of the costliest goal atom (admissible)."""
    cost: dict[Atom, int] = dict.fromkeys(state, 0)
    changed = True
    while changed:
        changed = False
        for action in actions:
            if all(p in cost for p in action.pre_pos):
                value = 1 + max((cost[p] for p in action.pre_pos), default=0)
                for atom in action.add:
                    if cost.get(atom, value + 1) > value:
                        cost[atom] = value
                        changed = True
    if not all(g in cost for g in goal):
        return float("inf")
    return max((cost[g] for g in goal), default=0)


def solve_astar(task: Task, *, optimal: bool = True, timeout_s: float = DEFAULT_TIMEOUT_S) -> Plan | None:
    """A* with h_max (always optimal; no time limit)."""
    actions = task.reachable_actions()
    positive, negative = task.goal_sets()
    start = task.init
    counter = itertools.count()
    best_g: dict[frozenset[Atom], int] = {start: 0}
    parents: dict[frozenset[Atom], tuple[frozenset[Atom], GroundAction] | None] = {start: None}
    h0 = _h_max(actions, start, positive)
    if h0 == float("inf"):
        return None
    frontier: list[tuple[float, int, int, frozenset[Atom]]] = [(h0, 0, next(counter), start)]
    while frontier:
        _, g, _, state = heapq.heappop(frontier)
        if g > best_g.get(state, g):
            continue
        if positive <= state and negative.isdisjoint(state):
            return _reconstruct(parents, state)
        for action, successor in _successors(actions, state):
            g2 = g + 1
            if g2 < best_g.get(successor, g2 + 1):
                h = _h_max(actions, successor, positive)
                if h == float("inf"):
                    continue
                best_g[successor] = g2
                parents[successor] = (state, action)
                heapq.heappush(frontier, (g2 + h, g2, next(counter), successor))
    return None
