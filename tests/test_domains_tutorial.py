"""The Gripper tutorial of docs/domains.md, through the public API and its data files only."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from planner_loop.domains import DomainRegistry, get_domain, load_domain
from planner_loop.experiment import parse_experiment
from planner_loop.generation import GenerationRequest, generate_problem_set
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.planning.search import solve
from planner_loop.planning.validator import validate
from planner_loop.runs import RunStore, run_experiment

GRIPPER = Path(__file__).resolve().parents[1] / "docs" / "examples" / "gripper"


def gripper_generator() -> Any:
    spec = importlib.util.spec_from_file_location("gripper_generator", GRIPPER / "generator.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module.GripperGenerator()


def test_the_data_file_is_under_30_lines() -> None:
    lines = [line for line in (GRIPPER / "domain.yaml").read_text().splitlines() if line.strip()]
    assert len(lines) < 30


def test_gripper_renders_extracts_generates_and_solves(tmp_path: Path) -> None:
    domain = load_domain(GRIPPER, generator=gripper_generator())
    domain.check()
    instances = generate_problem_set(domain.generator(), GenerationRequest(count=3, seed=1), tmp_path / "set")
    assert all(instance.optimal_length for instance in instances)
    task = domain.load_task(tmp_path / "set" / "instance-1.pddl")
    assert "the left gripper is free" in domain.render_state(task.init)
    plan = solve(task)
    assert plan is not None
    text = "Plan:\n" + "".join(f"{i}. {line}\n" for i, line in enumerate(domain.render_plan(plan).splitlines(), 1))
    extraction = domain.extract_plan(text, task)
    assert extraction.plan is not None and extraction.plan.to_pddl() == plan.to_pddl()
    assert validate(task, extraction.plan).valid
    paraphrase = domain.render_plan(plan).replace(" with the left gripper", " using the left gripper")
    reread = domain.extract_plan(paraphrase, task)
    assert reread.plan is not None and reread.plan.to_pddl() == plan.to_pddl() and reread.method == "keyword+nl"
    registry = DomainRegistry.default()
    registry.register(domain)
    assert registry.get("gripper") is domain
    assert get_domain(str(GRIPPER)).name == "gripper"  # a folder path works wherever a name does


def test_the_loop_runs_on_gripper(tmp_path: Path) -> None:
    domain = load_domain(GRIPPER)
    generate_problem_set(gripper_generator(), GenerationRequest(count=2, seed=3), tmp_path / "set")
    task = domain.load_task(tmp_path / "set" / "instance-1.pddl")
    plan = solve(task)
    assert plan is not None
    good, bad = domain.render_plan(plan), domain.render_plan(plan).splitlines()[-1]
    replies = iter([bad, good])

    def responder(request: Mapping[str, Any]) -> str:
        prompt = json.dumps(request["messages"])
        assert "the robot is in room a" in prompt  # the NL state comes from the tutorial's templates
        return next(replies)

    config = yaml.safe_load(f"""
name: gripper-tutorial
domain: {GRIPPER}
instances: {{set: {tmp_path / 'set'}, ids: [instance-1]}}
prompt: {{encoding: nl, shots: 1}}
generator: {{max_tokens: 200}}
conditions:
  - {{name: sound, system: llm+sound, feedback: first-error, max_rounds: 3}}
cache: {{mode: "off"}}
""")
    with FakeOpenAIServer(responder) as server:
        config["generator"]["model"] = f"openai:fake@{server.base_url}"
        asyncio.run(run_experiment(parse_experiment(config), tmp_path / "run"))
    (record,) = RunStore(tmp_path / "run").episodes()
    assert [r["ground_truth"]["valid"] for r in record["rounds"]] == [False, True]
    assert record["termination"] == "accepted" and record["final"]["valid"]


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
