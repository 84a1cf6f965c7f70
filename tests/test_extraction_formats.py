"""Plan extraction from free LLM text: every documented format, failures, and PlanBench's replies."""

from __future__ import annotations

import json

import pytest
from helpers.shared_data import PLANBENCH_INSTANCES, PLANBENCH_RESULTS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner_loop.domains import get_domain, plan_json_schema
from planner_loop.domains.registry import DomainRegistry
from planner_loop.planning.task import Task, parse_task

RESULTS = PLANBENCH_RESULTS / "blocksworld"
INSTANCES = PLANBENCH_INSTANCES / "blocksworld" / "generated_basic"

PROBLEM = """(define (problem p) (:domain blocksworld-4ops) (:objects a b c d)
  (:init (clear a) (clear d) (handempty) (on a b) (on d c) (ontable b) (ontable c))
  (:goal (and (on c a))))"""


@pytest.fixture(scope="module")
def registry() -> DomainRegistry:
    return DomainRegistry.default()


@pytest.fixture(scope="module")
def task(registry: DomainRegistry) -> Task:
    domain = registry.get("blocksworld")
    return parse_task(domain.domain_file.read_text(), PROBLEM)


def steps(registry: DomainRegistry, task: Task, text: str) -> list[str] | None:
    extraction = registry.get("blocksworld").extract_plan(text, task)
    assert (extraction.plan is None) == (extraction.error is not None)
    return None if extraction.plan is None else [s.to_pddl() for s in extraction.plan.steps]


EXPECTED = ["(unstack d c)", "(put-down d)", "(pick-up c)", "(stack c a)"]


@pytest.mark.parametrize(
    "text",
    [
        "unstack the yellow block from on top of the orange block\nput down the yellow block\n"
        "pick up the orange block\nstack the orange block on top of the red block",
        "Here is my plan:\n\n1. Unstack the yellow block from on top of the orange block.\n2. Put down the yellow block.\n"
        "3. Pick up the orange block.\n4. Stack the orange block on top of the red block.\n\nThis reaches the goal.",
        "- **unstack the yellow block from on top of the orange block**\n- put down the yellow block\n"
        "* pick up the orange block\n* stack the orange block on top of the red block",
        "Step 1: (unstack d c)\nStep 2: (put-down d)\nStep 3: (pick-up c)\nStep 4: (stack c a)",
        "Plan:\n```\n(unstack d c)\n(put-down d)\n(pick-up c)\n(stack c a)\n```\nDone.",
        "(unstack d c) (put-down d)\n(PICK-UP C)\n(stack c a)",
        "[PLAN]\nunstack the yellow block from on top of the orange block\nput down the yellow block\n"
        "pick up the orange block\nstack the orange block on top of the red block\n[PLAN END]\n"
        "1. First unstack the red block from on top of the blue block so that it is clear",
        "1. Unstack the yellow block from the orange block.\n2. Put down the yellow block on the table.\n"
        "3. Pick up the orange block from the table.\n4. Then, stack the orange block on the red block.",
        '{"plan": [{"action": "unstack", "args": ["d", "c"]}, {"action": "put-down", "args": ["d"]},'
        ' {"action": "pick-up", "args": ["c"]}, {"action": "stack", "args": ["c", "a"]}]}',
        '```json\n{"plan": ["unstack the yellow block from on top of the orange block", "(put-down d)",'
        ' "pick up the orange block", "stack the orange block on top of the red block"]}\n```',
        '[{"action": "unstack", "args": ["yellow block", "the orange block"]}, {"name": "put down", "arguments": ["d"]},'
        ' {"action": "pick_up", "args": ["c"]}, {"action": "stack", "args": ["c", "red block"]}]',
    ],
)
def test_formats(registry: DomainRegistry, task: Task, text: str) -> None:
    assert steps(registry, task, text) == EXPECTED


def test_prose_after_the_plan_is_not_a_step(registry: DomainRegistry, task: Task) -> None:
    text = (
        "unstack the yellow block from on top of the orange block\nput down the yellow block\n"
        "pick up the orange block\nstack the orange block on top of the red block\n"
        "This plan rebuilds the stack with the orange block on the red block."
    )
    assert steps(registry, task, text) == EXPECTED


def test_last_code_fence_wins(registry: DomainRegistry, task: Task) -> None:
    text = "First try:\n```\n(pick-up a)\n```\nBetter:\n```\n(unstack d c)\n(put-down d)\n(pick-up c)\n(stack c a)\n```"
    assert steps(registry, task, text) == EXPECTED


def test_stray_json_does_not_hide_a_text_plan(registry: DomainRegistry, task: Task) -> None:
    text = "Using [1, 2] as scratch:\n(unstack d c)\n(put-down d)\n(pick-up c)\n(stack c a)\n[]"
    assert steps(registry, task, text) == EXPECTED


def test_blocks_past_the_twelve_colours(registry: DomainRegistry) -> None:
    domain = registry.get("blocksworld")
    problem = PROBLEM.replace("(:objects a b c d)", "(:objects a b c d m)").replace("(ontable c)", "(ontable c) (ontable m) (clear m)")
    task = parse_task(domain.domain_file.read_text(), problem)
    assert steps(registry, task, "pick up the block m\n2. Stack block m on the red block.") == ["(pick-up m)", "(stack m a)"]


def test_pddl_keeps_what_the_model_said(registry: DomainRegistry, task: Task) -> None:
    # unknown objects and wrong arity are the validator's business, not the extractor's
    assert steps(registry, task, "(stack c z)\n(pick-up a b)") == ["(stack c z)", "(pick-up a b)"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty reply"),
        ("   \n ", "empty reply"),
        ("I cannot find a plan, the goal is impossible.", "no action"),
        ("[PLAN]\n[PLAN END]", "between [PLAN] and [PLAN END]"),
        ('{"plan": []}', "empty"),
        ('{"plan": [{"action": "unstack"}, 3]}', "item 2"),
        ("pick up the block", "no action"),
    ],
)
def test_failures_are_recorded_not_raised(registry: DomainRegistry, task: Task, text: str, message: str) -> None:
    extraction = registry.get("blocksworld").extract_plan(text, task)
    assert extraction.plan is None
    assert extraction.error is not None and message in extraction.error


def test_json_schema_enumerates_actions_and_objects(registry: DomainRegistry, task: Task) -> None:
    schema = plan_json_schema(registry.get("blocksworld"), task)
    item = schema["properties"]["plan"]["items"]
    assert item["properties"]["action"]["enum"] == ["pick-up", "put-down", "stack", "unstack"]
    assert item["properties"]["args"]["items"]["enum"] == ["a", "b", "c", "d"]
    reply = json.dumps({"plan": [{"action": "pick-up", "args": ["a"]}]})
    assert steps(registry, task, reply) == ["(pick-up a)"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(
            list("abcdz ()[]{}\":,.-*`\n1")
            + ["[PLAN]", "[PLAN END]", "```", "red block ", "unstack ", "stack ", "pick up ", "the ", '{"plan": [']
        ),
        max_size=60,
    ).map("".join)
    | st.text(max_size=200)
)
def test_arbitrary_text_never_raises(registry: DomainRegistry, task: Task, text: str) -> None:
    extraction = registry.get("blocksworld").extract_plan(text, task)
    assert (extraction.plan is None) == (extraction.error is not None)
    if extraction.plan is not None:
        assert extraction.plan.steps


@pytest.mark.needs_planbench("llm_planning_analysis/results/blocksworld")
@pytest.mark.parametrize(
    "name", ["claude-3-opus/task_1_plan_generation.json", "gpt-4o_chat/task_1_plan_generation_zero_shot.json"]
)
def test_every_planbench_reply_is_read_without_exception(name: str) -> None:
    domain = get_domain("blocksworld")
    instances = json.loads((RESULTS / name).read_text())["instances"]
    failures = 0
    for instance in instances:
        task = domain.load_task(INSTANCES / f"instance-{instance['instance_id']}.pddl")
        extraction = domain.extract_plan(instance["llm_raw_response"], task)
        failures += extraction.plan is None
    assert len(instances) == 500
    assert failures <= 10  # only refusals ("the goal is not achievable") yield no plan
