"""Plan files: comments, blank lines, case, timestamps, malformed lines with their line and step."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner_loop.errors import PlanSyntaxError
from planner_loop.planning import Plan, PlanStep, load_plan, parse_plan


def test_comments_blank_lines_case_and_timestamps() -> None:
    text = (
        "; a full-line comment\n"
        "\n"
        "(UNSTACK C A)   ; trailing comment\n"
        "   \n"
        "0.001: (Put-Down c) [1]\n"
        "2: (pick-up b)\n"
        "(stack b c)[1.5]\n"
        "  ;; indented comment\n"
    )
    plan = parse_plan(text, source="p.txt")
    assert plan.syntax_errors == ()
    assert plan.steps == (
        PlanStep("unstack", ("c", "a"), 3),
        PlanStep("put-down", ("c",), 5),
        PlanStep("pick-up", ("b",), 6),
        PlanStep("stack", ("b", "c"), 7),
    )
    assert plan.source == "p.txt"
    assert plan.to_pddl() == "(unstack c a)\n(put-down c)\n(pick-up b)\n(stack b c)\n"


def test_zero_argument_action_and_spacing() -> None:
    assert parse_plan("( noop )\n(  move   a\tb )").steps == (PlanStep("noop", (), 1), PlanStep("move", ("a", "b"), 2))


def test_empty_plan() -> None:
    for text in ("", "\n\n", "; cost = 0\n"):
        plan = parse_plan(text)
        assert plan.steps == () and plan.syntax_errors == ()
        assert plan.to_pddl() == ""


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("pick-up a", "expected an action"),
        ("(pick-up a", "unbalanced"),
        ("pick-up a)", "unbalanced"),
        ("(pick-up a) (put-down a)", "more than one"),
        ("((pick-up a))", "more than one"),
        ("()", "empty action"),
        ("(pick-up a) extra", "unexpected text"),
        ("1.5 (pick-up a)", "unexpected text"),
        ("(pick-up a) [x]", "unexpected text"),
    ],
)
def test_malformed_line_is_recorded_not_raised(line: str, fragment: str) -> None:
    plan = parse_plan(f"; header\n(unstack c a)\n\n{line}\n(put-down c)\n")
    assert len(plan.syntax_errors) == 1
    error = plan.syntax_errors[0]
    assert (error.line, error.step, error.text) == (4, 2, line)
    assert fragment in error.message
    assert [s.to_pddl() for s in plan.steps] == ["(unstack c a)", "(put-down c)"]


def test_load_plan_reads_file_and_refuses_unreadable(tmp_path: Path) -> None:
    file = tmp_path / "plan.txt"
    file.write_text("(pick-up a)\n")
    assert load_plan(file) == Plan((PlanStep("pick-up", ("a",), 1),), (), str(file))
    with pytest.raises(PlanSyntaxError) as caught:
        load_plan(tmp_path / "nope.txt")
    assert caught.value.source == str(tmp_path / "nope.txt")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe(pick-up a)")
    with pytest.raises(PlanSyntaxError):
        load_plan(binary)


NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,6}", fullmatch=True)


@given(st.lists(st.tuples(NAMES, st.lists(NAMES, max_size=4)), max_size=12))
def test_to_pddl_round_trips(steps: list[tuple[str, list[str]]]) -> None:
    plan = Plan(tuple(PlanStep(name, tuple(args)) for name, args in steps))
    again = parse_plan(plan.to_pddl())
    assert [(s.name, s.args) for s in again.steps] == [(s.name, s.args) for s in plan.steps]
    assert again.syntax_errors == ()


@given(st.lists(st.sampled_from(["(a x)", "bad", "; c", "", "(b)", "(c y"]), max_size=20))
def test_step_numbers_count_every_non_blank_non_comment_line(lines: list[str]) -> None:
    plan = parse_plan("\n".join(lines))
    meaningful = [i + 1 for i, line in enumerate(lines) if line.split(";")[0].strip()]
    numbers = sorted([e.step for e in plan.syntax_errors])
    assert len(plan.steps) + len(plan.syntax_errors) == len(meaningful)
    assert [e.line for e in plan.syntax_errors] == [meaningful[k - 1] for k in numbers]
