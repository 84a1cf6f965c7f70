"""Randomized Mystery per run seed (``domain: randomized_mystery:blocksworld``), through the fake server.

Each seed draws its own renaming, written into the run directory and named by the episode's
``instance.problem``; the same seed gives the same names (and bytes) in another run, two seeds give
different names, and a plan written in a seed's names is scored valid on that seed's episode.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from planner_loop.domains import get_domain
from planner_loop.domains.obfuscation import randomized_renaming
from planner_loop.errors import ConfigError
from planner_loop.experiment import parse_experiment
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.orchestration import plan_run
from planner_loop.run_mystery import FOLDER, renaming_digest
from planner_loop.runs import RunStore, run_experiment

# problems/blocksworld/3-5/instance-1: an optimal plan in Blocks World's names
PLAN = (("unstack", "c", "b"), ("put-down", "c"), ("pick-up", "b"), ("stack", "b", "e"), ("unstack", "a", "d"),
        ("stack", "a", "b"))
BLOCKSWORLD_ACTIONS = ("pick-up", "put-down", "unstack", "stack")


def renamed_plan(seed: int) -> str:
    actions = randomized_renaming(get_domain("blocksworld"), seed).actions
    return "\n".join(f"({actions[name]} {' '.join(args)})" for name, *args in PLAN)


class Replies:
    """Replies with the plan in the names of the request's seed (the episode's seed)."""

    def __init__(self) -> None:
        self.prompts: dict[int, str] = {}

    def __call__(self, request: Mapping[str, Any]) -> str:
        seed = int(request["seed"])
        self.prompts[seed] = request["messages"][1]["content"]
        return renamed_plan(seed)


def config(spec: str, seeds: list[int], **extra: Any) -> Any:
    return parse_experiment({
        "name": "randomized", "domain": "randomized_mystery:blocksworld",
        "instances": {"set": "blocksworld/3-5", "ids": ["instance-1", "instance-2"]},
        "prompt": {"shots": 1, "encoding": "pddl"}, "generator": {"model": spec, "max_tokens": 200},
        "conditions": [{"name": "sound", "system": "llm+sound", "max_rounds": 2}], "seeds": seeds, "cache": {"mode": "off"},
        **extra})


def run(run_dir: Path, seeds: list[int]) -> tuple[dict[str, dict[str, Any]], Replies]:
    replies = Replies()
    with FakeOpenAIServer(replies) as server:
        asyncio.run(run_experiment(config(f"openai:fake@{server.base_url}", seeds), run_dir))
    return {r["key"]: r for r in RunStore(run_dir).episodes()}, replies


@pytest.fixture(scope="module")
def two_seeds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]], Replies]:
    run_dir = tmp_path_factory.mktemp("mystery") / "run"
    records, replies = run(run_dir, [0, 1])
    return run_dir, records, replies


def test_each_seed_has_its_own_names(two_seeds: Any) -> None:
    run_dir, records, replies = two_seeds
    folders = sorted(p.name for p in (run_dir / FOLDER).iterdir())
    assert [f.split("-")[1] for f in folders] == ["0", "1"]
    names = [json.loads((run_dir / FOLDER / f / "renaming.json").read_text()) for f in folders]
    assert [n["run_seed"] for n in names] == [0, 1]
    zero, one = (set(n["actions"].values()) for n in names)
    assert len(zero) == len(one) == 4 and not zero & one
    for seed, folder in zip((0, 1), folders, strict=True):
        record = records[f"sound/instance-1/seed{seed}"]
        assert record["instance"]["problem"] == f"{FOLDER}/{folder}/instance-1.pddl"
        assert record["instance"]["set"] == "blocksworld/3-5"
        assert folder.endswith(renaming_digest(randomized_renaming(get_domain("blocksworld"), seed)))
        # the prompt speaks the seed's names, never Blocks World's
        prompt = replies.prompts[seed]
        assert all(name in prompt for name in names[seed]["actions"].values())
        assert not any(f"({name} " in prompt or f":action {name}" in prompt for name in BLOCKSWORLD_ACTIONS)
        assert record["rounds"][0]["plan"] == renamed_plan(seed).splitlines()
        assert record["final"]["valid"] is True and record["termination"] == "accepted"
    # seed 1's plan is not a plan of seed 0's domain
    assert renamed_plan(0) != renamed_plan(1)


def test_a_plan_in_another_seeds_names_is_not_read(two_seeds: Any) -> None:
    _, records, _ = two_seeds
    second = records["sound/instance-2/seed0"]          # instance-1's plan: wrong for instance-2
    assert second["rounds"][0]["ground_truth"]["valid"] is False


def test_the_same_seed_draws_the_same_names_in_another_run(two_seeds: Any, tmp_path: Path) -> None:
    run_dir, records, _ = two_seeds
    again, _ = run(tmp_path / "again", [1])
    [folder] = [p.name for p in (tmp_path / "again" / FOLDER).iterdir()]
    assert folder.startswith("seed-1-")
    for name in ("renaming.json", "domain.pddl", "instance-1.pddl", "manifest.jsonl"):
        assert (tmp_path / "again" / FOLDER / folder / name).read_bytes() == (run_dir / FOLDER / folder / name).read_bytes()
    assert again["sound/instance-1/seed1"]["instance"] == records["sound/instance-1/seed1"]["instance"]


def test_randomized_mystery_refuses_a_folder_without_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "instance-1.pddl").write_text(
        (Path(__file__).parents[1] / "problems" / "blocksworld" / "3-5" / "instance-1.pddl").read_text())
    data = config("local", [0]).model_dump(mode="json")
    data["instances"] = {"set": str(folder)}
    with pytest.raises(ConfigError, match="no manifest.jsonl"):
        plan_run(parse_experiment(data))
    data["domain"] = "randomized_mystery:"
    with pytest.raises(ConfigError, match="names no source domain"):
        plan_run(parse_experiment(data))
