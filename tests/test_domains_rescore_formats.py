"""``planbench rescore`` on every PlanBench result format, synthetic and (when present) the shared files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planner_loop.domains import get_domain
from planner_loop.domains.planbench_formats import load_result_file, planbench_key, planner_domain
from planner_loop.domains.planbench_leaderboard import build_leaderboard, write_leaderboard
from planner_loop.domains.planbench_rescore import rescore
from planner_loop.errors import ConfigError
from planner_loop.verifiers.verdict_reader import read_verdict

SHARED = Path(__file__).resolve().parents[2] / "shared" / "planbench"
ENTRY = "from planner_loop.cli.main import run; run()"
PROBLEM = """(define (problem p{n}) (:domain blocksworld-4ops) (:objects a b c)
  (:init (clear a) (clear c) (handempty) (on a b) (ontable b) (ontable c))
  (:goal (and (on b c))))"""
GOOD = "unstack the red block from on top of the blue block\nput down the red block\npick up the blue block\nstack the blue block on top of the orange block"
GOOD_PDDL = ["(unstack a b)", "(put-down a)", "(pick-up b)", "(stack b c)"]
BAD = "pick up the blue block"


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    folder = tmp_path / "instances" / "blocksworld" / "generated_basic"
    folder.mkdir(parents=True)
    for n in range(1, 4):
        (folder / f"instance-{n}.pddl").write_text(PROBLEM.format(n=n))
    (folder.parent / "generated_domain.pddl").write_text(get_domain("blocksworld").domain_file.read_text())
    return tmp_path


def write(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_older_format_and_planbench_domain_names(tree: Path) -> None:
    results = write(tree / "results" / "old.json", {"task": "t1", "domain": "blocksworld_zero_shot", "instances": [
        {"instance_id": 1, "llm_raw_response": GOOD, "extracted_llm_plan": GOOD_PDDL, "correct": "True"},
        {"instance_id": 2, "llm_raw_response": BAD, "extracted_llm_plan": ["(pick-up b)"], "correct": False}]})
    report = rescore(results, tree, domain=get_domain(planner_domain("blocksworld_zero_shot")))
    assert (report.total, report.ours_correct, report.recorded_correct, report.agreement) == (2, 1, 1, 1.0)
    assert planner_domain("blocksworld_3") == "blocksworld" and planner_domain("mystery_blocksworld") == "mystery_blocksworld"
    assert planner_domain("logistics/generated_basic") == "logistics"
    with pytest.raises(ConfigError, match="no planner-loop domain"):
        planner_domain("obfuscated_deceptive_logistics")


def test_backprompting_messages_count_rounds(tree: Path) -> None:
    query = "[STATEMENT] ... [PLAN]"
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": query},
                {"role": "assistant", "content": None}, {"role": "user", "content": query},  # a failed call, re-sent
                {"role": "assistant", "content": BAD},
                {"role": "user", "content": "The above plan is invalid. This is the unmet goal condition:\nthe blue block is on top of the orange block"},
                {"role": "assistant", "content": "I cannot reach the goal."},
                {"role": "user", "content": "The above plan is invalid. This is the unmet goal condition: ..."},
                {"role": "assistant", "content": "[PLAN]\n" + GOOD + "\n[PLAN END]"}]
    results = write(tree / "results" / "bp.json", {"domain": "blocksworld", "instances": [
        {"instance_id": 1, "messages": messages, "steps": 3, "correct": True, "extracted_llm_plan": "\n".join(GOOD_PDDL)}]})
    data = load_result_file(results)
    assert [(r.round, r.recorded) for r in data.replies] == [(1, False), (2, False), (3, True)]
    report = rescore(results, tree, domain=get_domain("blocksworld"))
    assert (report.total, report.ours_correct, report.recorded_correct, report.agreement) == (3, 1, 1, 1.0)
    assert report.kind == "backprompting"


def test_stepwise_backprompting_and_its_instance_set(tree: Path) -> None:
    hard = tree / "instances" / "blocksworld_hard" / "generated"
    hard.mkdir(parents=True)
    (hard / "instance-1.pddl").write_text(PROBLEM.format(n=1))
    (hard.parent / "generated_domain.pddl").write_text(get_domain("blocksworld").domain_file.read_text())
    rounds = {str(i): {"response_object": {"choices": [{"message": {"content": reply}}]}, "llm_plan": plan,
                       "sound_verifier_json": {"validation_info": {"is_valid_plan": valid}}}
              for i, (reply, plan, valid) in enumerate([("```\n(pick-up b)\n```", "(pick-up b)", False),
                                                         ("\n".join(GOOD_PDDL), "\n".join(GOOD_PDDL), True)])}
    results = write(tree / "results_backprompting" / "blocksworld_hard" / "m" / "f.json",
                    {"domain": "blocksworld_new", "instances": [{"instance_id": 1, "step_wise_dict": rounds, "messages": []}]})
    assert planbench_key("blocksworld_new", results) == "blocksworld_hard"
    report = rescore(results, tree, domain=get_domain("blocksworld"))
    assert (report.total, report.ours_correct, report.agreement) == (2, 1, 1.0)
    assert report.blocks == {"fenced": 1, "pddl": 1}


def test_task3_verdicts_against_the_plan_in_the_prompt(tree: Path) -> None:
    def entry(n: int, plan: str, reply: str, reading: bool, truth: bool) -> dict:
        return {"instance_id": n, "query": f"[STATEMENT] ...\n[PLAN]\n{plan}\n[PLAN END]\n\n[VERIFICATION]",
                "llm_raw_response": reply, "extracted_llm_plan": {"valid": reading},
                "parsed_ground_truth_plan": {"valid": truth}, "llm_correct_binary": reading == truth}
    results = write(tree / "results" / "t3.json", {"task": "task_3_plan_verification", "domain": "blocksworld", "instances": [
        entry(1, GOOD, "The above plan is valid.", True, True),
        entry(2, BAD, "The above plan is invalid. This is the unmet goal condition: ...", False, False),
        entry(3, BAD, "The above plan is invalid.\n[STATEMENT]\n...\n[VERIFICATION]\nThe above plan is valid.", False, False),
        entry(2, BAD, "The plan is valid.", False, False)]})  # PlanBench misread this judgement
    with pytest.raises(ConfigError, match="verdict reader"):
        rescore(results, tree, domain=get_domain("blocksworld"))
    report = rescore(results, tree, domain=get_domain("blocksworld"), read_verdict=read_verdict)
    assert (report.total, report.ours_correct, report.recorded_correct) == (4, 3, 4)
    assert [d.kind for d in report.disagreements] == ["planbench-verdict-reading"]


def test_leaderboard_writes_three_tables(tree: Path) -> None:
    write(tree / "results" / "blocksworld" / "m1" / "task_1_plan_generation.json", {
        "domain": "blocksworld", "engine": "m1", "prompt_type": "oneshot", "instances": [
            {"instance_id": n, "llm_raw_response": GOOD, "extracted_llm_plan": "\n".join(GOOD_PDDL), "llm_correct": True}
            for n in (1, 2, 3)]})
    write(tree / "results" / "junk.json", {"nothing": []})
    table = build_leaderboard(tree / "results", tree, read_verdict=read_verdict)
    assert len(table.rows) == 1 and len(table.skipped) == 1
    row = table.rows[0]
    assert (row.model, row.n, row.planbench, row.ours, row.agreement) == ("m1", 3, 3, 3, 1.0)
    assert row.interval is not None and 0.4 < row.interval[0] < 1.0 == pytest.approx(row.interval[1])
    paths = write_leaderboard(table, tree / "out")
    assert {p.suffix for p in paths} == {".md", ".csv", ".tex"}
    assert "| m1 | blocksworld |" in (tree / "out" / "leaderboard.md").read_text()
    done = subprocess.run([sys.executable, "-c", ENTRY, "planbench", "leaderboard", tree / "results", "--instances", tree,
                           "--out", tree / "cli", "--no-progress"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert (tree / "cli" / "leaderboard.csv").read_text().count("\n") == 2




@pytest.mark.skipif(not SHARED.is_dir(), reason="PlanBench files are not beside the checkout")
@pytest.mark.slow
def test_every_shared_result_file_agrees() -> None:
    files = [p for p in SHARED.rglob("*.json") if any(part.startswith("results") for part in p.parts)]
    assert len(files) == 11
    total = disagreements = 0
    for path in files:
        data = load_result_file(path)
        report = rescore(path, SHARED, domain=get_domain(planner_domain(data.domain, path)), read_verdict=read_verdict)
        total += report.total
        disagreements += len(report.disagreements)
        assert report.agreement_where_planbench_reads_right == 1.0, (path, report.disagreements)
        assert all(d.kind.startswith("planbench-") for d in report.disagreements)
    assert (total - disagreements) / total >= 0.99
