"""PlanBench compatibility: Mystery Blocksworld and Logistics instances load and solve; renamings."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.shared_data import PLANBENCH_INSTANCES

from planner_loop.domains import get_domain, load_domain
from planner_loop.domains.obfuscation import (
    MYSTERY_BLOCKSWORLD,
    check_same_schemas,
    regenerate_builtin,
    rename_problem,
)
from planner_loop.planning.search import solve
from planner_loop.planning.task import load_task, parse_task
from planner_loop.planning.validator import validate
from planner_loop.resources import builtin_dir

PLANBENCH = PLANBENCH_INSTANCES
needs_planbench = pytest.mark.needs_planbench("plan-bench/instances")
MYSTERY = PLANBENCH / "blocksworld" / "mystery"
LOGISTICS = PLANBENCH / "logistics"


def test_committed_renamed_domains_are_regenerated_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = builtin_dir("domains")
    names = ("mystery_blocksworld", "mystery_blocksworld_random")
    before = {n: {f: (root / n / f).read_text() for f in ("domain.pddl", "domain.yaml")} for n in names}
    copy = tmp_path / "domains"
    for name in ("blocksworld", *names):
        (copy / name).mkdir(parents=True)
        for file in (root / name).iterdir():
            (copy / name / file.name).write_text(file.read_text())
    monkeypatch.setattr("planner_loop.domains.obfuscation._builtin", lambda name: copy / name)
    regenerate_builtin()
    after = {n: {f: (copy / n / f).read_text() for f in ("domain.pddl", "domain.yaml")} for n in names}
    assert after == before


def test_renamed_text_hides_blocks_world() -> None:
    for name in ("mystery_blocksworld", "mystery_blocksworld_random"):
        domain = get_domain(name)
        text = (domain.describe("nl") + domain.describe("pddl")).lower()
        for word in ("block", "stack", "table", "clear", "hand", "holding", "pick", "bw-"):
            assert word not in text, (name, word)


@needs_planbench
def test_deceptive_renaming_is_planbenchs_mystery_domain() -> None:
    assert check_same_schemas(get_domain("mystery_blocksworld").domain_file, MYSTERY / "generated_domain.pddl") == []


@needs_planbench
def test_mystery_instances_are_renamed_blocksworld_instances() -> None:
    blocks = PLANBENCH / "blocksworld" / "generated_basic"
    domain = get_domain("mystery_blocksworld")
    domain_text = domain.domain_file.read_text()
    for number in range(1, 501, 25):
        ours = parse_task(domain_text, rename_problem((blocks / f"instance-{number}.pddl").read_text(), MYSTERY_BLOCKSWORLD))
        theirs = domain.load_task(MYSTERY / "generated_basic" / f"instance-{number}.pddl")
        assert (ours.init, set(ours.goal)) == (theirs.init, set(theirs.goal))


@needs_planbench
@pytest.mark.parametrize(
    ("folder", "domain_file", "sample"),
    [
        (MYSTERY / "generated_basic", get_domain("mystery_blocksworld").domain_file, 10),
        (LOGISTICS / "generated_basic", LOGISTICS / "generated_domain.pddl", 6),
    ],
    ids=["mystery", "logistics"],
)
def test_planbench_instances_load_and_their_optimal_plans_validate(folder: Path, domain_file: Path, sample: int) -> None:
    problems = sorted(folder.glob("instance-*.pddl"), key=lambda p: int(p.stem.split("-")[1]))
    assert len(problems) >= 285
    tasks = [load_task(domain_file, problem) for problem in problems]
    step = len(tasks) // sample
    for task in tasks[::step][:sample]:
        plan = solve(task)
        assert plan is not None, task.name
        assert validate(task, plan).valid


@needs_planbench
@pytest.mark.slow
@pytest.mark.parametrize(
    ("folder", "domain_name", "every"),
    [(MYSTERY / "generated_basic", "mystery_blocksworld", 5), (LOGISTICS / "generated_basic", "logistics", 20)],
    ids=["mystery", "logistics"],
)
def test_many_planbench_instances_solve_and_read_back(folder: Path, domain_name: str, every: int) -> None:
    domain = load_domain(builtin_dir("domains") / domain_name)
    domain_file = folder.parent / "generated_domain.pddl"
    problems = sorted(folder.glob("instance-*.pddl"), key=lambda p: int(p.stem.split("-")[1]))
    for problem in problems[::every]:
        task = load_task(domain_file, problem)
        plan = solve(task, timeout_s=120)
        assert plan is not None and validate(task, plan).valid, problem.name
        extraction = domain.extract_plan(domain.render_plan(plan), task)
        assert extraction.plan is not None and validate(task, extraction.plan).valid, problem.name
