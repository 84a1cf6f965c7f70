"""``planner-loop validate`` and ``planner-loop solve``: exit codes 0/1/2, JSON records, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planner_loop.planning import load_task, parse_plan, validate
from planner_loop.planning.search import fast_downward_driver

FIXTURES = Path(__file__).parent / "fixtures" / "planning"
DOMAIN = FIXTURES / "bw-domain.pddl"
PROBLEM = FIXTURES / "bw-3.pddl"
GOOD = FIXTURES / "bw-3.plan"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from planner_loop.cli.main import run; run()", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def bad_plans(tmp_path: Path) -> dict[str, Path]:
    files = {
        "precondition": "(unstack c a)\n(pick-up b)\n",
        "goal": "(unstack c a)\n(put-down c)\n",
        "syntax": "(unstack c a\n",
        "extra-args": "(unstack c a b)\n",
    }
    paths = {}
    for name, text in files.items():
        paths[name] = tmp_path / f"{name}.plan"
        paths[name].write_text(text)
    return paths


def test_valid_plan_exits_0() -> None:
    result = _run("validate", DOMAIN, PROBLEM, GOOD)
    assert result.returncode == 0, result.stderr
    assert "VALID" in result.stdout and "INVALID" not in result.stdout


def test_invalid_plans_exit_1_with_one_json_object_each(bad_plans: dict[str, Path], tmp_path: Path) -> None:
    missing = tmp_path / "missing.plan"
    result = _run("validate", DOMAIN, PROBLEM, GOOD, *bad_plans.values(), missing, "--json")
    assert result.returncode == 1, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["plan"] for r in records] == [str(GOOD), *map(str, bad_plans.values()), str(missing)]
    for record in records:
        assert {"plan", "valid", "failed_step", "action", "unmet_preconditions", "unmet_goals", "errors"} <= set(record)
        assert "failures" not in record
    good, precondition, goal, syntax, extra, unreadable = records
    assert good["valid"] is True
    assert (precondition["failed_step"], precondition["action"], precondition["unmet_preconditions"]) == (
        2, "(pick-up b)", ["(handempty)"])
    assert goal["failed_step"] is None and goal["unmet_goals"] == ["(on a b)", "(on b c)"]
    assert syntax["errors"][0]["kind"] == "syntax" and syntax["errors"][0]["step"] == 1
    assert extra["errors"][0]["kind"] == "arity"
    assert unreadable["valid"] is False and unreadable["errors"][0]["step"] is None


def test_all_errors_json_has_failures(bad_plans: dict[str, Path]) -> None:
    result = _run("validate", DOMAIN, PROBLEM, bad_plans["precondition"], "--json", "--all-errors")
    assert result.returncode == 1
    record = json.loads(result.stdout)
    expected = validate(load_task(DOMAIN, PROBLEM), parse_plan(bad_plans["precondition"].read_text()), all_errors=True)
    assert record["failures"] == expected.to_json()["failures"] == [
        {"step": 2, "action": "(pick-up b)", "unmet_preconditions": ["(handempty)"]}]
    assert record["unmet_goals"] == ["(on a b)", "(on b c)"]


def test_human_summary_names_failing_step(bad_plans: dict[str, Path]) -> None:
    result = _run("validate", DOMAIN, PROBLEM, bad_plans["precondition"])
    assert result.returncode == 1
    assert "INVALID" in result.stdout and "(pick-up b)" in result.stdout and "(handempty)" in result.stdout


def test_unusable_problem_exits_2_with_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pddl"
    broken.write_text(PROBLEM.read_text().replace("(:objects a b c)", "(:objects a b c"))
    result = _run("validate", DOMAIN, broken, GOOD)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{broken}:5:" in lines[0] and "Traceback" not in result.stderr
    result = _run("validate", tmp_path / "nope.pddl", PROBLEM, GOOD, "--json")
    assert result.returncode == 2 and "nope.pddl" in result.stderr and result.stdout == ""


def test_unsupported_requirement_exits_2(tmp_path: Path) -> None:
    domain = tmp_path / "adl.pddl"
    domain.write_text(DOMAIN.read_text().replace(":strips", ":adl"))
    result = _run("validate", domain, PROBLEM, GOOD)
    assert result.returncode == 2 and f"{domain}:3:" in result.stderr and ":adl" in result.stderr


@pytest.mark.skipif(fast_downward_driver() is None, reason="up-fast-downward not installed")
def test_solve_prints_a_plan_that_validates(tmp_path: Path) -> None:
    result = _run("solve", DOMAIN, PROBLEM, "--optimal")
    assert result.returncode == 0, result.stderr
    plan_file = tmp_path / "solved.plan"
    plan_file.write_text(result.stdout)
    plan = parse_plan(result.stdout)
    assert len(plan.steps) == 6 and plan.syntax_errors == ()
    assert _run("validate", DOMAIN, PROBLEM, plan_file).returncode == 0


def test_solve_exit_codes(tmp_path: Path) -> None:
    stuck = tmp_path / "stuck.pddl"
    stuck.write_text(PROBLEM.read_text().replace("(and (on a b) (on b c))", "(and (on a b) (on b a))"))
    assert _run("solve", DOMAIN, stuck, "--planner", "bfs").returncode == 1
    assert _run("solve", DOMAIN, tmp_path / "none.pddl").returncode == 2
