"""End-to-end: experiments through the real fake OpenAI server (real HTTP, real openai client).

Scripted generator: round 1 an inexecutable plan, round 2 no readable plan, round 3 a valid plan.
Every system and every feedback level is checked against what the loop must record.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from helpers.shared_data import PLANBENCH_INSTANCES
from helpers.loop_scripting import ScriptedReplies

from planner_loop.experiment import parse_experiment
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.runs import RunStore, run_experiment
from planner_loop.verifiers.val import find_validate

# problems/blocksworld/3-5/instance-1: a on d, c on b; goal (on a b) (on b e).
# Colours: a red, b blue, c orange, d yellow, e white.
BAD_NL = "pick up the blue block\npick up the red block\n[PLAN END]"
NONSENSE = "I am not sure how to do this."
GOOD_NL = ("unstack the orange block from on top of the blue block\nput down the orange block\n"
           "pick up the blue block\nstack the blue block on top of the white block\n"
           "unstack the red block from on top of the yellow block\nstack the red block on top of the blue block\n"
           "[PLAN END]")
BAD_PLAN_TEXT = "pick up the blue block\npick up the red block"
GOOD_PLAN_TEXT = GOOD_NL.removesuffix("\n[PLAN END]")


def config(spec: str, conditions: list[dict[str, Any]], tmp: Path, **extra: Any) -> Any:
    data: dict[str, Any] = {
        "name": "e2e",
        "instances": {"set": "blocksworld/3-5", "ids": ["instance-1"]},
        "prompt": {"encoding": "nl", "shots": 1},
        "generator": {"model": spec, "max_tokens": 200},
        "conditions": conditions,
        "seeds": [0],
        "concurrency": 3,
        "cache": {"mode": "read-write", "path": str(tmp / "cache.sqlite")},
    }
    data.update(extra)
    return parse_experiment(data)


def run(responder: ScriptedReplies, conditions: list[dict[str, Any]], tmp: Path, **extra: Any
        ) -> tuple[dict[str, dict[str, Any]], int]:
    with FakeOpenAIServer(responder) as server:
        cfg = config(f"openai:fake@{server.base_url}", conditions, tmp, **extra)
        asyncio.run(run_experiment(cfg, tmp / "run"))
        requests = server.requests
    records = {r["condition"]: r for r in RunStore(tmp / "run").episodes()}
    return records, requests


def verdicts(record: dict[str, Any]) -> list[Any]:
    return [r["verdict"]["valid"] for r in record["rounds"]]


def truths(record: dict[str, Any]) -> list[bool]:
    return [r["ground_truth"]["valid"] for r in record["rounds"]]


def test_sound_verifier_all_feedback_levels(tmp_path: Path) -> None:
    script = ScriptedReplies([BAD_NL, NONSENSE, GOOD_NL])
    conditions = [
        {"name": "only", "system": "llm-only"},
        {"name": "binary", "system": "llm+sound", "feedback": "binary"},
        {"name": "first", "system": "llm+sound", "feedback": "first-error"},
        {"name": "all", "system": "llm+sound", "feedback": "all-errors", "context": "conversation"},
        {"name": "short", "system": "llm+sound", "feedback": "first-error", "max_rounds": 2},
    ]
    records, _ = run(script, conditions, tmp_path)
    assert set(records) == {"only", "binary", "first", "all", "short"}

    only = records["only"]
    assert only["termination"] == "max_rounds" and len(only["rounds"]) == 1
    assert verdicts(only) == [None] and truths(only) == [False]
    assert only["final"] == {"round": 1, "valid": False, "accepted": False, "critic_valid": None}
    assert only["verifier"]["feedback"] == "none" and only["verifier"]["kind"] == "none"

    for name in ("binary", "first", "all"):
        record = records[name]
        assert record["termination"] == "accepted", name
        assert verdicts(record) == [False, False, True]
        assert truths(record) == [False, False, True]
        assert record["final"] == {"round": 3, "valid": True, "accepted": True, "critic_valid": True}
        first = record["rounds"][0]
        assert first["plan"] == ["(pick-up b)", "(pick-up a)"]
        assert first["ground_truth"]["failed_step"] == 1
        assert first["ground_truth"]["action"] == "(pick-up b)"
        assert first["ground_truth"]["unmet_preconditions"] == ["(clear b)"]
        second = record["rounds"][1]
        assert second["plan"] is None and second["parse_error"]
        assert second["ground_truth"]["errors"][0]["kind"] == "no-plan"
        assert "no plan" in second["verdict"]["feedback"]
        assert record["rounds"][2]["plan"][0] == "(unstack c b)"
        # the feedback of round k is what the generator reads in round k+1
        assert first["verdict"]["feedback"] in record["rounds"][1]["messages"][-1]["content"]

    assert records["binary"]["rounds"][0]["verdict"]["feedback"] == "The plan is not valid."
    first_error = records["first"]["rounds"][0]["verdict"]["feedback"]
    assert "Step 1 (pick up the blue block)" in first_error and "the blue block is clear" in first_error
    assert "Step 2" not in first_error
    all_errors = records["all"]["rounds"][0]["verdict"]["feedback"]
    assert "Step 1 (pick up the blue block)" in all_errors
    assert "Step 2 (pick up the red block)" in all_errors and "the red block is on the table" in all_errors
    assert "the red block is on top of the blue block" in all_errors   # unmet goal
    # conversation keeps every earlier reply; last keeps only the latest
    assert [m["content"] for m in records["all"]["rounds"][2]["messages"] if m["role"] == "assistant"] == [
        BAD_NL, NONSENSE]
    assert [m["content"] for m in records["first"]["rounds"][2]["messages"] if m["role"] == "assistant"] == [
        NONSENSE]
    assert records["first"]["context_policy"] == "last" and records["all"]["context_policy"] == "conversation"

    short = records["short"]
    assert short["termination"] == "max_rounds" and len(short["rounds"]) == 2
    assert short["final"] == {"round": 2, "valid": False, "accepted": False, "critic_valid": False}

    for record in records.values():
        assert record["instance"] == {"id": "instance-1", "set": "blocksworld/3-5",
                                      "problem": "problems/blocksworld/3-5/instance-1.pddl",
                                      "sizes": {"blocks": 5}, "solvable": None, "optimal_length": 6}
        assert record["prompt"]["example_ids"] == ["instance-2"]
        assert record["key"] == f"{record['condition']}/instance-1/seed0"
        assert all(len(r["call_ids"]) == 1 for r in record["rounds"])
        assert "[STATEMENT]" in record["rounds"][0]["messages"][1]["content"]


@pytest.mark.skipif(find_validate() is None, reason="VAL's Validate is not installed")
def test_val_verifier_drives_the_loop_like_the_sound_one(tmp_path: Path) -> None:
    script = ScriptedReplies([BAD_NL, NONSENSE, GOOD_NL])
    records, _ = run(script, [{"name": "val", "system": "llm+val", "feedback": "first-error"},
                              {"name": "sound", "system": "llm+sound", "feedback": "first-error"}], tmp_path)
    val, sound = records["val"], records["sound"]
    assert val["verifier"]["kind"] == "val" and val["termination"] == "accepted"
    assert verdicts(val) == verdicts(sound) == [False, False, True]
    assert truths(val) == truths(sound) == [False, False, True]
    assert [r["verdict"]["detail"].get("exit_code") for r in val["rounds"]] == [1, None, 0]   # round 2: no plan, VAL not run
    # VAL's repair advice, rendered like the sound verifier's first-error feedback
    assert "the blue block is clear" in val["rounds"][0]["verdict"]["feedback"]


def test_llm_critic_loop_and_false_positive(tmp_path: Path) -> None:
    critic = {BAD_PLAN_TEXT: "The blue block has the orange block on it.\nVerdict: invalid",
              NONSENSE: "Hard to say.",
              GOOD_PLAN_TEXT: "Every step checks out. Verdict: valid"}
    script = ScriptedReplies([BAD_NL, NONSENSE, GOOD_NL], critic)
    conditions = [
        {"name": "detailed", "system": "llm+llm", "critic_mode": "detailed", "context": "conversation"},
        {"name": "binary", "system": "llm+llm", "critic_mode": "binary"},
    ]
    records, requests = run(script, conditions, tmp_path)
    for name in ("detailed", "binary"):
        record = records[name]
        assert record["termination"] == "accepted"
        assert verdicts(record) == [False, None, True]          # None: unreadable, never guessed
        assert truths(record) == [False, False, True]
        assert record["final"] == {"round": 3, "valid": True, "accepted": True, "critic_valid": True}
        assert [r["verdict"]["detail"]["reading"] for r in record["rounds"]] == [
            "verdict-line", "unreadable", "verdict-line"]
        assert all(len(r["call_ids"]) == 2 for r in record["rounds"])
        assert record["verifier"]["kind"] == "llm"
    detailed = records["detailed"]["rounds"][0]["verdict"]["feedback"]
    assert "orange block on it" in detailed
    assert records["binary"]["rounds"][0]["verdict"]["feedback"] == "The plan is not valid."
    assert records["binary"]["verifier"]["feedback"] == "binary"
    assert records["detailed"]["verifier"]["critic_mode"] == "detailed"
    assert "orange block on it" in records["detailed"]["rounds"][1]["messages"][-1]["content"]
    # 2 conditions x 3 rounds x (generator + critic), less the shared identical first generator prompt
    assert requests == 2 * 6 - 1
    roles = [json.loads(line)["role"] for line in (tmp_path / "run" / "calls.jsonl").read_text().splitlines()]
    assert roles.count("critic") == 6 and roles.count("generator") >= 5

    # a critic that accepts the broken plan: the loop stops, ground truth disagrees
    fooled = ScriptedReplies([BAD_NL, NONSENSE, GOOD_NL], critic_default="Looks right.\nVerdict: valid")
    records, _ = run(fooled, [{"name": "fp", "system": "llm+llm"}], tmp_path / "fp")
    fp = records["fp"]
    assert fp["termination"] == "accepted" and len(fp["rounds"]) == 1
    assert fp["final"] == {"round": 1, "valid": False, "accepted": True, "critic_valid": True}


def test_voting_stepwise_fewshot_reference_critic(tmp_path: Path) -> None:
    def critic(plan: str, vote: int) -> str:
        if plan == GOOD_PLAN_TEXT:
            return json.dumps({"valid": True, "feedback": ""})
        return "Verdict: valid" if vote == 0 else f"Vote {vote}: step 1 fails.\nVerdict: invalid"

    script = ScriptedReplies([BAD_NL, GOOD_NL], critic)
    conditions = [{"name": "vote", "system": "llm+llm", "votes": 3, "stepwise": True, "critic_shots": 1,
                   "reference_guided": True}]
    records, requests = run(script, conditions, tmp_path)
    record = records["vote"]
    assert record["termination"] == "accepted" and verdicts(record) == [False, True]
    first = record["rounds"][0]["verdict"]
    assert first["detail"]["tally"] == {"valid": 1, "invalid": 2, "unreadable": 0}
    assert [v["valid"] for v in first["detail"]["votes"]] == [True, False, False]
    assert "step 1 fails" in first["feedback"]
    assert record["rounds"][1]["verdict"]["detail"]["votes"][0]["reading"] == "json"
    assert len(record["rounds"][0]["call_ids"]) == 4 and requests == 8
    assert record["verifier"] == {"kind": "llm", "feedback": "first-error", "critic_model": record["generator_model"],
                                  "critic_mode": "detailed", "stepwise": True, "votes": 3}
    prompt = script.critic_requests[0]["messages"][-1]["content"]
    assert "resulting" in prompt or "results from the action" in prompt          # step-wise instruction
    assert "Example 1" in prompt and "Example 2" in prompt and "Verdict: invalid" in prompt  # judged demos
    assert "known to solve the problem" in prompt                                # reference plan
    seeds = sorted(int(r["seed"]) for r in script.critic_requests[:3])
    assert seeds == [0, 1, 2]
    assert all(r["temperature"] > 0 for r in script.critic_requests)


def test_pddl_encoding_end_to_end(tmp_path: Path) -> None:
    bad = "(pick-up b)\n(stack b e)"
    good = "(unstack c b)\n(put-down c)\n(pick-up b)\n(stack b e)\n(unstack a d)\n(stack a b)"
    script = ScriptedReplies([bad, good])
    records, _ = run(script, [{"name": "sound", "system": "llm+sound", "feedback": "first-error"}], tmp_path,
                     prompt={"encoding": "pddl", "shots": 0})
    record = records["sound"]
    assert record["termination"] == "accepted" and truths(record) == [False, True]
    assert record["rounds"][0]["verdict"]["feedback"] == (
        "The plan is not valid.\nStep 1 (pick-up b) is not applicable; unsatisfied preconditions: (clear b).")
    assert "(define (problem" in record["rounds"][0]["messages"][1]["content"]
    assert record["prompt"] == {"encoding": "pddl", "shots": 0, "example_rule": "next-by-id",
                                "example_ids": [], "constrained": False}


def test_unreachable_endpoint_stops_with_model_error(tmp_path: Path) -> None:
    from planner_loop.errors import ModelError

    with FakeOpenAIServer(ScriptedReplies([BAD_NL])) as server:
        url = server.base_url
    cfg = config(f"openai:fake@{url}", [{"name": "only", "system": "llm-only"}], tmp_path,
                 generator={"model": f"openai:fake@{url}", "timeout_s": 2})
    with pytest.raises(ModelError):
        asyncio.run(run_experiment(cfg, tmp_path / "run"))
    assert RunStore(tmp_path / "run").episodes() == []


def test_critic_sees_malformed_steps_as_written(tmp_path: Path) -> None:
    # a wrong-arity step cannot be phrased in words; the critic is shown it in PDDL, the validator rejects it
    script = ScriptedReplies(["(unstack b)\n(pick-up a)", GOOD_NL],
                             {GOOD_PLAN_TEXT: "Verdict: valid"}, critic_default="Verdict: valid")
    records, _ = run(script, [{"name": "c", "system": "llm+llm"}], tmp_path)
    record = records["c"]
    assert record["rounds"][0]["plan"] == ["(unstack b)", "(pick-up a)"]
    assert record["rounds"][0]["ground_truth"]["errors"][0]["kind"] == "arity"
    assert record["final"] == {"round": 1, "valid": False, "accepted": True, "critic_valid": True}
    prompt = script.critic_requests[0]["messages"][-1]["content"]
    assert "[PLAN]\n(unstack b)\npick up the red block\n[PLAN END]" in prompt


PLANBENCH = PLANBENCH_INSTANCES / "blocksworld"


@pytest.mark.needs_planbench("plan-bench/instances/blocksworld/generated_basic")
def test_planbench_folder_runs_with_planner_lengths(tmp_path: Path) -> None:
    script = ScriptedReplies(["pick up the red block\n[PLAN END]"])
    records, _ = run(script, [{"name": "only", "system": "llm-only"}], tmp_path,
                     instances={"set": str(PLANBENCH / "generated_basic"), "limit": 1})
    instance = records["only"]["instance"]
    assert instance["id"] == "instance-1" and instance["set"] == str(PLANBENCH / "generated_basic")
    assert instance["problem"].endswith("generated_basic/instance-1.pddl")
    assert instance["sizes"] == {"objects": 4} and isinstance(instance["optimal_length"], int)
    assert records["only"]["rounds"][0]["plan"] == ["(pick-up a)"]
