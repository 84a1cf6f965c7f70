"""``planner-loop validate`` on many plan files: the --json lines are exactly the validator's
records (as ``json.dumps(report.to_json(str(Path(p))))``), whatever the path spelling or verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from planner_loop.errors import PlanSyntaxError
from planner_loop.planning import load_task, validate
from planner_loop.planning.plan import load_plan, parse_plan

FIXTURES = Path(__file__).parent / "fixtures" / "planning"
DOMAIN = FIXTURES / "bw-domain.pddl"
PROBLEM = FIXTURES / "bw-3.pddl"


def _expected_line(task: object, path: str, all_errors: bool) -> str:
    shown = str(Path(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        record = {"plan": shown, "valid": False, "failed_step": None, "action": None, "unmet_preconditions": [],
                  "unmet_goals": [], "errors": None, "steps": 0, "all_errors": all_errors}
        try:
            load_plan(path)  # the message is the library's own
        except PlanSyntaxError as error:
            record["errors"] = [{"step": None, "kind": "syntax", "message": error.describe()}]
        if all_errors:
            record["failures"] = []
        return json.dumps(record)
    return json.dumps(validate(task, parse_plan(text), all_errors=all_errors).to_json(shown))  # type: ignore[arg-type]


def test_many_plans_give_the_validators_records_byte_for_byte(tmp_path: Path) -> None:
    good = (FIXTURES / "bw-3.plan").read_text()
    texts = {
        "good": good, "crlf": good.replace("\n", "\r\n"), "short": "\n".join(good.splitlines()[:-1]),
        "bad": "(stack a b)\n", "syntax": "(pick-up a\n(fly)\n", "empty": "", "binary": b"\xff\xfe(".decode("latin-1"),
    }
    (tmp_path / "plans").mkdir()
    for name, text in texts.items():
        (tmp_path / "plans" / name).write_bytes(text.encode("latin-1" if name == "binary" else "utf-8"))
    names = [f"plans/{n}" for n in texts] * 3 + ["./plans//good", "plans/missing", "plans", "plans/good/"]
    task = load_task(DOMAIN, PROBLEM)
    for all_errors in (False, True):
        flags = ["--json"] + (["--all-errors"] if all_errors else [])
        result = subprocess.run(
            [sys.executable, "-c", "from planner_loop.cli.main import run; run()", "validate", str(DOMAIN),
             str(PROBLEM), *names, *flags], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        got = result.stdout.splitlines()
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            expected = [_expected_line(task, n, all_errors) for n in names]
        finally:
            os.chdir(cwd)
        assert got == expected
    only_good = subprocess.run(
        [sys.executable, "-c", "from planner_loop.cli.main import run; run()", "validate", str(DOMAIN), str(PROBLEM),
         "plans/good", "plans/crlf"], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert only_good.returncode == 0 and only_good.stdout.count("VALID") == 2


def test_plan_paths_past_the_first_go_around_clicks_parser_in_order() -> None:
    from planner_loop.cli.planning_commands import split_validate_argv

    argv = ["validate", "--json", "d.pddl", "p.pddl", "a", "b", "c", "--all-errors", "d"]
    assert split_validate_argv(argv) == (["validate", "--json", "--all-errors", "d.pddl", "p.pddl", "a"],
                                         ("b", "c", "d"))
    for whole in (["validate", "d", "p", "a"], ["validate", "d", "p", "a", "b", "--", "-c"],
                  ["validate", "d", "p", "a", "b", "--help"], ["validate", "d", "p", "a", "b", "--jsn"],
                  ["solve", "d", "p", "a", "b"], []):
        assert split_validate_argv(whole) == (whole, ())


def test_an_unknown_option_among_many_plans_is_still_refused_by_the_cli(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from planner_loop.cli.main import run; run()", "validate", str(DOMAIN),
         str(PROBLEM), "a.plan", "b.plan", "--jsn"], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and "--jsn" in result.stderr and "Traceback" not in result.stderr
