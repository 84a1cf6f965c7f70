"""Verifiers: verdict reading, feedback rendering, VAL output parsing and its quirks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner_loop.domains import get_domain
from planner_loop.errors import ConfigError
from planner_loop.planning.plan import parse_plan
from planner_loop.planning.validator import validate
from planner_loop.verifiers import (
    FeedbackRenderer,
    SymbolicVerifier,
    ValVerifier,
    VerifierError,
    VerifyContext,
    find_validate,
    parse_val_output,
    read_verdict,
)
from planner_loop.verifiers.feedback import parse_literal
from planner_loop.verifiers.llm_critic import broken_plan

PROBLEM = Path(__file__).resolve().parents[1] / "problems" / "blocksworld" / "3-5" / "instance-1.pddl"
OPTIMAL = "(unstack c b)\n(put-down c)\n(pick-up b)\n(stack b e)\n(unstack a d)\n(stack a b)\n"


@pytest.fixture(scope="module")
def domain():  # type: ignore[no-untyped-def]
    return get_domain("blocksworld")


@pytest.fixture(scope="module")
def task(domain):  # type: ignore[no-untyped-def]
    return domain.load_task(PROBLEM)


@pytest.mark.parametrize(("text", "valid", "reading"), [
    ("Verdict: valid", True, "verdict-line"),
    ("Step 1 ok.\nStep 2 fails.\n**Verdict:** invalid", False, "verdict-line"),
    ("verdict - NOT VALID", False, "verdict-line"),
    ("I first thought Verdict: valid, but Verdict: invalid", False, "verdict-line"),
    ('```json\n{"valid": false, "feedback": "step 2"}\n```', False, "json"),
    ('{"analysis": "...", "valid": true, "feedback": ""}', True, "json"),
    ('{"verdict": "invalid"}', False, "json"),
    ("Valid.", True, "bare"),
    ("no", False, "bare"),
    ("After checking, the plan is not valid because the hand is full.", False, "phrase"),
    ("The plan is correct.", True, "phrase"),
    ("The plan is valid. Actually the plan is invalid.", None, "conflicting"),
    ("I cannot tell.", None, "unreadable"),
    ("", None, "unreadable"),
    ('{"valid": "maybe"}', None, "unreadable"),
])
def test_read_verdict(text: str, valid: bool | None, reading: str) -> None:
    result = read_verdict(text)
    assert (result.valid, result.reading) == (valid, reading)


def test_read_verdict_keeps_the_critique() -> None:
    assert read_verdict('{"valid": false, "feedback": "step 2 needs a clear block"}').feedback == (
        "step 2 needs a clear block")
    assert read_verdict("Step 2 needs a clear block.\nVerdict: invalid").feedback == "Step 2 needs a clear block."


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_read_verdict_never_raises(text: str) -> None:
    assert read_verdict(text).valid in (True, False, None)


def test_parse_literal() -> None:
    assert parse_literal("(on a b)") == (("on", "a", "b"), True)
    assert parse_literal("(not (clear B))") == (("clear", "b"), False)
    assert parse_literal("(handempty)") == (("handempty",), True)


def test_feedback_for_plan_errors(domain, task) -> None:  # type: ignore[no-untyped-def]
    plan = parse_plan("(unstack c b)\n(fly c)\n(stack c)\n")
    nl = FeedbackRenderer(domain, "nl")
    pddl = FeedbackRenderer(domain, "pddl")
    first = validate(task, plan)
    assert "Step 2 cannot be read as an action" in nl.render(first, "first-error")
    every = validate(task, plan, all_errors=True)
    text = pddl.render(every, "all-errors")
    assert "Step 2 is not a valid ground action" in text and "Step 3 is not a valid ground action" in text
    assert "Goal conditions false at the end: (on a b) (on b e)." in text
    assert nl.render(validate(task, parse_plan(OPTIMAL)), "first-error") == "The plan is valid."
    assert nl.render(first, "none") == ""


def test_symbolic_verifier_is_the_validator(domain, task) -> None:  # type: ignore[no-untyped-def]
    verifier = SymbolicVerifier(domain, feedback="binary")
    good = asyncio.run(verifier.verify(task, parse_plan(OPTIMAL), VerifyContext()))
    assert good.valid is True and good.feedback == ""
    bad = asyncio.run(verifier.verify(task, parse_plan(OPTIMAL + "(pick-up a)\n"), VerifyContext()))
    assert bad.valid is False and bad.feedback == "The plan is not valid."


def test_broken_plan_is_invalid(task) -> None:  # type: ignore[no-untyped-def]
    plan = parse_plan(OPTIMAL)
    broken = broken_plan(task, plan)
    assert broken.steps == plan.steps[1:] and not validate(task, broken).valid


VAL_PRECONDITION = """Checking plan: plan.txt
Plan to validate:

Plan size: 2
1:
(pick-up b)
2:
(stack b e)

Plan failed because of unsatisfied precondition in:
(pick-up b)

Plan failed to execute

Plan Repair Advice:

(pick-up b) has an unsatisfied precondition at time 1
(Set (clear b) to true)
"""
VAL_FOLLOW = VAL_PRECONDITION.replace("(Set (clear b) to true)", """(Follow each of:
    (Set (clear b) to true)
    and (Set (handempty) to true)
)""")
VAL_GOAL = """Plan executed successfully - checking goal
Goal not satisfied

Plan Repair Advice:

The goal is not satisfied
(Set (on a b) to true)
(Set (on b e) to true)
"""


def test_parse_val_output() -> None:
    assert parse_val_output("Plan executed successfully\nPlan valid\nFinal value: 2\n", 0, 2).valid
    pre = parse_val_output(VAL_PRECONDITION, 1, 2)
    assert (pre.valid, pre.failed_step, pre.action, pre.unmet_preconditions) == (
        False, 1, "(pick-up b)", ("(clear b)",))
    assert parse_val_output(VAL_FOLLOW, 1, 2).unmet_preconditions == ("(clear b)", "(handempty)")
    goal = parse_val_output(VAL_GOAL, 1, 6)
    assert (goal.valid, goal.failed_step, goal.unmet_goals) == (False, None, ("(on a b)", "(on b e)"))


@pytest.mark.parametrize(("output", "code"), [
    ("Bad plan description!\n", 0),      # VAL exits 0 on a plan it cannot read
    ("", -11),                           # segfault (too few arguments, truncated problem)
    ("", 139),
    ("Something else entirely\n", 0),
    ("Errors: 1\n", 2),
])
def test_val_quirks_are_errors_not_verdicts(output: str, code: int) -> None:
    with pytest.raises(VerifierError):
        parse_val_output(output, code, 1)


def test_val_prechecks_what_val_would_wave_through(domain, task) -> None:  # type: ignore[no-untyped-def]
    # No VAL needed: these plans never reach it (VAL ignores extra arguments of untyped domains).
    verifier = ValVerifier(domain, executable="Validate", feedback="first-error")
    extra = asyncio.run(verifier.verify(task, parse_plan("(unstack c b a)\n"), VerifyContext()))
    assert extra.valid is False and extra.detail["precheck"] and "Step 1" in extra.feedback
    unknown = asyncio.run(verifier.verify(task, parse_plan("(jump c)\n"), VerifyContext()))
    assert unknown.valid is False and unknown.detail["exit_code"] is None
    none = asyncio.run(verifier.verify(task, None, VerifyContext(parse_error="empty reply")))
    assert none.valid is False and none.detail["parse_error"] == "empty reply" and none.detail["empty_plan"]
    with pytest.raises(ConfigError):
        ValVerifier(domain, executable="Validate", feedback="all-errors")


@pytest.mark.skipif(find_validate() is None, reason="VAL's Validate is not installed")
def test_real_val_agrees_with_the_validator(domain, task) -> None:  # type: ignore[no-untyped-def]
    verifier = ValVerifier(domain, feedback="first-error")
    for text in (OPTIMAL, "(pick-up b)\n(stack b e)\n", OPTIMAL.rsplit("(stack", 1)[0]):
        plan = parse_plan(text)
        verdict = asyncio.run(verifier.verify(task, plan, VerifyContext()))
        assert verdict.valid == validate(task, plan).valid
