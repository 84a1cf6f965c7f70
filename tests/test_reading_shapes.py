"""Reply shapes from every kind of model, each built from a format (not copied from a reply)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner_loop.domains import get_domain
from planner_loop.domains.protocol import PlanExtraction
from planner_loop.planning.task import Task, parse_task

PROBLEM = """(define (problem p) (:domain blocksworld-4ops) (:objects a b c d)
  (:init (clear a) (clear d) (handempty) (on a b) (on d c) (ontable b) (ontable c))
  (:goal (and (on c a))))"""
PLAN = ["(unstack d c)", "(put-down d)", "(pick-up c)", "(stack c a)"]
NL = ["Unstack the yellow block from on top of the orange block", "Put down the yellow block",
      "Pick up the orange block", "Stack the orange block on top of the red block"]
SHORT = ["Unstack yellow from orange", "Put down yellow", "Pick up orange", "Stack orange on red"]


@pytest.fixture(scope="module")
def task() -> Task:
    return parse_task(get_domain("blocksworld").domain_file.read_text(), PROBLEM)


def read(task: Task, text: str) -> PlanExtraction:
    return get_domain("blocksworld").extract_plan(text, task)


def steps(extraction: PlanExtraction) -> list[str] | None:
    return None if extraction.plan is None else [s.to_pddl() for s in extraction.plan.steps]


def numbered(lines: list[str], bold: bool = False, explain: bool = False) -> str:
    out = []
    for i, line in enumerate(lines, start=1):
        out.append(f"{i}. **{line}**" if bold else f"{i}. {line}")
        if explain:
            out += ["   - **Preconditions:** the hand is empty, the block is clear.",
                    "   - **Effects:** I am holding the block; stack it on the red block later."]
    return "\n".join(out)


@pytest.mark.parametrize("heading", ["**Actions in the plan:**", "So, the actions in the plan are:", "### Final plan",
                                     "Final answer:"])
def test_explained_steps_then_a_restated_plan_is_one_plan(task: Task, heading: str) -> None:
    text = ("Let me work through it.\n\n" + numbered(SHORT, bold=True, explain=True)
            + f"\n\n{heading}\n\n" + numbered(NL) + "\n\nThis reaches the goal.")
    extraction = read(task, text)
    assert steps(extraction) == PLAN
    assert extraction.block == "final-answer-heading" and "final answer" in extraction.reason


def test_sub_bullets_are_not_steps(task: Task) -> None:
    extraction = read(task, "Here is the plan:\n\n" + numbered(SHORT, bold=True, explain=True))
    assert steps(extraction) == PLAN
    assert extraction.block == "numbered-list"


def test_a_restatement_without_heading_is_the_same_plan(task: Task) -> None:
    text = numbered(NL) + "\n\n---\n\n**Detailed Steps:**\n" + numbered(SHORT, bold=True, explain=True)
    extraction = read(task, text)
    assert steps(extraction) == PLAN and "restates" in extraction.reason


def test_a_later_corrected_list_wins(task: Task) -> None:
    text = "First idea:\n1. Pick up the red block\n\nWait, that fails. Corrected:\n\n" + numbered(NL)
    assert steps(read(task, text)) == PLAN


@pytest.mark.parametrize("open_tag", ["<think>", "<thinking>"])
def test_reasoning_traces_are_never_the_answer(task: Task, open_tag: str) -> None:
    close = "</" + open_tag[1:]
    trace = f"{open_tag}\n1. Pick up the red block\n2. Stack the red block on the blue block\n{close}\n"
    extraction = read(task, trace + numbered(NL))
    assert steps(extraction) == PLAN and "reasoning trace ignored" in extraction.reason
    only_trace = read(task, f"{open_tag}\n" + numbered(NL) + "\n")  # an unclosed trace: no answer yet
    assert only_trace.plan is None and "reasoning trace" in (only_trace.error or "")
    stripped_open = read(task, "1. Pick up the red block\n" + close + "\n" + numbered(NL))
    assert steps(stripped_open) == PLAN


def test_json_and_pddl_shapes(task: Task) -> None:
    json_reply = '{"plan": [' + ", ".join(
        f'{{"action": "{s[1:-1].split()[0]}", "args": {s[1:-1].split()[1:]!r}}}'.replace("'", '"') for s in PLAN) + "]}"
    assert steps(read(task, json_reply)) == PLAN and read(task, json_reply).block == "json"
    pddl = read(task, "\n".join(PLAN))
    assert steps(pddl) == PLAN and pddl.block == "pddl"
    fenced = read(task, "Plan:\n```pddl\n" + "\n".join(PLAN) + "\n```\nDone.")
    assert steps(fenced) == PLAN and fenced.block == "fenced"
    calls = read(task, "1. Unstack(yellow, orange)\n2. Put down(yellow)\n3. Pick up(orange)\n4. Stack(orange, red)")
    assert steps(calls) == PLAN


def test_plan_tags_win(task: Task) -> None:
    extraction = read(task, "[PLAN]\n" + "\n".join(NL) + "\n[PLAN END]\n1. Then stack the red block on it")
    assert steps(extraction) == PLAN and extraction.block == "plan-tags"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("stack the red block under the orange block", "(stack c a)"),
        ("unstack the orange block from under the yellow block", "(unstack d c)"),
        ("stack the orange block on the red block", "(stack c a)"),
        ("put orange on the table", "(put-down c)"),
    ],
)
def test_phrasings(task: Task, line: str, expected: str) -> None:
    assert steps(read(task, line)) == [expected]


def test_lines_naming_extra_objects_are_ambiguous(task: Task) -> None:
    extraction = read(task, "1. Pick up the yellow block with the blue block on top\n2. Put down the yellow block")
    assert steps(extraction) == ["(pick-up d)", "(put-down d)"]
    assert extraction.ambiguous == ("1. Pick up the yellow block with the blue block on top",)
    assert read(task, "\n".join(NL)).ambiguous == ()


@pytest.mark.parametrize("text", ["There is no valid plan: the goal is unreachable.",
                                  "It is not possible to achieve the goal from this state."])
def test_no_plan_claims(task: Task, text: str) -> None:
    extraction = read(task, text)
    assert extraction.plan is None and extraction.no_plan_claim
    assert not read(task, "\n".join(NL)).no_plan_claim


def test_prose_about_unreachable_goals_beside_a_plan_is_not_a_no_plan_claim(task: Task) -> None:
    from planner_loop.loop import score_round

    text = ("The orange block must be clear first, otherwise the goal cannot be reached.\n\n"
            + numbered(NL) + "\n\nWithout the first step it is impossible to achieve the goal.")
    extraction = read(task, text)
    assert steps(extraction) == PLAN and not extraction.no_plan_claim
    truth = score_round(task, extraction.plan, None, solvable=True, no_plan_claim=extraction.no_plan_claim)
    assert truth.valid


@pytest.mark.parametrize(
    "text",
    ["{" * 200_000, "[" * 200_000, "```\n" * 50_000, "1. " * 100_000, "(" * 200_000, "- " * 200_000,
     "unstack the " * 100_000, "**" * 200_000, "<think>" * 50_000, "x" * 5_000_000,
     ("1. **Unstack blue from orange**\n   - because\n" * 40_000)],
)
def test_adversarial_replies_are_bounded(task: Task, text: str) -> None:
    start = time.perf_counter()
    extraction = read(task, text)
    assert time.perf_counter() - start < 3.0
    assert (extraction.plan is None) == (extraction.error is not None)


@settings(max_examples=200, deadline=500, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(
    ["1. ", "- ", "   - ", "**", "Final plan:", "\n", "\n\n", "```", "<think>", "</think>", "[PLAN]", "[PLAN END]",
     "Unstack ", "yellow ", "from ", "under ", "orange", "red block ", "(stack c a)", "{", "}", "[", "]", '"plan": ',
     ":", "Actions in the plan:", "Put ", "the ", "a ", "(", ")", ","]), max_size=80).map("".join) | st.text(max_size=300))
def test_arbitrary_shapes_never_raise(task: Task, text: str) -> None:
    extraction = read(task, text)
    assert (extraction.plan is None) == (extraction.error is not None)
    assert isinstance(extraction.reason, str) and isinstance(extraction.ambiguous, tuple)
