"""PlanBench's two Blocks World result files: ground-truth plans validate, and our verdict on each
extracted LLM plan equals PlanBench's recorded ``llm_correct`` (skips when ../shared is absent)."""

from __future__ import annotations

import json

import pytest
from helpers.shared_data import PLANBENCH

from planner_loop.planning import load_task, parse_plan, validate

RESULTS = PLANBENCH / "llm_planning_analysis" / "results" / "blocksworld"
INSTANCES = PLANBENCH / "plan-bench" / "instances" / "blocksworld"
FILES = {
    "claude-3-opus": (RESULTS / "claude-3-opus" / "task_1_plan_generation.json", 242),
    "gpt-4o": (RESULTS / "gpt-4o_chat" / "task_1_plan_generation_zero_shot.json", 160),
}


@pytest.mark.needs_planbench("llm_planning_analysis/results/blocksworld")
@pytest.mark.parametrize("engine", sorted(FILES))
def test_ground_truth_plans_validate_and_verdicts_match_planbench(engine: str) -> None:
    path, expected_correct = FILES[engine]
    instances = json.loads(path.read_text())["instances"]
    assert len(instances) == 500
    correct = 0
    for record in instances:
        task = load_task(INSTANCES / "generated_domain.pddl",
                         INSTANCES / "generated_basic" / f"instance-{record['instance_id']}.pddl")
        truth = validate(task, parse_plan(record["ground_truth_plan"]))
        assert truth.valid, (record["instance_id"], truth.to_json())
        verdict = validate(task, parse_plan(record["extracted_llm_plan"])).valid
        assert verdict == (str(record["llm_correct"]) == "True"), record["instance_id"]
        correct += verdict
    assert correct == expected_correct
