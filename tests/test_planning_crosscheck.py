"""Cross-check the validator against unified-planning's sequential plan validator.

Random Blocks World problems of 3-8 blocks; for each, a valid plan (a random walk whose end state is
the goal) and mutants of it (drop, swap, duplicate, replace a step, change an argument). Verdict and
failing step must agree on every plan. Each UP problem is parsed once and reused.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from planner_loop.planning import Plan, PlanStep, Task, applicable_actions, parse_task, validate

up_shortcuts = pytest.importorskip("unified_planning.shortcuts")

FIXTURES = Path(__file__).parent / "fixtures" / "planning"
BW_DOMAIN = (FIXTURES / "bw-domain.pddl").read_text()


def _random_problem(rng: random.Random, blocks: int, index: int) -> tuple[str, list[PlanStep]]:
    names = [f"b{i}" for i in range(blocks)]
    order = names[:]
    rng.shuffle(order)
    init = ["(handempty)"]
    below: str | None = None
    for name in order:
        if below is None or rng.random() < 0.35:
            init.append(f"(ontable {name})")
        else:
            init.append(f"(on {name} {below})")
        below = name
    tops = set(names) - {a.split()[2].rstrip(")") for a in init if a.startswith("(on ")}
    init += [f"(clear {t})" for t in sorted(tops)]
    skeleton = (
        f"(define (problem cross-{blocks}-{index}) (:domain blocks) (:objects {' '.join(names)})\n"
        f"  (:init {' '.join(init)})\n  (:goal (and GOAL)))"
    )
    task = parse_task(BW_DOMAIN, skeleton.replace("GOAL", "(handempty)"))
    while True:
        state = task.init
        walk: list[PlanStep] = []
        for _ in range(rng.randint(2, 4 * blocks)):
            action = rng.choice(list(applicable_actions(task, state)))
            walk.append(PlanStep(action.name, action.args))
            state = (state - action.delete) | action.add
        goal = sorted(a for a in state if a[0] == "on") or sorted(a for a in state if a[0] == "ontable")
        if not all(a in task.init for a in goal) and ("handempty",) in state:
            goal_text = " ".join("(" + " ".join(a) + ")" for a in goal)
            return skeleton.replace("GOAL", goal_text), walk


def _mutants(rng: random.Random, plan: list[PlanStep], objects: list[str], task: Task) -> Iterator[list[PlanStep]]:
    n = len(plan)
    i, j = rng.randrange(n), rng.randrange(n)
    yield plan[:i] + plan[i + 1 :]
    swapped = plan[:]
    swapped[i], swapped[j] = swapped[j], swapped[i]
    yield swapped
    yield plan[: i + 1] + [plan[i]] + plan[i + 1 :]
    schema = rng.choice(list(task.actions.values()))
    replaced = plan[:]
    replaced[i] = PlanStep(schema.name, tuple(rng.choice(objects) for _ in schema.parameters))
    yield replaced
    changed = plan[:]
    if plan[i].args:
        k = rng.randrange(len(plan[i].args))
        args = list(plan[i].args)
        args[k] = rng.choice([o for o in objects if o != args[k]])
        changed[i] = PlanStep(plan[i].name, tuple(args))
    yield changed
    prefix = plan[: rng.randrange(n)]
    yield prefix
    twice = plan[:]
    for _ in range(2):
        a, b = rng.randrange(n), rng.randrange(n)
        twice[a], twice[b] = twice[b], twice[a]
    yield twice
    yield plan + [plan[j]]


def _up_verdict(problem, plan: list[PlanStep], validator) -> tuple[bool, int | None]:  # type: ignore[no-untyped-def]
    from unified_planning.engines import ValidationResultStatus
    from unified_planning.engines.results import FailedValidationReason
    from unified_planning.plans import ActionInstance, SequentialPlan

    instances = [ActionInstance(problem.action(s.name), tuple(problem.object(a) for a in s.args)) for s in plan]
    result = validator.validate(problem, SequentialPlan(instances))
    if result.status == ValidationResultStatus.VALID:
        return True, None
    if result.reason == FailedValidationReason.INAPPLICABLE_ACTION:
        index = next(k for k, ai in enumerate(instances) if ai is result.inapplicable_action)
        return False, index + 1
    assert result.reason == FailedValidationReason.UNSATISFIED_GOALS
    return False, None


@pytest.mark.slow
def test_same_verdict_and_failing_step_as_unified_planning() -> None:
    from unified_planning.io import PDDLReader

    up_shortcuts.get_environment().credits_stream = None
    rng = random.Random(20261123)
    checked = valid_count = goal_failures = step_failures = 0
    with up_shortcuts.PlanValidator(name="sequential_plan_validator") as validator:
        for blocks in (3, 4, 5, 6, 8):
            for index in range(26):
                problem_text, walk = _random_problem(rng, blocks, index)
                task = parse_task(BW_DOMAIN, problem_text)
                up_problem = PDDLReader().parse_problem_string(BW_DOMAIN, problem_text)
                objects = list(task.objects)
                for plan in [walk, *_mutants(rng, walk, objects, task)]:
                    ours = validate(task, Plan(tuple(plan)))
                    up_valid, up_step = _up_verdict(up_problem, plan, validator)
                    assert (ours.valid, ours.failed_step) == (up_valid, up_step), (problem_text, plan)
                    assert ours.errors == ()
                    checked += 1
                    valid_count += ours.valid
                    goal_failures += not ours.valid and ours.failed_step is None
                    step_failures += ours.failed_step is not None
    assert checked >= 1000
    # Every outcome class is well represented, so the comparison can fail in each.
    assert min(valid_count, goal_failures, step_failures) >= 100, (valid_count, goal_failures, step_failures)


@pytest.mark.slow
def test_typed_domain_agrees_with_unified_planning() -> None:
    """Negative preconditions, equality, constants and a type hierarchy (UP lacks ``either``)."""
    from unified_planning.io import PDDLReader

    up_shortcuts.get_environment().credits_stream = None
    domain = (FIXTURES / "gripper-typed-domain.pddl").read_text().replace("(either ball room)", "room")
    problem = (FIXTURES / "gripper-typed-problem.pddl").read_text()
    task = parse_task(domain, problem)
    up_problem = PDDLReader().parse_problem_string(domain, problem)
    rng = random.Random(7)
    schemas = list(task.actions.values())
    seen = set()
    with up_shortcuts.PlanValidator(name="sequential_plan_validator") as validator:
        for _ in range(150):
            plan = []
            for _ in range(rng.randint(0, 7)):
                schema = rng.choice(schemas)
                args = tuple(rng.choice([o for o in task.objects if task.is_instance(o, t)]) for _, t in schema.parameters)
                plan.append(PlanStep(schema.name, args))
            ours = validate(task, Plan(tuple(plan)))
            assert (ours.valid, ours.failed_step) == _up_verdict(up_problem, plan, validator), plan
            seen.add((ours.valid, ours.failed_step is None))
    assert len(seen) >= 2


@pytest.mark.slow
def test_depots_agrees_with_unified_planning() -> None:
    """A two-level type hierarchy (Depots): an optimal plan and well-typed mutants of it."""
    from unified_planning.io import PDDLReader

    from planner_loop.planning import solve

    up_shortcuts.get_environment().credits_stream = None
    domain = (FIXTURES / "depots-domain.pddl").read_text()
    problem = (FIXTURES / "depots-problem.pddl").read_text()
    task = parse_task(domain, problem)
    up_problem = PDDLReader().parse_problem_string(domain, problem)
    best = solve(task, planner="astar")
    assert best is not None
    plan = list(best.steps)
    rng = random.Random(3)
    outcomes = set()
    with up_shortcuts.PlanValidator(name="sequential_plan_validator") as validator:
        for attempt in range(60):
            mutant = plan[: rng.randrange(1, len(plan))] if attempt % 4 == 3 else plan[:]
            for _ in range(rng.randint(0, 2)):
                i = rng.randrange(len(mutant))
                choice = rng.randrange(3)
                if choice == 0:
                    del mutant[i]
                elif choice == 1:
                    j = rng.randrange(len(mutant))
                    mutant[i], mutant[j] = mutant[j], mutant[i]
                else:
                    step = mutant[i]
                    types = [t for _, t in task.actions[step.name].parameters]
                    k = rng.randrange(len(step.args))
                    args = list(step.args)
                    args[k] = rng.choice([o for o in task.objects if task.is_instance(o, types[k])])
                    mutant[i] = PlanStep(step.name, tuple(args))
            ours = validate(task, Plan(tuple(mutant)))
            assert (ours.valid, ours.failed_step) == _up_verdict(up_problem, mutant, validator), mutant
            outcomes.add((ours.valid, ours.failed_step is None))
    assert len(outcomes) == 3  # valid, goal failure and step failure all occur
