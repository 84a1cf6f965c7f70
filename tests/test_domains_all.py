"""One suite over every registered domain: a new domain folder gets all of these tests for free.

For each domain: its templates fit its PDDL; small problems come from its generator (or its
committed problem set); states, goals and plans render in both styles; rendered plans read back
exactly (property test over random type-correct plans); an optimal plan from the planner validates,
and so does its natural-language rendering once extracted.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner_loop.domains import Domain, DomainRegistry
from planner_loop.generation import GenerationRequest, SizeRange
from planner_loop.planning.plan import Plan, PlanStep
from planner_loop.planning.search import solve
from planner_loop.planning.task import Task, parse_task
from planner_loop.planning.validator import validate
from planner_loop.resources import builtin_dir

REGISTRY = DomainRegistry.default()
NAMES = REGISTRY.names()
_TASKS: dict[str, list[Task]] = {}


def sample_tasks(domain: Domain) -> list[Task]:
    """Two small problems of ``domain`` (cached per test session)."""
    if domain.name in _TASKS:
        return _TASKS[domain.name]
    generator = domain.generator()
    tasks: list[Task] = []
    if generator is not None:
        sizes = {name: SizeRange(2, 3) for name in generator.size_names}  # type: ignore[attr-defined]
        for instance in generator.generate(GenerationRequest(count=2, seed=7, sizes=sizes)):  # type: ignore[attr-defined]
            tasks.append(parse_task(domain.domain_file.read_text(), instance.pddl, problem_source=instance.id))
    else:
        problems = sorted((builtin_dir("problems") / domain.name).rglob("*.pddl"))[:2]
        tasks = [domain.load_task(p) for p in problems]
    if not tasks:
        pytest.skip(f"domain {domain.name} has neither a generator nor committed problems")
    _TASKS[domain.name] = tasks
    return tasks


def test_builtin_domains_are_registered() -> None:
    assert {"blocksworld", "mystery_blocksworld", "mystery_blocksworld_random", "logistics"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_templates_fit_pddl(name: str) -> None:
    domain = REGISTRY.get(name)
    domain.check()  # type: ignore[attr-defined]
    for style in ("nl", "pddl"):
        assert domain.describe(style).strip()


@pytest.mark.parametrize("name", NAMES)
def test_render_both_styles(name: str) -> None:
    domain = REGISTRY.get(name)
    for task in sample_tasks(domain):
        nl_state, pddl_state = domain.render_state(task.init), domain.render_state(task.init, "pddl")
        assert nl_state and "(" not in nl_state
        assert pddl_state.count("(") == len(task.init)
        assert domain.render_goal(task) and domain.render_goal(task, "pddl").startswith("(and ")
        for atom in task.init:
            assert domain.render_atom(atom, "pddl") == "(" + " ".join(atom) + ")"


@pytest.mark.parametrize("name", NAMES)
def test_steps_the_domain_cannot_phrase_render_as_written_pddl(name: str) -> None:
    # LLM plans may hold a known action with too few or too many arguments, or an unknown action:
    # the renderer shows such a step as written instead of failing or guessing.
    domain = REGISTRY.get(name)
    task = sample_tasks(domain)[0]
    action = sorted(task.actions)[0]
    arity = len(task.actions[action].parameters)
    objects = sorted(task.objects)
    wrong_counts = [n for n in (arity - 1, arity + 1) if n >= 0]
    for args in (tuple(objects[0] for _ in range(n)) for n in wrong_counts):
        step = PlanStep(action, args)
        assert domain.render_action(step) == "(" + " ".join((action, *args)) + ")"
    unknown = PlanStep("no-such-action", tuple(objects[:1]))
    assert domain.render_action(unknown) == f"(no-such-action {objects[0]})"
    well_formed = PlanStep(action, tuple(objects[0] for _ in range(arity)))
    assert "(" not in domain.render_action(well_formed)


def random_plan(task: Task, draw: Callable[[st.SearchStrategy[Any]], Any]) -> Plan:
    steps = []
    for _ in range(draw(st.integers(1, 8))):
        name = draw(st.sampled_from(sorted(task.actions)))
        args = []
        for _, typ in task.actions[name].parameters:
            fitting = sorted(o for o in task.objects if task.is_instance(o, typ))
            args.append(draw(st.sampled_from(fitting)))
        steps.append(PlanStep(name, tuple(args)))
    return Plan(tuple(steps))


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_rendered_plans_read_back(name: str, data: st.DataObject) -> None:
    domain = REGISTRY.get(name)
    task = sample_tasks(domain)[0]
    plan = random_plan(task, data.draw)
    expected = [s.to_pddl() for s in plan.steps]
    nl = domain.render_plan(plan)
    numbered = "Here is the plan:\n" + "".join(f"{i}. {line.capitalize()}.\n" for i, line in enumerate(nl.splitlines(), 1))
    for text in (nl, domain.render_plan(plan, "pddl"), numbered, f"[PLAN]\n{nl}[PLAN END]\nThat is all."):
        extraction = domain.extract_plan(text, task)
        assert extraction.plan is not None, (text, extraction.error)
        assert [s.to_pddl() for s in extraction.plan.steps] == expected, text


@pytest.mark.parametrize("name", NAMES)
def test_optimal_plans_validate_in_both_styles(name: str) -> None:
    domain = REGISTRY.get(name)
    for task in sample_tasks(domain):
        plan = solve(task)
        assert plan is not None and plan.steps
        assert validate(task, plan).valid
        for style in ("nl", "pddl"):
            extraction = domain.extract_plan(domain.render_plan(plan, style), task)
            assert extraction.plan is not None
            assert validate(task, extraction.plan).valid
        broken = Plan(tuple(itertools.islice(plan.steps, len(plan.steps) - 1)))
        extraction = domain.extract_plan(domain.render_plan(broken) or "no plan", task)
        assert extraction.plan is None or not validate(task, extraction.plan).valid
