"""The critic benchmark's labelled plans: optimal, valid non-optimal, and invalid by controlled mutation.

Per instance (all choices from ``random.Random`` streams seeded by SHA-256 of ``(seed, instance, kind,
try)``, so a set is reproducible byte for byte):

- ``optimal``: Fast Downward's optimal plan;
- ``non-optimal``: the optimal plan with a detour inserted where the hand is empty — pick a clear
  block up and put it back where it was (``pick-up x, put-down x`` or ``unstack x y, stack x y``);
- one invalid plan per mutation of the optimal plan (:data:`MUTATIONS`): ``delete-step``,
  ``swap-steps``, ``replace-arg``, ``insert-step``, ``drop-last`` (so the goal fails); ``delete-step``
  never deletes the last step (that is ``drop-last``), and no two plans of an instance are equal.

Each plan is labelled by the sound validator: ``valid``, the failure (``precondition``, ``goal`` or a
plan-error kind such as ``unknown-object``), the first failing step and its position in the plan
(``early``/``middle``/``late`` by thirds of the plan, ``goal`` when every step runs but the goal
fails). A mutation the validator still accepts is retried; when :data:`MAX_TRIES` tries fail, the
instance has no plan of that type. Valid non-optimal plans are added until the instance has as many
valid plans as invalid ones (balance).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner_loop.errors import ConfigError
from planner_loop.planning.plan import Plan, PlanStep
from planner_loop.planning.task import Atom, Task
from planner_loop.planning.validator import validate

MUTATIONS = ("delete-step", "swap-steps", "replace-arg", "insert-step", "drop-last")
ERROR_TYPES = ("valid", *MUTATIONS)
POSITIONS = ("early", "middle", "late", "goal")
MAX_TRIES = 50
MANIFEST = "manifest.jsonl"


@dataclass(frozen=True)
class LabelledPlan:
    """One plan of the benchmark and the sound validator's label."""

    id: str                    # "<instance>/<kind>[-k]"
    instance: str
    kind: str                  # optimal | non-optimal | a mutation
    steps: tuple[str, ...]     # PDDL, "(unstack a b)"
    valid: bool
    failure: str | None        # precondition | goal | plan-error kind; None when valid
    failed_step: int | None    # 1-based; None when valid or the goal fails
    position: str | None       # early | middle | late | goal; None when valid
    optimal_length: int

    @property
    def error_type(self) -> str:
        """``valid`` for the valid plans, else the mutation that broke the plan."""
        return "valid" if self.valid else self.kind

    @property
    def plan(self) -> Plan:
        from planner_loop.planning.plan import parse_plan

        return parse_plan("\n".join(self.steps))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "instance": self.instance, "kind": self.kind, "error_type": self.error_type,
                "valid": self.valid, "failure": self.failure, "failed_step": self.failed_step,
                "position": self.position, "length": len(self.steps), "optimal_length": self.optimal_length,
                "plan": list(self.steps)}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> LabelledPlan:
        return cls(id=row["id"], instance=row["instance"], kind=row["kind"], steps=tuple(row["plan"]),
                   valid=bool(row["valid"]), failure=row["failure"], failed_step=row["failed_step"],
                   position=row["position"], optimal_length=int(row["optimal_length"]))


def position_of(step: int | None, length: int) -> str:
    """``early``/``middle``/``late`` by thirds of a plan of ``length`` steps; ``goal`` when ``step`` is None."""
    if step is None:
        return "goal"
    fraction = step / max(length, 1)
    return "early" if fraction <= 1 / 3 else "middle" if fraction <= 2 / 3 else "late"


def label(task: Task, instance: str, kind: str, steps: Sequence[PlanStep], optimal_length: int,
          suffix: str = "") -> LabelledPlan:
    """Run the sound validator on a plan and label it."""
    plan = Plan(tuple(steps))
    report = validate(task, plan)
    if report.valid:
        failure = None
    elif report.errors:
        failure = report.errors[0].kind
    elif report.failed_step is not None:
        failure = "precondition"
    else:
        failure = "goal"
    return LabelledPlan(
        id=f"{instance}/{kind}{suffix}", instance=instance, kind=kind, steps=tuple(s.to_pddl() for s in steps),
        valid=report.valid, failure=failure, failed_step=None if report.valid else report.failed_step,
        position=None if report.valid else position_of(report.failed_step, len(steps)),
        optimal_length=optimal_length)


def _rng(seed: int, *labels: object) -> random.Random:
    text = "/".join(str(part) for part in (seed, "critic-bench", *labels))
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def _states(task: Task, steps: Sequence[PlanStep]) -> list[frozenset[Atom]]:
    states = [frozenset(task.init)]
    for step in steps:
        action = task.ground(step.name, step.args)
        states.append((states[-1] - action.delete) | action.add)
    return states


def detour(task: Task, steps: Sequence[PlanStep], rng: random.Random) -> list[PlanStep] | None:
    """The plan with a pick-up-and-put-back pair inserted at a random hand-empty point (still valid)."""
    states = _states(task, steps)
    points = [i for i, state in enumerate(states) if ("handempty",) in state]
    rng.shuffle(points)
    for point in points:
        state = states[point]
        clear = sorted(atom[1] for atom in state if atom[0] == "clear")
        if not clear:
            continue
        block = rng.choice(clear)
        support = next((atom[2] for atom in state if atom[0] == "on" and atom[1] == block), None)
        pair = ([PlanStep("pick-up", (block,)), PlanStep("put-down", (block,))] if support is None
                else [PlanStep("unstack", (block, support)), PlanStep("stack", (block, support))])
        return [*steps[:point], *pair, *steps[point:]]
    return None


def _random_step(task: Task, rng: random.Random) -> PlanStep:
    name = rng.choice(sorted(task.actions))
    objects = sorted(task.objects)
    return PlanStep(name, tuple(rng.choice(objects) for _ in task.actions[name].parameters))


def mutate(kind: str, task: Task, steps: Sequence[PlanStep], rng: random.Random) -> list[PlanStep] | None:
    """One random mutation of ``steps`` (``None`` when the plan is too short for it)."""
    plan = list(steps)
    n = len(plan)
    if kind == "delete-step":
        if n < 2:
            return None
        del plan[rng.randrange(n - 1)]  # never the last step: that is drop-last
    elif kind == "swap-steps":
        if n < 2:
            return None
        i, j = sorted(rng.sample(range(n), 2))
        plan[i], plan[j] = plan[j], plan[i]
    elif kind == "replace-arg":
        candidates = [i for i, step in enumerate(plan) if step.args]
        if not candidates or len(task.objects) < 2:
            return None
        i = rng.choice(candidates)
        args = list(plan[i].args)
        k = rng.randrange(len(args))
        args[k] = rng.choice(sorted(set(task.objects) - {args[k]}))
        plan[i] = PlanStep(plan[i].name, tuple(args))
    elif kind == "insert-step":
        plan.insert(rng.randrange(n + 1), _random_step(task, rng))
    elif kind == "drop-last":
        if n < 1:
            return None
        plan.pop()
    else:
        raise ConfigError(f"unknown mutation {kind!r}; choose one of {', '.join(MUTATIONS)}")
    return plan


def instance_plans(task: Task, instance: str, optimal: Plan, seed: int) -> list[LabelledPlan]:
    """The labelled plans of one instance, in a fixed order (see the module docstring)."""
    steps = list(optimal.steps)
    length = len(steps)
    rows = [label(task, instance, "optimal", steps, length)]
    seen = {rows[0].steps}
    invalid = []
    for kind in MUTATIONS:
        for attempt in range(MAX_TRIES):
            mutant = mutate(kind, task, steps, _rng(seed, instance, kind, attempt))
            if mutant is None:
                break
            row = label(task, instance, kind, mutant, length)
            if not row.valid and row.steps not in seen:  # each plan of an instance is distinct
                invalid.append(row)
                seen.add(row.steps)
                break
    for k in range(1, len(invalid)):
        longer = detour(task, steps, _rng(seed, instance, "non-optimal", k))
        if longer is None:
            break
        if k > 1:  # a second detour on top of the first keeps variants distinct
            longer = detour(task, longer, _rng(seed, instance, "non-optimal-2", k)) or longer
        row = label(task, instance, "non-optimal", longer, length, suffix=f"-{k}")
        if not row.valid:
            raise AssertionError(f"a detour broke a valid plan of {instance}: {row}")
        rows.append(row)
    return rows + invalid


def build_plan_set(tasks: Iterable[tuple[str, Task]], seed: int, *,
                   solver: Callable[[Task], Plan | None] | None = None) -> list[LabelledPlan]:
    """Labelled plans for every ``(instance id, task)``; unsolvable instances are skipped."""
    if solver is None:
        from planner_loop.planning.search import solve

        def solver(task: Task) -> Plan | None:
            return solve(task, optimal=True, planner="fast-downward")

    rows: list[LabelledPlan] = []
    for instance, task in tasks:
        optimal = solver(task)
        if optimal is not None and optimal.steps:
            rows.extend(instance_plans(task, instance, optimal, seed))
    return rows


def write_plan_set(out: Path, rows: Sequence[LabelledPlan], meta: dict[str, Any]) -> Path:
    """``out/plans/manifest.jsonl`` (first line: the set's metadata) and one ``.plan`` file per plan."""
    folder = out / "plans"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"meta": meta}, sort_keys=True)]
    for row in rows:
        file = row.id.replace("/", "__") + ".plan"
        (folder / file).write_bytes(("\n".join(row.steps) + "\n").encode("utf-8"))
        lines.append(json.dumps({**row.to_json(), "file": file}, sort_keys=True))
    manifest = folder / MANIFEST
    manifest.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return manifest


def read_plan_set(manifest: Path) -> tuple[dict[str, Any], list[LabelledPlan]]:
    """The metadata and plans of a written set."""
    lines = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines or "meta" not in lines[0]:
        raise ConfigError("not a critic-bench plan manifest (no meta line)", source=manifest, line=1)
    return lines[0]["meta"], [LabelledPlan.from_json(row) for row in lines[1:]]
