"""The critic-verdict reader: explicit verdicts, negated phrasings, conflicting continuations, bounds."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner_loop.verifiers import read_verdict
from planner_loop.verifiers.verdict_reader import judged_part


@pytest.mark.parametrize(
    ("text", "valid", "reading"),
    [
        ('{"valid": false, "feedback": "step 2 fails"}', False, "json"),
        ("Some analysis.\nVerdict: valid", True, "verdict-line"),
        ("No", False, "bare"),
        ("The plan isn't valid because step 2 needs a clear block.", False, "phrase"),
        ("This is not a valid plan.", False, "phrase"),
        ("The plan is valid? No, step 2 fails.", False, "phrase"),
        ("Is the plan valid? Yes.", None, "unreadable"),
        ("The above plan is invalid. The following action at step 1 has an unmet precondition:", False, "phrase"),
        ("The plan is valid.", True, "phrase"),
        ("The plan looks correct.", True, "phrase"),
        ("The plan is valid. Actually, the plan is invalid.", None, "conflicting"),
        ("Hmm.", None, "unreadable"),
        ("<think>The plan is valid.</think>The plan is not valid.", False, "phrase"),
    ],
)
def test_readings(text: str, valid: bool | None, reading: str) -> None:
    result = read_verdict(text)
    assert (result.valid, result.reading) == (valid, reading)


@pytest.mark.parametrize("marker", ["[STATEMENT]\nAs initial conditions I have that, the red block is clear.",
                                    "A corrected plan is as follows:\n\n[PLAN]\npick up the red block\n[PLAN END]\n\n[VERIFICATION]"])
def test_a_continuation_that_invents_a_new_problem_is_not_read(marker: str) -> None:
    text = f"The above plan is invalid. Step 2 fails.\n\n{marker}\nThe above plan is valid."
    assert read_verdict(text).valid is False
    assert "[PLAN]" not in judged_part(text) and "[STATEMENT]" not in judged_part(text)


def test_a_restated_plan_before_the_verdict_is_still_read() -> None:
    assert read_verdict("[PLAN]\npick up the red block\n[PLAN END]\nThe plan is valid.").valid is True


@pytest.mark.parametrize("text", ["{" * 200_000, '{"a":' * 100_000, "[" * 1_000_000, "The plan is " * 200_000,
                                  "verdict " * 300_000, '{"valid": true}' * 100_000, "\ud800 plan is valid"])
def test_adversarial_text_is_bounded(text: str) -> None:
    start = time.perf_counter()
    read_verdict(text)
    assert time.perf_counter() - start < 2.0


@settings(max_examples=300, deadline=300)
@given(st.lists(st.sampled_from(["{", "}", '"valid"', ":", "true", "false", " plan", " is", " not", " valid", "n't",
                                 "?", " No", "Verdict:", "[STATEMENT]", "\n", "invalid", " a", '"', "\\"]),
                max_size=60).map("".join) | st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    result = read_verdict(text)
    assert result.valid in (True, False, None)
