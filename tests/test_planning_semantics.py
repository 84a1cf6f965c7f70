"""STRIPS semantics on the ground action agree with the validator; the critic's step trace is the
validator's (equality failures included); planners come from the registry."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from planner_loop.errors import ConfigError
from planner_loop.planning import GroundingError, Plan, PlanStep, applicable_actions, parse_plan, parse_task, validate
from planner_loop.planning.search import ENTRY_POINT_GROUP, default_planners, solve

FIXTURES = Path(__file__).parent / "fixtures" / "planning"
TYPED = parse_task((FIXTURES / "gripper-typed-domain.pddl").read_text(),
                   (FIXTURES / "gripper-typed-problem.pddl").read_text())
BW = parse_task((FIXTURES / "bw-domain.pddl").read_text(), (FIXTURES / "bw-3.pddl").read_text())


@pytest.mark.parametrize("task", [TYPED, BW], ids=["typed", "blocks"])
def test_ground_action_semantics_match_the_validator_on_random_plans(task: object) -> None:
    rng = random.Random(7)
    names = list(task.objects)  # type: ignore[attr-defined]
    for _ in range(200):
        state, steps, expected_failure = task.init, [], None  # type: ignore[attr-defined]
        for number in range(1, rng.randint(1, 8) + 1):
            schema = rng.choice(list(task.actions.values()))  # type: ignore[attr-defined]
            args = tuple(rng.choice(names) for _ in schema.parameters)
            try:
                action = task.ground(schema.name, args)  # type: ignore[attr-defined]
            except GroundingError:  # ill-typed draws are skipped; the validator tests cover them
                continue
            steps.append(PlanStep(schema.name, args))
            if not action.applicable(state):
                assert action.unmet(state)
                expected_failure = (len(steps), action.unmet(state))
                break
            assert action.unmet(state) == ()
            successor = action.apply(state)
            assert isinstance(successor, frozenset) and action.apply(set(state)) == successor
            state = successor
        report = validate(task, Plan(tuple(steps)), trace=True)  # type: ignore[arg-type]
        if expected_failure is None:
            assert report.states is not None and report.states[-1] == state
        else:
            assert (report.failed_step, report.unmet_preconditions) == expected_failure


def test_applicable_actions_are_exactly_the_applicable_reachable_ones() -> None:
    for task in (TYPED, BW):
        state = task.init
        listed = {(a.name, a.args) for a in applicable_actions(task, state)}
        assert listed == {(a.name, a.args) for a in task.reachable_actions() if a.applicable(state)}


def test_equality_failure_is_unmet_and_never_applicable() -> None:
    action = TYPED.ground("move", ("home", "home"))
    assert action.static_failures == ("(not (= home home))",)
    assert not action.applicable(TYPED.init)
    assert action.unmet(TYPED.init)[0] == "(not (= home home))"
    assert action.preconditions()[0] == "(not (= home home))"


def test_critic_trace_reports_the_validators_equality_failure(tmp_path: Path) -> None:
    from planner_loop.domains import load_domain
    from planner_loop.verifiers.llm_critic import LLMCritic

    (tmp_path / "domain.pddl").write_text((FIXTURES / "gripper-typed-domain.pddl").read_text())
    (tmp_path / "domain.yaml").write_text(
        "name: gripper-typed\npredicates: {}\nactions:\n  move: 'move from {0} to {1}'\n"
        "  pick: 'pick {0} in {1} with {2}'\n  drop: 'drop {0} in {1} with {2}'\n"
        "  mark-home: 'mark home with {0}'\n  unlock: 'unlock {0}'\n")
    domain = load_domain(tmp_path)
    task = domain.load_task(FIXTURES / "gripper-typed-problem.pddl")
    critic = LLMCritic(None, domain, stepwise=True, style="pddl")  # type: ignore[arg-type]
    plan = parse_plan("(move home kitchen)\n(move kitchen kitchen)\n")
    report = validate(task, plan, trace=True)
    assert report.failed_step == 2 and report.unmet_preconditions == ("(not (= kitchen kitchen))",)
    trace = critic._trace_text(task, plan, report)
    lines = trace.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Step 1") and lines[1].startswith("Step 2")
    assert "(= kitchen kitchen)" in lines[1].split("Not satisfied")[1]
    # the state after step 1 is the validator's
    assert domain.render_state(sorted(report.states[1]), "pddl").strip() in lines[0]  # type: ignore[index]


def test_planner_registry_names_and_hints() -> None:
    planners = default_planners(plugins=False)
    assert planners.names() == ["astar", "auto", "bfs", "fast-downward"]
    assert planners.group == ENTRY_POINT_GROUP == "planner_loop.planners"
    with pytest.raises(ConfigError, match="did you mean 'astar'"):
        solve(BW, planner="astr")


def test_a_registered_planner_is_used_and_its_plan_checked() -> None:
    planners = default_planners(plugins=False)
    calls: list[str] = []

    def bad(task: object, *, optimal: bool, timeout_s: float) -> Plan:
        calls.append("bad")
        return Plan((PlanStep("pick-up", ("a",)),))

    planners.register("bad", bad)
    from planner_loop.planning.search import SearchError

    with pytest.raises(SearchError, match="validator rejects"):
        solve(BW, planner="bad", planners=planners)
    assert calls == ["bad"]
    plan = solve(BW, planner="bfs", planners=planners)
    assert plan is not None and validate(BW, plan).valid
