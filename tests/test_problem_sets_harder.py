"""PlanBench's harder columns as instance sets: Blocksworld-Hard, unsolvable Blocks World, Randomized
Mystery, and PlanBench's own instance folders."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from planner_loop.domains import get_domain
from planner_loop.domains.obfuscation import randomized_renaming, write_randomized_mystery
from planner_loop.domains.templates import TemplateDomain
from planner_loop.experiment import InstancesConfig, load_instance_pool
from planner_loop.generation import GenerationRequest, SizeRange, get_generator, read_manifest
from planner_loop.generation.blocksworld import TABLE, UniformStateSampler
from planner_loop.generation.contradiction import contradict, on_goal_satisfiable
from planner_loop.planning.search import solve
from planner_loop.planning.task import load_task
from planner_loop.resources import builtin_dir

PROBLEMS = builtin_dir("problems") / "blocksworld"
DOMAIN = builtin_dir("domains") / "blocksworld" / "domain.pddl"
PLANBENCH = Path(__file__).resolve().parents[2] / "shared" / "planbench" / "llm_planning_analysis" / "instances"


def _pairs(goal: frozenset[tuple[str, ...]]) -> list[tuple[str, str]]:
    return [(atom[1], atom[2]) for atom in goal if atom[0] == "on"]


def test_unsolvable_set_manifest_and_contradictions() -> None:
    folder = PROBLEMS / "unsolvable"
    records = read_manifest(folder / "manifest.jsonl")
    assert len(records) == 100 and {r["unsolvable_reason"] for r in records} == {"split", "loop"}
    for record in records:
        assert record["solvable"] is False and record["optimal_length"] is None
        data = (folder / str(record["file"])).read_bytes()
        assert hashlib.sha256(data).hexdigest() == record["sha256"]
        task = load_task(DOMAIN, folder / str(record["file"]))
        names = sorted(task.objects)
        index = {name: i for i, name in enumerate(names)}
        assert not on_goal_satisfiable((index[x], index[y]) for x, y in _pairs(task.goal_atoms()))
        assert str(record["added_goal"]) in data.decode()
    instances = load_instance_pool(InstancesConfig(set="blocksworld/unsolvable"))
    assert {inst.solvable for inst in instances} == {False}


def test_contradictory_goals_are_proven_unsolvable_by_the_planner() -> None:
    folder = PROBLEMS / "unsolvable"
    for record in read_manifest(folder / "manifest.jsonl")[:5]:
        assert solve(load_task(DOMAIN, folder / str(record["file"])), optimal=True, planner="fast-downward") is None


def test_contradict_kinds_and_satisfiability_check() -> None:
    rng = random.Random(5)
    sampler = UniformStateSampler(5)
    kinds = set()
    for _ in range(200):
        target = sampler.sample(rng)
        made = contradict(target, rng)
        pairs = [(b, s) for b, s in enumerate(target) if s != TABLE]
        assert on_goal_satisfiable(pairs)
        if made is None:
            assert not pairs
            continue
        kinds.add(made.kind)
        assert not on_goal_satisfiable([*pairs, (made.block, made.support)])
    assert kinds == {"split", "loop"}
    assert not on_goal_satisfiable([(0, 1), (1, 0)]) and not on_goal_satisfiable([(0, 1), (0, 2)])
    assert not on_goal_satisfiable([(0, 2), (1, 2)]) and on_goal_satisfiable([(0, 1), (1, 2)])


def test_contradictory_generation_is_reproducible() -> None:
    request = GenerationRequest(count=5, seed=9, sizes={"blocks": SizeRange(3, 5)}, goal_style="contradictory")
    first = [i.sha256 for i in get_generator("blocksworld").generate(request)]
    assert first == [i.sha256 for i in get_generator("blocksworld").generate(request)]


def test_hard_set_manifest_and_selection() -> None:
    folder = PROBLEMS / "hard"
    records = read_manifest(folder / "manifest.jsonl")
    selection = json.loads((folder / "selection.json").read_text())
    lengths = [int(r["optimal_length"]) for r in records]  # type: ignore[call-overload]
    assert selection["kept"] == len(records) == 30 and min(lengths) >= selection["min_length"] == 20
    assert selection["length_distribution"] == {str(k): lengths.count(k) for k in sorted(set(lengths))}
    assert selection["candidates"] == len(records) + selection["dropped_short"] + selection["dropped_timeout"]
    assert [r["id"] for r in records] == [f"instance-{k}" for k in range(1, 31)]
    for record in records:
        assert 8 <= int(record["blocks"]) <= 12  # type: ignore[call-overload]
        text = (folder / str(record["file"])).read_text()
        assert f"-{record['id']})" in text.splitlines()[0]
        assert hashlib.sha256(text.encode()).hexdigest() == record["sha256"]


def test_hard_set_candidates_regenerate() -> None:
    """The kept instances are the recorded candidates of the recorded request (no planner needed)."""
    records = read_manifest(PROBLEMS / "hard" / "manifest.jsonl")
    request = GenerationRequest(count=60, seed=110, sizes={"blocks": SizeRange(8, 12)}, goal_style="on-only")
    candidates = {i.id: i for i in get_generator("blocksworld").generate(request)}
    for record in records:
        candidate = candidates[str(record["candidate"])]
        assert candidate.instance_seed == record["instance_seed"]
        renamed = candidate.pddl.replace(f"-{candidate.id})", f"-{record['id']})", 1)
        assert hashlib.sha256(renamed.encode()).hexdigest() == record["sha256"]


def test_randomized_mystery_per_seed(tmp_path: Path) -> None:
    source = get_domain("blocksworld")
    assert isinstance(source, TemplateDomain)
    set_folder = PROBLEMS / "planbench-4-5"
    first = write_randomized_mystery(source, set_folder, 1, tmp_path / "s1")
    again = write_randomized_mystery(source, set_folder, 1, tmp_path / "s1b")
    other = write_randomized_mystery(source, set_folder, 2, tmp_path / "s2")
    assert first == again and first != other and first == randomized_renaming(source, 1)
    assert set(first.actions.values()).isdisjoint(other.actions.values())
    for name in ("manifest.jsonl", "instance-7.pddl", "domain.pddl", "renaming.json"):
        assert (tmp_path / "s1" / name).read_bytes() == (tmp_path / "s1b" / name).read_bytes()
    recorded = json.loads((tmp_path / "s1" / "renaming.json").read_text())
    assert recorded["run_seed"] == 1 and recorded["actions"] == dict(first.actions)
    renamed = get_domain(str(tmp_path / "s1"))
    instances = load_instance_pool(InstancesConfig(set=str(tmp_path / "s1")))
    assert len(instances) == 100
    original = {r["id"]: r["optimal_length"] for r in read_manifest(set_folder / "manifest.jsonl")}
    for instance in instances[:3]:
        task = renamed.load_task(instance.problem)
        assert set(task.actions) == set(first.actions.values())
        plan = solve(task, optimal=True, planner="fast-downward")
        assert plan is not None and len(plan.steps) == original[instance.id] == instance.optimal_length


@pytest.mark.parametrize("folder", ["blocksworld_hard/generated", "unsolvable_blocksworld/generated_basic"])
def test_planbench_folders_load_as_instance_sets(folder: str) -> None:
    path = PLANBENCH / folder
    if not path.is_dir():
        pytest.skip("PlanBench copy in ../shared is absent")
    instances = load_instance_pool(InstancesConfig(set=str(path)))
    assert len(instances) in (110, 101)
    domain = get_domain("blocksworld")
    for instance in instances[:3]:
        task = domain.load_task(instance.problem)
        assert task.goal_atoms()
