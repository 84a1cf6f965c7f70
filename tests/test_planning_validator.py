"""The sound validator: report fields, both modes, every plan-level error kind, and properties."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from planner_loop.planning import Atom, Plan, Task, load_plan, load_task, parse_plan, parse_task, validate

FIXTURES = Path(__file__).parent / "fixtures" / "planning"
BW = load_task(FIXTURES / "bw-domain.pddl", FIXTURES / "bw-3.pddl")
TYPED = load_task(FIXTURES / "gripper-typed-domain.pddl", FIXTURES / "gripper-typed-problem.pddl")
BW_PLAN = (FIXTURES / "bw-3.plan").read_text()


def test_valid_plans() -> None:
    for task, plan in ((BW, load_plan(FIXTURES / "bw-3.plan")), (TYPED, load_plan(FIXTURES / "gripper-typed.plan"))):
        report = validate(task, plan)
        assert report.valid and report.failed_step is None and report.action is None
        assert report.unmet_preconditions == () and report.unmet_goals == () and report.errors == ()
        assert report.steps == len(plan.steps)


def test_precondition_failure_reports_step_action_and_unmet_atoms() -> None:
    report = validate(BW, parse_plan("(unstack c a)\n(stack c b)\n(pick-up a)\n(stack a b)\n(put-down a)\n"))
    assert not report.valid
    assert (report.failed_step, report.action, report.unmet_preconditions) == (4, "(stack a b)", ("(clear b)",))
    assert report.unmet_goals == ()  # first-error mode never evaluates the goal after a failure
    assert [f.step for f in report.failures] == [4]
    report = validate(BW, parse_plan("(unstack c a)\n(pick-up b)\n"))
    assert (report.failed_step, report.action, report.unmet_preconditions) == (2, "(pick-up b)", ("(handempty)",))
    report = validate(BW, parse_plan("(put-down a)"))
    assert report.unmet_preconditions == ("(holding a)",)
    report = validate(BW, parse_plan("(unstack a c)"))
    assert report.unmet_preconditions == ("(clear a)", "(on a c)")


def test_goal_failure_lists_unmet_goal_literals() -> None:
    report = validate(BW, parse_plan("(unstack c a)\n(put-down c)\n"))
    assert not report.valid and report.failed_step is None
    assert report.unmet_goals == ("(on a b)", "(on b c)")
    report = validate(TYPED, parse_plan("(move home kitchen)\n(pick b1 kitchen left)\n"))
    assert report.unmet_goals == ("(at b1 home)", "(marked home)")


def test_negative_preconditions_equality_and_negative_goals() -> None:
    report = validate(TYPED, parse_plan("(move home hall)"))
    assert report.unmet_preconditions == ("(not (locked hall))",)
    report = validate(TYPED, parse_plan("(move home home)"))
    assert report.unmet_preconditions == ("(not (= home home))",)
    report = validate(TYPED, parse_plan("(unlock hall)\n(move home hall)\n(pick b2 hall left)\n"))
    assert report.failed_step is None
    assert "(not (carry b2 left))" in report.unmet_goals


def test_empty_plan_valid_iff_goal_holds_initially() -> None:
    assert not validate(BW, Plan(())).valid
    assert validate(BW, Plan(())).unmet_goals == ("(on a b)", "(on b c)")
    problem = (FIXTURES / "bw-3.pddl").read_text().replace("(and (on a b) (on b c))", "(and (on c a))")
    done = parse_task((FIXTURES / "bw-domain.pddl").read_text(), problem)
    assert validate(done, Plan(())).valid
    assert validate(done, parse_plan("; nothing to do\n")).valid


def test_plan_level_errors_each_kind() -> None:
    cases = {
        "(fly c a)": ("unknown-action", "unknown action 'fly'"),
        "(unstack c a b)": ("arity", "takes 2"),
        "(unstack c)": ("arity", "got 1"),
        "(pick-up zz)": ("unknown-object", "'zz'"),
        "(unstack c a": ("syntax", "line 2"),
    }
    for line, (kind, fragment) in cases.items():
        report = validate(BW, parse_plan(f"; header\n{line}\n(unstack c a)\n"))
        assert not report.valid and report.failed_step == 1, line
        assert [(e.step, e.kind) for e in report.errors] == [(1, kind)], line
        assert fragment in report.errors[0].message, (line, report.errors[0].message)
        assert report.unmet_goals == ()
    report = validate(TYPED, parse_plan("(move home kitchen)\n(pick b1 kitchen b2)\n"))
    assert (report.failed_step, report.errors[0].kind) == (2, "type-mismatch")
    assert report.action == "(pick b1 kitchen b2)"


def test_all_errors_mode_keeps_going_and_applies_effects() -> None:
    text = "(pick-up b)\n(stack b a)\n(fly)\n(unstack b c)\n(stack c b\n(put-down c)\n"
    report = validate(BW, parse_plan(text), all_errors=True, trace=True)
    assert not report.valid and report.all_errors
    # step 2: (stack b a) needs (clear a) -- c is on a; effects still applied, so on(b, a) holds after.
    assert [(f.step, f.action, f.unmet_preconditions) for f in report.failures] == [
        (2, "(stack b a)", ("(clear a)",)),
        (4, "(unstack b c)", ("(on b c)",)),
        (6, "(put-down c)", ("(holding c)",)),
    ]
    assert [(e.step, e.kind) for e in report.errors] == [(3, "unknown-action"), (5, "syntax")]
    assert report.failed_step == 2 and report.action == "(stack b a)"
    assert report.unmet_preconditions == ("(clear a)",)
    assert report.steps == 6
    assert report.states is not None and len(report.states) == 7
    assert ("on", "b", "a") in report.states[2]
    assert report.states[3] == report.states[2]  # the skipped step changes nothing
    assert report.unmet_goals == ("(on a b)", "(on b c)")


def test_all_errors_failed_step_is_first_of_either_kind() -> None:
    report = validate(BW, parse_plan("(fly)\n(pick-up b)\n(stack b c)\n(stack a b)\n"), all_errors=True)
    assert report.failed_step == 1 and report.action == "(fly)" and report.unmet_preconditions == ()
    assert [f.step for f in report.failures] == [4]


def test_to_json_fields() -> None:
    report = validate(BW, parse_plan("(unstack c a)\n(pick-up b)\n"), all_errors=True)
    record = report.to_json("plans/p.txt")
    json.dumps(record)
    assert record["plan"] == "plans/p.txt" and record["valid"] is False and record["failed_step"] == 2
    assert record["action"] == "(pick-up b)" and record["unmet_preconditions"] == ["(handempty)"]
    assert record["unmet_goals"] == ["(on a b)", "(on b c)"]
    assert record["errors"] == []
    assert record["failures"] == [{"step": 2, "action": "(pick-up b)", "unmet_preconditions": ["(handempty)"]}]
    first = validate(BW, parse_plan("(fly)")).to_json()
    assert first["errors"] == [{"step": 1, "kind": "unknown-action", "message": "unknown action 'fly'"}]
    assert "failures" not in first


def test_hundred_thousand_step_plan() -> None:
    plan = parse_plan("(pick-up b)\n(put-down b)\n" * 50_000 + BW_PLAN)
    report = validate(BW, plan)
    assert report.valid and report.steps == 100_006


# ---------------------------------------------------------------------------------------------
# Properties over random plans, against a naive reference executor written from the schemas.


def _reference(task: Task, plan: Plan) -> list[tuple[int, bool]]:
    """Per executable step (apply-regardless semantics): (step number, preconditions held)."""
    state: set[Atom] = set(task.init)
    outcome = []
    errors = {e.step for e in plan.syntax_errors}
    steps = iter(plan.steps)
    for number in range(1, len(plan.steps) + len(plan.syntax_errors) + 1):
        if number in errors:
            continue
        step = next(steps)
        schema = task.actions.get(step.name)
        if schema is None or len(step.args) != len(schema.parameters):
            continue
        if any(a not in task.objects or not task.is_instance(a, t) for a, (_, t) in zip(step.args, schema.parameters)):
            continue
        binding = {v: a for (v, _), a in zip(schema.parameters, step.args)}

        def sub(atom: Atom, binding: dict[str, str] = binding) -> Atom:
            return (atom[0], *(binding.get(x, x) for x in atom[1:]))

        ok = all(sub(a) in state for a in schema.pre_pos) and not any(sub(a) in state for a in schema.pre_neg)
        ok = ok and all((binding.get(left, left) == binding.get(right, right)) == pos for left, right, pos in schema.equalities)
        outcome.append((number, ok))
        for atom in schema.delete:
            state.discard(sub(atom))
        for atom in schema.add:
            state.add(sub(atom))
    return outcome


def _step_lines(task: Task) -> st.SearchStrategy[str]:
    names = [*task.actions, "fly"]
    objects = [*task.objects, "nowhere"]
    well_formed = st.builds(
        lambda name, args: "(" + " ".join([name, *args]) + ")",
        st.sampled_from(names),
        st.lists(st.sampled_from(objects), min_size=0, max_size=3),
    )
    typed_right = st.sampled_from(list(task.actions.values())).flatmap(
        lambda schema: st.tuples(*[st.sampled_from([o for o in task.objects if task.is_instance(o, t)])
                                   for _, t in schema.parameters]).map(
            lambda args, name=schema.name: "(" + " ".join([name, *args]) + ")"
        )
    )
    return st.one_of(typed_right, typed_right, typed_right, well_formed, st.just("(broken"))


def _plans(task: Task) -> st.SearchStrategy[Plan]:
    return st.lists(_step_lines(task), max_size=14).map(lambda lines: parse_plan("\n".join(lines)))


TASKS = st.sampled_from([BW, TYPED])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_modes_agree_with_reference_executor(data: st.DataObject) -> None:
    task = data.draw(TASKS)
    plan = data.draw(_plans(task))
    first = validate(task, plan)
    every = validate(task, plan, all_errors=True)
    reference = _reference(task, plan)
    failing = sorted([n for n, ok in reference if not ok] + [e.step for e in every.errors if e.step is not None])
    assert [f.step for f in every.failures] == [n for n, ok in reference if not ok]
    assert every.failed_step == (failing[0] if failing else None)
    assert first.failed_step == every.failed_step
    assert first.action == every.action and first.unmet_preconditions == every.unmet_preconditions
    if first.failed_step is not None:
        assert first.errors + first.failures and not first.unmet_goals
        assert len(first.errors) + len(first.failures) == 1
    if first.valid or every.valid:
        assert first.valid and every.valid
        assert first.to_json() | {"all_errors": True, "failures": []} == every.to_json()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_valid_iff_every_prefix_executes_and_goal_holds(data: st.DataObject) -> None:
    task = data.draw(TASKS)
    plan = data.draw(_plans(task).filter(lambda p: not p.syntax_errors))
    report = validate(task, plan, trace=True)
    executes = [validate(task, Plan(plan.steps[:k])).failed_step is None for k in range(len(plan.steps) + 1)]
    assert report.states is not None and report.states[0] == task.init
    final = report.states[-1]
    goal_holds = all((lit.atom in final) == lit.positive for lit in task.goal)
    assert report.valid == (all(executes) and goal_holds)
    if report.failed_step is not None:
        assert executes.index(False) == report.failed_step
        assert len(report.states) == report.failed_step
    else:
        assert len(report.states) == len(plan.steps) + 1
