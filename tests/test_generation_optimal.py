"""Generated problems load, and Fast Downward's optimal lengths equal BFS over the state graph (n <= 5)."""

from __future__ import annotations

import pytest

from planner_loop.generation import GenerationRequest, SizeRange, get_generator, solve_instances
from planner_loop.generation.blocksworld import TABLE, bfs_optimal_length, block_names, state_graph
from planner_loop.planning.search import fast_downward_driver, solve
from planner_loop.planning.task import Task, parse_task
from planner_loop.planning.validator import validate

pytestmark = pytest.mark.skipif(fast_downward_driver() is None, reason="Fast Downward (up-fast-downward) missing")


def below_map(task: Task) -> tuple[int, ...]:
    names = block_names(len(task.objects))
    index = {name: i for i, name in enumerate(names)}
    below = [TABLE] * len(names)
    for atom in task.init:
        if atom[0] == "on":
            below[index[atom[1]]] = index[atom[2]]
    return tuple(below)


@pytest.mark.parametrize("goal", ["on-only", "full"])
def test_fast_downward_lengths_equal_bfs(goal: str) -> None:
    generator = get_generator("blocksworld")
    request = GenerationRequest(count=12, seed=77, sizes={"blocks": SizeRange(2, 5)}, goal_style=goal)
    instances = solve_instances(generator.generate(request), generator.domain_file)
    domain_text = generator.domain_file.read_text()
    graphs = {n: state_graph(n) for n in range(2, 6)}
    for instance in instances:
        task = parse_task(domain_text, instance.pddl)
        n = instance.sizes["blocks"]
        assert instance.optimal_length == bfs_optimal_length(below_map(task), list(task.goal_atoms()), graphs[n])
        assert instance.optimal_length is not None and instance.optimal_length > 0


def test_optimal_plan_of_a_generated_problem_validates() -> None:
    generator = get_generator("blocksworld")
    request = GenerationRequest(count=3, seed=5, sizes={"blocks": SizeRange(7, 7)}, goal_style="full")
    for instance in generator.generate(request):
        task = parse_task(generator.domain_file.read_text(), instance.pddl)
        plan = solve(task, optimal=True, planner="fast-downward")
        assert plan is not None
        report = validate(task, plan, trace=True)
        assert report.valid
        assert report.states is not None
        final = report.states[-1]
        assert task.goal_atoms() <= final
        # a full goal pins down the whole final state
        assert final == task.goal_atoms()


def test_trivial_kept_instance_has_length_zero() -> None:
    generator = get_generator("blocksworld")
    request = GenerationRequest(
        count=40, seed=1, sizes={"blocks": SizeRange(2, 2)}, keep_trivial=True, allow_duplicates=True
    )
    trivial = [i for i in generator.generate(request) if "(and\n    )" in i.pddl or "(on" not in i.pddl.split("(:goal")[1]]
    assert trivial, "2 blocks, on-only: the all-on-table target gives an empty goal"
    [solved] = solve_instances(trivial[:1], generator.domain_file)
    assert solved.optimal_length == 0
