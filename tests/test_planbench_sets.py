"""PlanBench's instance folders run as instance sets (two episodes each, through the fake server).

Without a ``manifest.jsonl`` the labels PlanBench keeps beside a folder are used: the unsolvable set's
``unsolvable_blocksworld_all_labels.json`` marks its instances ``solvable: false`` (so the prompt offers
"NO PLAN EXISTS" and that answer scores correct), the hard set's ``info.json`` gives optimal lengths.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from helpers.shared_data import PLANBENCH

from planner_loop.experiment import InstancesConfig, load_instance_pool, parse_experiment
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.runs import RunStore, run_experiment

ANALYSIS = PLANBENCH / "llm_planning_analysis" / "instances"
HARD = ANALYSIS / "blocksworld_hard" / "generated"
UNSOLVABLE = ANALYSIS / "unsolvable_blocksworld" / "generated_basic"
BASIC = PLANBENCH / "plan-bench" / "instances" / "blocksworld" / "generated_basic"
CLAIM = "NO PLAN EXISTS"


def hard_plan(name: str) -> str:
    return str(json.loads((HARD.parent / "info.json").read_text())[f"{name}.pddl"]["plan"])


class Replies:
    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.prompts: list[str] = []

    def __call__(self, request: Mapping[str, Any]) -> str:
        self.prompts.append(request["messages"][1]["content"])
        return self.answer


def run(folder: Path, answer: str, run_dir: Path) -> tuple[list[dict[str, Any]], Replies]:
    replies = Replies(answer)
    with FakeOpenAIServer(replies) as server:
        config = parse_experiment({
            "name": "planbench", "instances": {"set": str(folder), "limit": 2},
            "prompt": {"shots": 0, "encoding": "pddl"},
            "generator": {"model": f"openai:fake@{server.base_url}", "max_tokens": 400},
            "conditions": [{"name": "sound", "system": "llm+sound", "max_rounds": 1}], "cache": {"mode": "off"}})
        asyncio.run(run_experiment(config, run_dir))
    return sorted(RunStore(run_dir).episodes(), key=lambda r: r["key"]), replies


@pytest.mark.needs_planbench("llm_planning_analysis/instances/unsolvable_blocksworld/generated_basic")
def test_unsolvable_folder_is_labelled_and_scored(tmp_path: Path) -> None:
    pool = load_instance_pool(InstancesConfig(set=str(UNSOLVABLE)))
    labels = json.loads((UNSOLVABLE.parent / "unsolvable_blocksworld_all_labels.json").read_text())
    assert {inst.id for inst in pool if inst.solvable is False} == {f"instance-{key}" for key in labels}
    records, replies = run(UNSOLVABLE, CLAIM, tmp_path / "run")
    assert [r["instance"]["id"] for r in records] == ["instance-0", "instance-1"]
    assert all(CLAIM in prompt for prompt in replies.prompts)
    for record in records:
        assert record["instance"]["solvable"] is False
        assert record["final"] == {"round": 1, "valid": True, "accepted": True, "critic_valid": True}


@pytest.mark.needs_planbench("llm_planning_analysis/instances/blocksworld_hard")
def test_hard_folder_runs_with_its_optimal_lengths(tmp_path: Path) -> None:
    records, replies = run(HARD, hard_plan("instance-1"), tmp_path / "run")
    assert [r["instance"]["id"] for r in records] == ["instance-1", "instance-2"]
    info = json.loads((HARD.parent / "info.json").read_text())
    for record in records:
        name = record["instance"]["id"]
        assert record["instance"]["optimal_length"] == info[f"{name}.pddl"]["length"]
        assert record["instance"]["solvable"] is None
    assert records[0]["final"]["valid"] is True and len(records[0]["rounds"][0]["plan"]) == 20
    assert records[1]["final"]["valid"] is False
    assert all(CLAIM not in prompt for prompt in replies.prompts)


@pytest.mark.needs_planbench("plan-bench/instances/blocksworld/generated_basic")
def test_basic_folder_runs_and_a_no_plan_claim_there_is_wrong(tmp_path: Path) -> None:
    records, replies = run(BASIC, CLAIM, tmp_path / "run")
    assert [r["instance"]["id"] for r in records] == ["instance-1", "instance-2"]
    assert all(CLAIM not in prompt for prompt in replies.prompts)
    for record in records:
        assert record["instance"]["solvable"] is None and record["instance"]["optimal_length"]
        assert record["rounds"][0]["extraction"]["no_plan_claim"] is True
        assert record["final"]["valid"] is False and record["rounds"][0]["verdict"]["valid"] is False
        assert "no plan exists is wrong" in record["rounds"][0]["verdict"]["feedback"]
