"""The uniform Blocks World sampler: counting, uniformity, determinism, filters, goal styles, BFS oracle."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest
from helpers.shared_data import PLANBENCH_INSTANCES
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare

from planner_loop.errors import ConfigError
from planner_loop.generation import GenerationRequest, SizeRange, count_states, get_generator
from planner_loop.generation.blocksworld import (
    HELD,
    TABLE,
    UniformStateSampler,
    block_names,
    bfs_optimal_length,
    goal_atoms,
    is_trivial,
    state_atoms,
    naive_tower_state,
    state_graph,
)

PLANBENCH_BW = PLANBENCH_INSTANCES / "blocksworld"
A000262 = [1, 3, 13, 73, 501, 4051, 37633, 394353, 4596553, 58941091]


def request(blocks: str, count: int, seed: int = 0, **options: object) -> GenerationRequest:
    return GenerationRequest(count=count, seed=seed, sizes={"blocks": SizeRange.parse(blocks)}, **options)  # type: ignore[arg-type]


def atoms_of(pddl: str, section: str) -> set[tuple[str, ...]]:
    """Atoms listed in the ``(:init`` or ``(:goal`` section of a generated problem."""
    start = pddl.index(f"(:{section}")
    end = pddl.index("(:goal") if section == "init" else len(pddl)
    return {tuple(m.split()) for m in re.findall(r"\(([a-z-]+(?: [a-z]+)*)\)", pddl[start:end]) if m != "and"}


# --- counting ---------------------------------------------------------------------------------


def test_state_counts_are_a000262() -> None:
    assert [count_states(n) for n in range(1, 11)] == A000262


def test_state_counts_match_explicit_state_graph() -> None:
    # Independent of the recurrence: hand-empty nodes reachable in the explicit state graph.
    for n in range(1, 6):
        graph = state_graph(n)
        hand_empty = [node for node in graph if HELD not in node]
        assert len(hand_empty) == count_states(n)
        # states holding a block: n choices of the held block times the states of the others
        assert graph.number_of_nodes() - len(hand_empty) == n * count_states(n - 1)


# --- uniformity -------------------------------------------------------------------------------




def frequencies(draw, n: int, samples: int, seed: int) -> list[int]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    counts = Counter(draw(n, rng) for _ in range(samples))
    states = [node for node in state_graph(n) if HELD not in node]
    assert set(counts) <= set(states), "sampler produced a non-state"
    return [counts.get(state, 0) for state in states]


@pytest.mark.parametrize("n", [3, 4])
def test_sampler_is_uniform_chi_square(n: int) -> None:
    sampler = UniformStateSampler(n)
    observed = frequencies(lambda _n, rng: sampler.sample(rng), n, 20_000, seed=2026)
    assert len(observed) == count_states(n)
    assert min(observed) > 0
    assert chisquare(observed).pvalue > 0.001


@pytest.mark.parametrize("n", [3, 4])
def test_chi_square_rejects_a_non_uniform_sampler(n: int) -> None:
    observed = frequencies(naive_tower_state, n, 20_000, seed=2026)
    assert chisquare(observed).pvalue < 1e-6


def test_five_block_states_all_reached() -> None:
    sampler = UniformStateSampler(5)
    rng = random.Random(5)
    seen = {sampler.sample(rng) for _ in range(20_000)}
    assert len(seen) == 501


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 2**32))
def test_samples_are_well_formed_towers(n: int, seed: int) -> None:
    below = UniformStateSampler(n).sample(random.Random(seed))
    supports = [s for s in below if s != TABLE]
    assert len(supports) == len(set(supports)), "two blocks on one block"
    for block in range(n):  # walking down from any block reaches the table without a cycle
        steps, current = 0, block
        while below[current] != TABLE:
            current = below[current]
            steps += 1
            assert steps <= n
    names = block_names(n)
    atoms = state_atoms(below, names)
    assert ("handempty",) in atoms
    assert sum(1 for a in atoms if a[0] in {"on", "ontable"}) == n


def test_block_names() -> None:
    assert block_names(4) == ("a", "b", "c", "d")
    names = block_names(60)
    assert names[25:28] == ("z", "aa", "ab") and len(set(names)) == 60


# --- generator: determinism, filters, goal styles ---------------------------------------------


def test_same_request_same_instances_and_seed_matters() -> None:
    generator = get_generator("blocksworld")
    first = list(generator.generate(request("3-6", 50, seed=11)))
    second = list(generator.generate(request("3-6", 50, seed=11)))
    other = list(generator.generate(request("3-6", 50, seed=12)))
    assert [i.pddl for i in first] == [i.pddl for i in second]
    assert [i.pddl for i in first] != [i.pddl for i in other]
    assert [i.id for i in first] == [f"instance-{k}" for k in range(1, 51)]


def test_sizes_cover_the_range_and_files_match_size() -> None:
    instances = list(get_generator("blocksworld").generate(request("3-5", 300, seed=3)))
    sizes = Counter(i.sizes["blocks"] for i in instances)
    assert set(sizes) == {3, 4, 5}
    for instance in instances:
        objects = re.search(r"\(:objects ([a-z ]+)\)", instance.pddl)
        assert objects is not None
        assert objects.group(1).split() == list(block_names(instance.sizes["blocks"]))


def test_trivial_instances_dropped_unless_kept() -> None:
    generator = get_generator("blocksworld")
    kept = list(generator.generate(request("2", 200, seed=1, keep_trivial=True, allow_duplicates=True)))
    trivial = [i for i in kept if atoms_of(i.pddl, "goal") <= atoms_of(i.pddl, "init")]
    assert trivial, "with 2 blocks and on-only goals about half the draws are trivial"
    dropped = list(generator.generate(request("2-4", 200, seed=1)))
    assert all(not atoms_of(i.pddl, "goal") <= atoms_of(i.pddl, "init") for i in dropped)


def test_duplicates_dropped_and_exhaustion_reported() -> None:
    generator = get_generator("blocksworld")
    # 2 blocks, full goals: 3 states, so exactly 3 * 3 - 3 = 6 distinct non-trivial instances
    six = list(generator.generate(request("2", 6, seed=4, goal_style="full")))
    assert len({i.pddl.split("\n", 1)[1] for i in six}) == 6
    with pytest.raises(ConfigError, match="found only 6 distinct"):
        list(generator.generate(request("2", 7, seed=4, goal_style="full")))
    # on-only: 4 distinct non-trivial instances (see the module docstring for what counts)
    with pytest.raises(ConfigError, match="found only 4 distinct"):
        list(generator.generate(request("2", 5, seed=4)))
    repeated = list(generator.generate(request("2", 30, seed=4, goal_style="full", allow_duplicates=True)))
    bodies = [i.pddl.split("\n", 1)[1] for i in repeated]
    assert len(set(bodies)) < len(bodies)


def test_goal_styles() -> None:
    generator = get_generator("blocksworld")
    for instance in generator.generate(request("5", 40, seed=8)):
        goal = atoms_of(instance.pddl, "goal")
        assert goal and all(atom[0] == "on" for atom in goal)
    for instance in generator.generate(request("5", 40, seed=8, goal_style="full")):
        goal = atoms_of(instance.pddl, "goal")
        init = atoms_of(instance.pddl, "init")
        # a complete state: handempty, one position atom per block, the clear atoms
        assert ("handempty",) in goal
        assert sorted(a[1] for a in goal if a[0] in {"on", "ontable"}) == list(block_names(5))
        assert {a[0] for a in goal} <= {"handempty", "on", "ontable", "clear"}
        assert {a[0] for a in goal} == {a[0] for a in init} | ({"on"} & {a[0] for a in goal})
        assert goal != init


def test_on_only_goal_is_the_on_atoms_of_the_full_goal() -> None:
    generator = get_generator("blocksworld")
    on_only = list(generator.generate(request("4", 30, seed=9, keep_trivial=True, allow_duplicates=True)))
    full = list(generator.generate(request("4", 30, seed=9, goal_style="full", keep_trivial=True, allow_duplicates=True)))
    for a, b in zip(on_only, full, strict=True):
        assert atoms_of(a.pddl, "init") == atoms_of(b.pddl, "init")
        assert atoms_of(a.pddl, "goal") == {x for x in atoms_of(b.pddl, "goal") if x[0] == "on"}


def test_is_trivial_matches_atom_containment() -> None:
    sampler = UniformStateSampler(4)
    rng = random.Random(0)
    names = block_names(4)
    for _ in range(500):
        init, target = sampler.sample(rng), sampler.sample(rng)
        for style in ("on-only", "full"):
            contained = set(goal_atoms(target, names, style)) <= set(state_atoms(init, names))
            assert is_trivial(init, target, style) == contained


def test_bad_requests_rejected() -> None:
    generator = get_generator("blocksworld")
    for bad in (
        request("3", 0),
        request("3", 5, goal_style="partial"),
        GenerationRequest(count=3, seed=0),
        GenerationRequest(count=3, seed=0, sizes={"blocks": SizeRange(3, 3), "trucks": SizeRange(1, 1)}),
    ):
        with pytest.raises(ConfigError):
            list(generator.generate(bad))
    for text in ("", "a", "3-", "5-3", "0", "-2", "3-5-7"):
        with pytest.raises(ConfigError):
            SizeRange.parse(text, name="blocks")
    assert SizeRange.parse(" 3 - 5 ") == SizeRange(3, 5)
    assert str(SizeRange.parse("7")) == "7"


# --- the BFS oracle ---------------------------------------------------------------------------


def test_bfs_lengths_on_hand_made_cases() -> None:
    names = block_names(3)
    graph = state_graph(3)
    flat = (TABLE, TABLE, TABLE)
    tower_abc = (1, 2, TABLE)  # a on b on c
    assert bfs_optimal_length(flat, goal_atoms(flat, names, "full"), graph) == 0
    assert bfs_optimal_length(flat, goal_atoms(tower_abc, names, "on-only"), graph) == 4
    assert bfs_optimal_length(tower_abc, goal_atoms((TABLE, 0, 1), names, "full"), graph) == 6  # invert: a, b to the side, c on b
    assert bfs_optimal_length(tower_abc, [("on", "c", "a")], graph) == 6


def _planbench_state(text: str) -> tuple[tuple[int, ...], list[tuple[str, ...]]]:
    """Initial ``below`` map and goal atoms of a PlanBench problem (its simple fixed layout)."""
    objects = re.search(r"\(:objects([^)]*)\)", text)
    assert objects is not None
    names = sorted(objects.group(1).split())
    assert tuple(names) == block_names(len(names))
    index = {name: i for i, name in enumerate(names)}
    init_text, goal_text = text.split("(:goal")
    below = [TABLE] * len(names)
    for upper, lower in re.findall(r"\(on (\w+) (\w+)\)", init_text):
        below[index[upper]] = index[lower]
    goal = [tuple(atom.split()) for atom in re.findall(r"\((\w[\w-]*(?: \w+)*)\)", goal_text) if atom != "and"]
    return tuple(below), goal


@pytest.mark.needs_planbench("plan-bench/instances/blocksworld")
def test_bfs_reproduces_planbench_optimal_length_distribution() -> None:
    """REFERENCE.md §4: Fast Downward's optimal lengths of PlanBench's 501 instances."""
    graphs = {n: state_graph(n) for n in (4, 5)}
    lengths: Counter[int] = Counter()
    for path in sorted((PLANBENCH_BW / "generated_basic").glob("instance-*.pddl")):
        below, goal = _planbench_state(path.read_text())
        length = bfs_optimal_length(below, goal, graphs[len(below)])
        assert length is not None
        lengths[length] += 1
    assert dict(lengths) == {2: 30, 4: 57, 6: 114, 8: 139, 10: 113, 12: 46, 14: 1, 16: 1}
