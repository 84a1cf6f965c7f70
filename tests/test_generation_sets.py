"""The committed Blocks World problem sets: manifests, hashes, loading, optimal lengths, regeneration."""

from __future__ import annotations

import filecmp
import hashlib
import re
import shlex
from pathlib import Path

import pytest

from planner_loop.generation import GenerationRequest, SizeRange, generate_problem_set, get_generator, read_manifest
from planner_loop.generation.blocksworld import TABLE, bfs_optimal_length, block_names, state_graph
from planner_loop.generation.instances import parse_size_weights, size_quotas
from planner_loop.planning.task import load_task
from planner_loop.resources import builtin_dir

PROBLEMS = builtin_dir("problems")
DOMAIN = builtin_dir("domains") / "blocksworld" / "domain.pddl"
# set name -> the exact arguments recorded in problems/README.md
SETS = {
    "3-5": ["--domain", "blocksworld", "--blocks", "3-5", "--count", "100", "--seed", "35", "--goal", "on-only"],
    "6-10": ["--domain", "blocksworld", "--blocks", "6-10", "--count", "100", "--seed", "610", "--goal", "on-only"],
    "planbench-4-5": ["--domain", "blocksworld", "--blocks", "4-5", "--weights", "4=446,5=55", "--count", "100",
                      "--seed", "2023", "--goal", "on-only"],
}
MANIFEST_KEYS = {
    "id", "file", "domain", "blocks", "goal", "seed", "instance_seed", "attempt", "optimal_length",
    "optimal_planner", "sha256", "generator", "generator_version",
}


def recorded_command(name: str) -> list[str]:
    """The generation command for a set, read from problems/README.md."""
    readme = (PROBLEMS / "README.md").read_text(encoding="utf-8")
    pattern = rf"^planner-loop problems generate (.*) --out problems/blocksworld/{re.escape(name)}$"
    match = re.search(pattern, readme, flags=re.MULTILINE)
    assert match is not None, f"problems/README.md records no command for blocksworld/{name}"
    return shlex.split(match.group(1))


def request_from(arguments: list[str]) -> GenerationRequest:
    options = dict(zip(arguments[::2], arguments[1::2], strict=True))
    assert options.pop("--domain") == "blocksworld"
    weights = options.pop("--weights", None)
    request = GenerationRequest(
        count=int(options.pop("--count")),
        seed=int(options.pop("--seed")),
        sizes={"blocks": SizeRange.parse(options.pop("--blocks"))},
        goal_style=options.pop("--goal"),
        size_weights={"blocks": parse_size_weights(weights)} if weights else {},
    )
    assert not options, f"unhandled options {options}"
    return request


@pytest.mark.parametrize("name", sorted(SETS))
def test_readme_records_the_command(name: str) -> None:
    assert recorded_command(name) == SETS[name]


@pytest.mark.parametrize("name", sorted(SETS))
def test_manifest_matches_files(name: str) -> None:
    folder = PROBLEMS / "blocksworld" / name
    records = read_manifest(folder / "manifest.jsonl")
    low, high = (int(x) for x in name.split("-")[-2:])
    assert len(records) == 100
    assert [r["id"] for r in records] == [f"instance-{k}" for k in range(1, 101)]
    assert sorted(p.name for p in folder.glob("*.pddl")) == sorted(str(r["file"]) for r in records)
    for record in records:
        assert set(record) == MANIFEST_KEYS
        data = (folder / str(record["file"])).read_bytes()
        assert hashlib.sha256(data).hexdigest() == record["sha256"]
        assert low <= int(record["blocks"]) <= high  # type: ignore[call-overload]
        assert record["goal"] == "on-only" and record["optimal_planner"] == "fast-downward"
        assert isinstance(record["optimal_length"], int) and record["optimal_length"] > 0


@pytest.mark.parametrize("name", sorted(SETS))
def test_committed_instances_load_and_match_manifest(name: str) -> None:
    folder = PROBLEMS / "blocksworld" / name
    for record in read_manifest(folder / "manifest.jsonl"):
        task = load_task(DOMAIN, folder / str(record["file"]))
        assert sorted(task.objects) == sorted(block_names(int(record["blocks"])))  # type: ignore[call-overload]
        assert task.goal and all(literal.positive and literal.atom[0] == "on" for literal in task.goal)
        assert not task.goal_atoms() <= task.init, "a trivial instance was committed"


def test_planbench_set_follows_planbench_proportion_and_rules() -> None:
    records = read_manifest(PROBLEMS / "blocksworld" / "planbench-4-5" / "manifest.jsonl")
    sizes = [int(r["blocks"]) for r in records]  # type: ignore[call-overload]
    assert size_quotas({4: 446, 5: 55}, 100) == {4: 89, 5: 11}
    assert (sizes.count(4), sizes.count(5)) == (89, 11)
    folder = PROBLEMS / "blocksworld" / "planbench-4-5"
    keys = set()
    for record in records:
        task = load_task(DOMAIN, folder / str(record["file"]))
        keys.add((task.init, task.goal_atoms()))
    assert len(keys) == 100, "two instances share initial state and goal"


def test_size_quotas_are_exact_and_deterministic() -> None:
    assert size_quotas({4: 1, 5: 1}, 3) == {4: 2, 5: 1}      # a tie goes to the smaller size
    assert size_quotas({4: 446, 5: 55}, 501) == {4: 446, 5: 55}
    assert sum(size_quotas({3: 5, 4: 7, 9: 11}, 37).values()) == 37
    request = GenerationRequest(count=20, seed=4, sizes={"blocks": SizeRange(4, 6)},
                                size_weights={"blocks": {4: 1, 6: 3}})
    made = [i.sizes["blocks"] for i in get_generator("blocksworld").generate(request)]
    assert made.count(4) == 5 and made.count(6) == 15 and 5 not in made


@pytest.mark.parametrize("bad", ["4", "4=a", "4=1,4=2", "x=3"])
def test_bad_weights_are_config_errors(bad: str) -> None:
    from planner_loop.errors import ConfigError

    with pytest.raises(ConfigError):
        parse_size_weights(bad)
    with pytest.raises(ConfigError):
        list(get_generator("blocksworld").generate(GenerationRequest(
            count=2, seed=0, sizes={"blocks": SizeRange(4, 5)}, size_weights={"blocks": {7: 1}})))


@pytest.mark.parametrize("name", ["3-5", "planbench-4-5"])
def test_small_set_optimal_lengths_equal_bfs(name: str) -> None:
    """Fast Downward's recorded lengths agree with BFS over the explicit state graph (n <= 5)."""
    folder = PROBLEMS / "blocksworld" / name
    graphs = {n: state_graph(n) for n in (3, 4, 5)}
    for record in read_manifest(folder / "manifest.jsonl"):
        task = load_task(DOMAIN, folder / str(record["file"]))
        names = block_names(int(record["blocks"]))  # type: ignore[call-overload]
        index = {name: i for i, name in enumerate(names)}
        below = [TABLE] * len(names)
        for atom in task.init:
            if atom[0] == "on":
                below[index[atom[1]]] = index[atom[2]]
        assert bfs_optimal_length(tuple(below), list(task.goal_atoms()), graphs[len(names)]) == record["optimal_length"]


@pytest.mark.parametrize("name", sorted(SETS))
def test_recorded_command_regenerates_identical_pddl(name: str, tmp_path: Path) -> None:
    """Fast check without the planner: same PDDL bytes and hashes as committed."""
    request = request_from(recorded_command(name))
    records = read_manifest(PROBLEMS / "blocksworld" / name / "manifest.jsonl")
    instances = list(get_generator("blocksworld").generate(request))
    assert [i.sha256 for i in instances] == [r["sha256"] for r in records]
    assert [i.instance_seed for i in instances] == [r["instance_seed"] for r in records]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SETS))
def test_recorded_command_regenerates_byte_identical_set(name: str, tmp_path: Path) -> None:
    """Full regeneration including Fast Downward's optimal lengths (about 15 s and 40 s)."""
    request = request_from(recorded_command(name))
    generate_problem_set(get_generator("blocksworld"), request, tmp_path)
    committed = PROBLEMS / "blocksworld" / name
    names = sorted(p.name for p in committed.iterdir() if p.is_file())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(committed, tmp_path, names, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == len(names)
