"""The thin public API: every exported name resolves, the documented workflow runs through it, and
importing the package stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import planner_loop as pl
from planner_loop.resources import builtin_dir


@pytest.mark.parametrize("name", [n for n in pl.__all__ if n != "__version__"])
def test_every_exported_name_resolves(name: str) -> None:
    value = getattr(pl, name)
    assert getattr(value, "__name__", name) == name


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        pl.no_such_thing  # noqa: B018


def test_load_solve_validate_round_trip_through_the_public_api() -> None:
    domain = builtin_dir("domains") / "blocksworld" / "domain.pddl"
    problem = builtin_dir("problems") / "blocksworld" / "3-5" / "instance-1.pddl"
    task = pl.load_task(domain, problem)
    plan = pl.solve(task, optimal=True)
    assert plan is not None and pl.validate(task, plan).valid
    manifest = {row["id"]: row for row in pl.read_manifest(problem.parent / "manifest.jsonl")}
    assert len(plan.steps) == manifest["instance-1"]["optimal_length"]
    broken = pl.parse_plan(plan.to_pddl().split("\n", 1)[1])   # without its first step
    report = pl.validate(task, broken)
    assert not report.valid and report.failed_step is not None


def test_import_does_not_load_heavy_libraries() -> None:
    code = ("import sys, planner_loop; "
            "print(sorted(m for m in ('pandas', 'matplotlib', 'unified_planning', 'openai') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
