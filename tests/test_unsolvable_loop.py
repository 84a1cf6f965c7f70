"""Unsolvable instances end to end, through the fake OpenAI server.

A mixed set (two instances of ``blocksworld/unsolvable``, one of ``blocksworld/3-5``) is run with a
generator that always answers "NO PLAN EXISTS" and with one that always writes a plan. Ground truth
must score the claim correct exactly on the unsolvable instances; the sound verifier must accept the
claim there and reject it elsewhere, and reject every plan on an unsolvable instance saying that the
goal cannot be reached; the critic must be asked about the claim; the report keeps the two apart.
"""

from __future__ import annotations

import asyncio
import csv
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from helpers.loop_scripting import CRITIC_MARK

from planner_loop.analysis.metrics import all_tables
from planner_loop.analysis.records import load_runs
from planner_loop.analysis.report import write_report
from planner_loop.experiment import parse_experiment
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.loop import score_round
from planner_loop.planning.plan import parse_plan
from planner_loop.planning.task import load_task
from planner_loop.resources import builtin_dir
from planner_loop.runs import RunStore, run_experiment

PROBLEMS = builtin_dir("problems") / "blocksworld"
DOMAIN = builtin_dir("domains") / "blocksworld" / "domain.pddl"
CLAIM = "NO PLAN EXISTS"
A_PLAN = "pick up the red block\n[PLAN END]"
CLAIM_TEXT = "The planner answered that no plan can reach the goal"


def mixed_set(folder: Path) -> Path:
    """u-1, u-2 from the unsolvable set (solvable: false), s-1 from 3-5 (solvable: true)."""
    folder.mkdir()
    rows = []
    for ident, source, solvable in (("u-1", "unsolvable/instance-1", False), ("u-2", "unsolvable/instance-2", False),
                                    ("s-1", "3-5/instance-1", True)):
        shutil.copy(PROBLEMS / f"{source}.pddl", folder / f"{ident}.pddl")
        rows.append(json.dumps({"id": ident, "file": f"{ident}.pddl", "domain": "blocksworld", "blocks": 5,
                                "solvable": solvable}))
    (folder / "manifest.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


class Replies:
    """The generator always gives ``answer``; the critic always says ``verdict``."""

    def __init__(self, answer: str, verdict: str = "Verdict: valid") -> None:
        self.answer = answer
        self.verdict = verdict
        self.generator_prompts: list[str] = []
        self.critic_prompts: list[str] = []

    def __call__(self, request: Mapping[str, Any]) -> str:
        messages = request["messages"]
        if CRITIC_MARK in messages[0]["content"]:
            self.critic_prompts.append(messages[-1]["content"])
            return self.verdict
        self.generator_prompts.append(messages[1]["content"])
        return self.answer


CONDITIONS = [
    {"name": "only", "system": "llm-only"},
    {"name": "critic", "system": "llm+llm", "max_rounds": 2},
    {"name": "sound", "system": "llm+sound", "feedback": "first-error", "max_rounds": 2},
    {"name": "binary", "system": "llm+sound", "feedback": "binary", "max_rounds": 2},
]


def run(replies: Replies, instance_set: str, run_dir: Path, **prompt: Any) -> dict[str, dict[str, Any]]:
    with FakeOpenAIServer(replies) as server:
        config = parse_experiment({
            "name": "unsolvable", "instances": {"set": instance_set}, "prompt": {"shots": 0, **prompt},
            "generator": {"model": f"openai:fake@{server.base_url}", "max_tokens": 64},
            "conditions": CONDITIONS, "cache": {"mode": "off"}, "concurrency": 2,
        })
        asyncio.run(run_experiment(config, run_dir))
    return {r["key"]: r for r in RunStore(run_dir).episodes()}


@pytest.fixture(scope="module")
def claim_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]], Replies]:
    tmp = tmp_path_factory.mktemp("claim")
    replies = Replies(CLAIM)
    return tmp / "run", run(replies, str(mixed_set(tmp / "mixed")), tmp / "run"), replies


def test_score_round_both_ways() -> None:
    unsolvable = load_task(DOMAIN, PROBLEMS / "unsolvable" / "instance-1.pddl")
    solvable = load_task(DOMAIN, PROBLEMS / "3-5" / "instance-1.pddl")
    assert score_round(unsolvable, None, "claim", solvable=False, no_plan_claim=True).valid
    wrong = score_round(solvable, None, "claim", solvable=True, no_plan_claim=True)
    assert not wrong.valid and "no-plan-claim" in [e.kind for e in wrong.errors]
    assert not score_round(solvable, None, "claim", solvable=None, no_plan_claim=True).valid
    plan = score_round(unsolvable, parse_plan("(pick-up a)"), None, solvable=False)
    assert not plan.valid


def test_no_plan_claim_is_right_exactly_on_unsolvable_instances(claim_run: Any) -> None:
    _, records, _ = claim_run
    for key, record in records.items():
        unsolvable = record["instance"]["solvable"] is False
        assert record["rounds"][0]["extraction"]["no_plan_claim"] is True, key
        assert record["rounds"][0]["plan"] is None
        assert record["final"]["valid"] is unsolvable, key
    assert {k for k, r in records.items() if r["instance"]["solvable"] is True} == {
        f"{c['name']}/s-1/seed0" for c in CONDITIONS}


def test_sound_verifier_accepts_a_right_claim_and_rejects_a_wrong_one(claim_run: Any) -> None:
    _, records, _ = claim_run
    for name in ("sound", "binary"):
        right = records[f"{name}/u-1/seed0"]
        assert right["termination"] == "accepted" and len(right["rounds"]) == 1
        assert right["rounds"][0]["verdict"]["valid"] is True
        wrong = records[f"{name}/s-1/seed0"]
        assert wrong["termination"] == "max_rounds" and len(wrong["rounds"]) == 2
        assert [r["verdict"]["valid"] for r in wrong["rounds"]] == [False, False]
        feedback = wrong["rounds"][0]["verdict"]["feedback"]
        assert "the answer that no plan exists is wrong" in feedback
        # round 2's prompt hands that feedback back
        assert feedback in wrong["rounds"][1]["messages"][-1]["content"]


def test_critic_is_asked_to_judge_the_claim(claim_run: Any) -> None:
    _, records, replies = claim_run
    assert len(replies.critic_prompts) == 3   # the critic, scripted to agree, accepts at once on u-1, u-2, s-1
    assert all(CLAIM_TEXT in prompt and f"[PLAN]\n{CLAIM}\n[PLAN END]" in prompt for prompt in replies.critic_prompts)
    assert all("Is this plan valid?" not in prompt for prompt in replies.critic_prompts)
    # the critic (scripted to agree) accepts the wrong claim on the solvable instance: an unsound acceptance
    wrong = records["critic/s-1/seed0"]
    assert wrong["final"] == {"round": 1, "valid": False, "accepted": True, "critic_valid": True}


def test_prompt_offers_the_no_plan_answer_on_a_set_with_unsolvable_instances(
        claim_run: Any, tmp_path: Path) -> None:
    _, _, replies = claim_run
    assert all(CLAIM in prompt for prompt in replies.generator_prompts)
    solvable_only = Replies(A_PLAN)
    with FakeOpenAIServer(solvable_only) as server:
        config = parse_experiment({
            "name": "solvable", "instances": {"set": "blocksworld/3-5", "limit": 1},
            "generator": {"model": f"openai:fake@{server.base_url}", "max_tokens": 64},
            "conditions": [{"name": "only", "system": "llm-only"}], "cache": {"mode": "off"}})
        asyncio.run(run_experiment(config, tmp_path / "solvable"))
    assert solvable_only.generator_prompts and all(CLAIM not in p for p in solvable_only.generator_prompts)


def test_a_plan_on_an_unsolvable_instance_is_wrong_and_told_unreachable(tmp_path: Path) -> None:
    records = run(Replies(A_PLAN, verdict="Verdict: invalid"), str(mixed_set(tmp_path / "mixed")), tmp_path / "run")
    for ident in ("u-1", "u-2"):
        for condition in CONDITIONS:
            record = records[f"{condition['name']}/{ident}/seed0"]
            assert record["rounds"][0]["plan"] == ["(pick-up a)"]
            assert all(r["ground_truth"]["valid"] is False for r in record["rounds"])
            assert record["final"]["valid"] is False
        sound = records[f"sound/{ident}/seed0"]["rounds"][0]["verdict"]
        assert sound["valid"] is False
        assert "No sequence of actions can reach this goal from the initial state." in sound["feedback"]
        assert sound["feedback"].startswith("The plan is not valid.")
        binary = records[f"binary/{ident}/seed0"]["rounds"][0]["verdict"]
        assert binary == {**binary, "valid": False, "feedback": "The plan is not valid."}
    solvable = records["sound/s-1/seed0"]["rounds"][0]["verdict"]["feedback"]
    assert "No sequence of actions" not in solvable and "Step 1" in solvable


def test_tables_report_solvable_and_unsolvable_apart(claim_run: Any, tmp_path: Path) -> None:
    run_dir, _, _ = claim_run
    tables = {t.name: t for t in all_tables(load_runs([run_dir]))}
    split = tables["by_solvable"]
    rows = {(row[0], row[1]): row for row in split.rows}
    names = [c.name for c in split.columns]
    n, correct = names.index("n"), names.index("correct")
    for condition in CONDITIONS:
        assert (rows[(condition["name"], "unsolvable")][n], rows[(condition["name"], "unsolvable")][correct]) == (2, 2)
        assert (rows[(condition["name"], "solvable")][n], rows[(condition["name"], "solvable")][correct]) == (1, 0)
    assert not any(label == "not recorded" for _, label in rows)
    report = write_report([run_dir], tmp_path / "report")
    with (tmp_path / "report" / "tables" / "by_solvable.csv").open(encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert {(r["condition"], r["instances"], r["correct"]) for r in written} >= {("only", "unsolvable", "2"),
                                                                                  ("only", "solvable", "0")}
    assert "Accuracy on solvable and unsolvable instances" in Path(report.markdown).read_text(encoding="utf-8")


def test_tables_of_a_run_without_unsolvable_instances_have_no_split(tmp_path: Path) -> None:
    replies = Replies(A_PLAN)
    with FakeOpenAIServer(replies) as server:
        config = parse_experiment({
            "name": "solvable", "instances": {"set": "blocksworld/3-5", "limit": 1}, "prompt": {"shots": 0},
            "generator": {"model": f"openai:fake@{server.base_url}", "max_tokens": 64},
            "conditions": [{"name": "only", "system": "llm-only"}], "cache": {"mode": "off"}})
        asyncio.run(run_experiment(config, tmp_path / "run"))
    assert "by_solvable" not in {t.name for t in all_tables(load_runs([tmp_path / "run"]))}
