"""``planbench rescore``: PlanBench's two result files, a synthetic file with every disagreement kind, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.shared_data import PLANBENCH

from planner_loop.domains import get_domain
from planner_loop.domains.planbench import find_domain_file, load_planbench_config, rescore
from planner_loop.planning.plan import Plan, PlanStep
from planner_loop.planning.validator import validate

SHARED = PLANBENCH
RESULTS = SHARED / "llm_planning_analysis" / "results" / "blocksworld"
INSTANCES = SHARED / "plan-bench" / "instances" / "blocksworld" / "generated_basic"
needs_planbench = pytest.mark.needs_planbench("llm_planning_analysis/results/blocksworld")
ENTRY = "from planner_loop.cli.main import run; run()"

PROBLEM = """(define (problem p{n}) (:domain blocksworld-4ops) (:objects a b c)
  (:init (clear a) (clear c) (handempty) (on a b) (ontable b) (ontable c))
  (:goal (and (on b c))))"""
GOOD = "unstack the red block from on top of the blue block\nput down the red block\npick up the blue block\nstack the blue block on top of the orange block"
GOOD_PDDL = "(unstack a b)\n(put-down a)\n(pick-up b)\n(stack b c)\n"


def cli(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *map(str, arguments)], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture()
def synthetic(tmp_path: Path) -> tuple[Path, Path]:
    """Five instances: agreement, PlanBench's extra prose steps, our parse failure, a wrong recorded verdict."""
    folder = tmp_path / "instances"
    folder.mkdir()
    for n in range(1, 6):
        (folder / f"instance-{n}.pddl").write_text(PROBLEM.format(n=n))
    (tmp_path / "generated_domain.pddl").write_text(get_domain("blocksworld").domain_file.read_text())
    entries = [
        (1, GOOD, GOOD_PDDL, "True"),
        (2, f"[PLAN]\n{GOOD}\n[PLAN END]\n1. Then stack the red block on it", GOOD_PDDL + "(stack a b)\n", "False"),
        (3, "I would stack them.", GOOD_PDDL, "True"),
        (4, GOOD, GOOD_PDDL, "False"),
        (5, "pick up the orange block", "(pick-up c)\n", False),
    ]
    results = tmp_path / "results.json"
    results.write_text(json.dumps({
        "task": "task_1_plan_generation", "engine": "synthetic", "domain": "blocksworld",
        "instances": [
            {"instance_id": n, "llm_raw_response": reply, "extracted_llm_plan": plan, "llm_correct": correct}
            for n, reply, plan, correct in entries
        ],
    }))
    return results, folder


def test_synthetic_disagreements_are_explained(synthetic: tuple[Path, Path]) -> None:
    results, folder = synthetic
    assert find_domain_file(folder) == folder.parent / "generated_domain.pddl"
    report = rescore(results, folder, domain=get_domain("blocksworld"))
    assert (report.total, report.ours_correct, report.recorded_correct) == (5, 3, 2)
    kinds = {d.instance_id: d.kind for d in report.disagreements}
    assert kinds == {2: "planbench-extraction", 3: "our-extraction", 4: "planbench-verdict"}
    assert "after [PLAN END]" in report.disagreements[0].reason
    assert report.parse_failures == (3,)
    assert report.agreement == pytest.approx(0.4)


def test_cli_json_and_text(synthetic: tuple[Path, Path]) -> None:
    results, folder = synthetic
    done = cli("planbench", "rescore", results, "--instances", folder, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"total", "ours_correct", "recorded_correct", "disagreements"} <= set(data)
    assert [d["instance_id"] for d in data["disagreements"]] == [2, 3, 4]
    assert {"instance_id", "ours", "recorded", "reason"} <= set(data["disagreements"][0])
    text = cli("planbench", "rescore", results, "--instances", folder, "--domain", "blocksworld")
    assert text.returncode == 0 and "instance 4: ours valid, recorded invalid - planbench-verdict" in text.stdout


def test_cli_user_errors_are_one_line(synthetic: tuple[Path, Path], tmp_path: Path) -> None:
    results, folder = synthetic
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for arguments in (
        (bad, "--instances", folder),
        (results, "--instances", tmp_path / "missing"),
        (results, "--instances", folder, "--domain", "blockworld"),
    ):
        done = cli("planbench", "rescore", *arguments)
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert "did you mean 'blocksworld'" in cli("planbench", "rescore", results, "--instances", folder, "--domain", "blockworld").stderr


def test_domains_list() -> None:
    done = cli("domains", "list", "--json")
    assert done.returncode == 0, done.stderr
    names = [row["name"] for row in json.loads(done.stdout)["domains"]]
    assert {"blocksworld", "logistics", "mystery_blocksworld"} <= set(names)


@needs_planbench
@pytest.mark.parametrize(
    ("name", "recorded"),
    [("claude-3-opus/task_1_plan_generation.json", 242), ("gpt-4o_chat/task_1_plan_generation_zero_shot.json", 160)],
)
def test_planbench_result_files(name: str, recorded: int) -> None:
    report = rescore(RESULTS / name, INSTANCES, domain=get_domain("blocksworld"))
    assert report.total == 500 and report.recorded_correct == recorded
    assert report.agreement >= 0.985
    for item in report.disagreements:
        # every disagreement found so far: PlanBench read prose after the plan as extra steps
        assert item.kind == "planbench-extraction" and item.ours and not item.recorded, item
        assert item.our_plan is not None


@needs_planbench
def test_whole_reply_reading_reproduces_planbench_scoring() -> None:
    # Read as PlanBench reads (every line, explanations after [PLAN END] included), the verdicts
    # agree on >= 99% of each file; the ones left are PlanBench reading a prose sentence as a step.
    claude, gpt4o = (rescore(RESULTS / name, INSTANCES, domain=get_domain("blocksworld"), whole_reply=True)
                     for name in ("claude-3-opus/task_1_plan_generation.json",
                                  "gpt-4o_chat/task_1_plan_generation_zero_shot.json"))
    assert claude.reading == gpt4o.reading == "whole-reply"
    assert gpt4o.agreement == 1.0 and gpt4o.ours_correct == 160
    assert claude.agreement >= 0.99
    assert {d.instance_id for d in claude.disagreements} == {117, 340}
    assert all(d.kind == "planbench-extraction" and d.ours for d in claude.disagreements)
    default = rescore(RESULTS / "claude-3-opus/task_1_plan_generation.json", INSTANCES,
                      domain=get_domain("blocksworld"))
    # the default reading stops at [PLAN END]: the five marked plans PlanBench over-read now agree
    assert {d.instance_id for d in default.disagreements} - {d.instance_id for d in claude.disagreements} \
        == {46, 124, 436, 445, 462}


@needs_planbench
def test_planbench_configs_load_as_domains() -> None:
    configs = SHARED / "plan-bench" / "configs"
    blocks = load_planbench_config(configs / "blocksworld.yaml")
    assert blocks.render_action(PlanStep("unstack", ("a", "b"))) == "unstack the red block from on top of the blue block"
    logistics = load_planbench_config(configs / "logistics.yaml")
    task = logistics.load_task(SHARED / "plan-bench" / "instances" / "logistics" / "generated_basic" / "instance-1.pddl")
    step = PlanStep("load-airplane", ("p0", "a1", "l1-0"))
    assert logistics.render_action(step) == "load package_0 into airplane_1 at location_1_0"
    extraction = logistics.extract_plan("fly airplane_0 from location_0_0 to location_1_0\nload package_0 into airplane_0 at location_1_0\n"
                                        "fly airplane_0 from location_1_0 to location_0_0\nunload package_0 from airplane_0 at location_0_0", task)
    assert extraction.plan is not None
    assert [s.name for s in extraction.plan.steps] == ["fly-airplane", "load-airplane", "fly-airplane", "unload-airplane"]
    assert validate(task, extraction.plan).valid
    mystery = load_planbench_config(configs / "mystery_blocksworld.yaml")
    assert mystery.render_action(PlanStep("feast", ("a", "b"))) == "feast object a from object b"
    assert Plan(()) is not None
