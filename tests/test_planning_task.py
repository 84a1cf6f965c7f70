"""Loading PDDL into a Task: the supported fragment, every refusal, grounding and PlanBench files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from helpers.shared_data import PLANBENCH_INSTANCES

from planner_loop.errors import PDDLError
from planner_loop.planning import GroundingError, applicable_actions, load_task, parse_task

FIXTURES = Path(__file__).parent / "fixtures" / "planning"
PLANBENCH = PLANBENCH_INSTANCES

BW_DOMAIN = (FIXTURES / "bw-domain.pddl").read_text()
BW_PROBLEM = (FIXTURES / "bw-3.pddl").read_text()
TYPED_DOMAIN = (FIXTURES / "gripper-typed-domain.pddl").read_text()
TYPED_PROBLEM = (FIXTURES / "gripper-typed-problem.pddl").read_text()


def test_blocks_world_fixture_loads_in_file_order() -> None:
    task = load_task(FIXTURES / "bw-domain.pddl", FIXTURES / "bw-3.pddl")
    assert task.name == "bw-3" and task.domain_name == "blocks"
    assert list(task.actions) == ["pick-up", "put-down", "stack", "unstack"]
    assert list(task.predicates) == ["on", "ontable", "clear", "handempty", "holding"]
    assert list(task.objects) == ["a", "b", "c"]
    assert set(task.objects.values()) == {"object"}
    assert ("on", "c", "a") in task.init and ("handempty",) in task.init
    assert [lit.to_pddl() for lit in task.goal] == ["(on a b)", "(on b c)"]
    assert task.goal_atoms() == {("on", "a", "b"), ("on", "b", "c")}
    assert task.domain_file == FIXTURES / "bw-domain.pddl"


def test_typed_fixture_types_constants_either() -> None:
    task = load_task(FIXTURES / "gripper-typed-domain.pddl", FIXTURES / "gripper-typed-problem.pddl")
    assert task.objects["home"] == "room"  # a domain constant
    assert task.objects["b1"] == "ball" and task.objects["left"] == "gripper"
    assert task.types["room"] == "place" and task.types["place"] == "object" and task.types["gripper"] == "object"
    assert task.predicates["marked"] == ("(either ball room)",)
    assert task.is_instance("kitchen", "place") and task.is_instance("kitchen", "object")
    assert not task.is_instance("kitchen", "thing")
    assert task.is_instance("b1", "(either ball room)") and not task.is_instance("left", "(either ball room)")
    move = task.actions["move"]
    assert move.equalities == (("?from", "?to", False),)
    assert move.pre_neg == (("locked", "?to"),)
    assert [lit.to_pddl() for lit in task.goal] == ["(at b1 home)", "(not (carry b2 left))", "(marked home)"]


def test_names_are_case_insensitive() -> None:
    lower = parse_task(TYPED_DOMAIN, TYPED_PROBLEM)
    upper = parse_task(TYPED_DOMAIN.upper(), TYPED_PROBLEM.upper())
    assert upper.init == lower.init and upper.goal == lower.goal
    assert dict(upper.objects) == dict(lower.objects) and dict(upper.actions) == dict(lower.actions)
    assert upper.ground("MOVE", ("Home", "KITCHEN")) == lower.ground("move", ("home", "kitchen"))


def test_ground_is_cached_and_substitutes() -> None:
    task = parse_task(BW_DOMAIN, BW_PROBLEM)
    action = task.ground("unstack", ("c", "a"))
    assert task.ground("unstack", ["c", "a"]) is action
    assert action.pre_pos == {("on", "c", "a"), ("clear", "c"), ("handempty",)}
    assert action.add == {("holding", "c"), ("clear", "a")}
    assert action.delete == {("on", "c", "a"), ("clear", "c"), ("handempty",)}
    assert action.to_pddl() == "(unstack c a)"


@pytest.mark.parametrize(
    ("name", "args", "kind"),
    [
        ("fly", ("a",), "unknown-action"),
        ("stack", ("a",), "arity"),
        ("stack", ("a", "b", "c"), "arity"),
        ("pick-up", ("z",), "unknown-object"),
    ],
)
def test_ground_errors_untyped(name: str, args: tuple[str, ...], kind: str) -> None:
    task = parse_task(BW_DOMAIN, BW_PROBLEM)
    with pytest.raises(GroundingError) as caught:
        task.ground(name, args)
    assert caught.value.kind == kind


def test_ground_type_mismatch_and_equality() -> None:
    task = parse_task(TYPED_DOMAIN, TYPED_PROBLEM)
    with pytest.raises(GroundingError) as caught:
        task.ground("pick", ("b1", "kitchen", "b2"))
    assert caught.value.kind == "type-mismatch" and "gripper" in caught.value.message
    assert task.ground("move", ("home", "home")).static_failures == ("(not (= home home))",)
    assert task.ground("move", ("home", "hall")).static_failures == ()


def _random_walk_states(task, steps: int, rng: random.Random):  # type: ignore[no-untyped-def]
    state = task.init
    for _ in range(steps):
        yield state
        options = list(applicable_actions(task, state))
        if not options:
            return
        action = rng.choice(options)
        state = (state - action.delete) | action.add


@pytest.mark.parametrize("fixture", ["bw", "typed"])
def test_applicable_actions_matches_brute_force(fixture: str) -> None:
    task = parse_task(BW_DOMAIN, BW_PROBLEM) if fixture == "bw" else parse_task(TYPED_DOMAIN, TYPED_PROBLEM)
    from itertools import product

    every = []
    for schema in task.actions.values():
        for args in product(task.objects, repeat=len(schema.parameters)):
            try:
                every.append(task.ground(schema.name, args))
            except GroundingError:
                continue
    for state in _random_walk_states(task, 40, random.Random(3)):
        brute = {
            a.to_pddl() for a in every
            if a.pre_pos <= state and a.pre_neg.isdisjoint(state) and not a.static_failures
        }
        assert {a.to_pddl() for a in applicable_actions(task, state)} == brute
        assert brute  # both fixtures always have a move


def _replace_once(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


DOMAIN_ERRORS = [
    # (case id, domain text, line, message fragment)
    ("syntax", _replace_once(BW_DOMAIN, "(:action put-down", "(:action put-down)"), 9, "syntax error"),
    ("missing paren at end", BW_DOMAIN.rstrip()[:-1], None, "syntax error"),
    ("undeclared predicate", _replace_once(BW_DOMAIN, "(holding ?x)\n", "(holds ?x)\n"), 11,
     "undeclared predicate 'holds'"),
    ("predicate arity", _replace_once(BW_DOMAIN, "(clear ?x) (ontable ?x) (handempty))", "(clear ?x ?x) (ontable ?x) (handempty))"),
     7, "takes 1 argument"),
    ("undeclared variable", _replace_once(BW_DOMAIN, "(holding ?x)\n", "(holding ?z)\n"), 11, "undeclared variable ?z"),
    ("undeclared constant", _replace_once(BW_DOMAIN, "(holding ?x)\n", "(holding table)\n"), 11,
     "undeclared constant 'table'"),
    ("unsupported requirement", _replace_once(BW_DOMAIN, "(:requirements :strips)", "(:requirements :strips\n :conditional-effects)"),
     4, "unsupported requirement :conditional-effects"),
    ("adl requirement", _replace_once(BW_DOMAIN, ":strips", ":adl"), 3, "unsupported requirement :adl"),
    ("or", _replace_once(BW_DOMAIN, "(and (clear ?x) (ontable ?x) (handempty))", "(or (clear ?x) (ontable ?x))"), 7,
     "disjunction"),
    ("forall undeclared", _replace_once(BW_DOMAIN, "(holding ?x)\n", "(forall (?y) (clear ?y))\n"), 11, "forall"),
    ("exists", _replace_once(BW_DOMAIN, "(holding ?x)\n", "(exists (?y) (clear ?y))\n"), 11, "exists"),
    ("when", _replace_once(BW_DOMAIN, "(and (ontable ?x) (clear ?x)", "(and (when (clear ?x) (ontable ?x)) (clear ?x)"), 12,
     "conditional effect"),
    ("imply", _replace_once(BW_DOMAIN, "(holding ?x)\n", "(imply (clear ?x) (holding ?x))\n"), 11, "imply"),
    ("numeric", _replace_once(BW_DOMAIN, "(:action pick-up", "(:functions (total-cost))\n  (:action pick-up"), 5,
     "numeric fluents"),
    ("derived", _replace_once(BW_DOMAIN, "(:action pick-up", "(:derived (above ?x ?y) (on ?x ?y))\n  (:action pick-up"), 5,
     "derived predicates"),
    ("negative without requirement", _replace_once(BW_DOMAIN, "(holding ?x)\n", "(not (holding ?x))\n"), 11,
     ":negative-preconditions"),
    ("equality without requirement", _replace_once(BW_DOMAIN, "(and (holding ?x) (clear ?y))", "(and (holding ?x) (clear ?y) (not (= ?x ?y)))"),
     None, ":equality"),
    ("duplicate action", _replace_once(BW_DOMAIN, "(:action put-down", "(:action pick-up"), 9, "declared twice"),
    ("duplicate predicate", _replace_once(BW_DOMAIN, "(handempty) (holding ?x))", "(handempty) (holding ?x) (on ?x))"), 4,
     "declared twice"),
    ("types without typing", _replace_once(TYPED_DOMAIN, ":typing ", ""), None, "typing"),
    ("undeclared parameter type", _replace_once(TYPED_DOMAIN, "(?b - ball ?r - room ?g - gripper)\n    :precondition (and (at ?b ?r)",
                                                "(?b - bowl ?r - room ?g - gripper)\n    :precondition (and (at ?b ?r)"),
     None, "bowl"),
]


@pytest.mark.parametrize(("case", "domain", "line", "fragment"), DOMAIN_ERRORS, ids=[c[0] for c in DOMAIN_ERRORS])
def test_domain_errors_name_file_and_line(case: str, domain: str, line: int | None, fragment: str) -> None:
    problem = TYPED_PROBLEM if "type" in case else BW_PROBLEM
    with pytest.raises(PDDLError) as caught:
        parse_task(domain, problem, domain_source="dom.pddl", problem_source="prob.pddl")
    error = caught.value
    assert error.source == "dom.pddl"
    assert fragment in error.message
    if line is not None:
        assert error.line == line, error.describe()
    assert error.describe().startswith("dom.pddl")


PROBLEM_ERRORS = [
    ("syntax", _replace_once(BW_PROBLEM, "(:objects a b c)", "(:objects a b c"), 5, "syntax error"),
    ("missing last paren", BW_PROBLEM.rstrip()[:-1], None, "syntax error"),
    ("undeclared predicate", _replace_once(BW_PROBLEM, "(clear b))", "(free b))"), 5, "undeclared predicate 'free'"),
    ("undeclared object", _replace_once(BW_PROBLEM, "(on b c)", "(on b d)"), 6, "undeclared object 'd'"),
    ("arity in init", _replace_once(BW_PROBLEM, "(handempty)", "(handempty a)"), 5, "takes 0 argument"),
    ("arity in goal", _replace_once(BW_PROBLEM, "(on b c)", "(on b)"), 6, "takes 2 argument"),
    ("undeclared type", _replace_once(BW_PROBLEM, "(:objects a b c)", "(:objects a b c - block)"), 4,
     "undeclared type 'block'"),
    ("domain name", _replace_once(BW_PROBLEM, "(:domain blocks)", "(:domain blocksworld)"), 3, "'blocksworld'"),
    ("disjunctive goal", _replace_once(BW_PROBLEM, "(:goal (and", "(:goal (or"), 6, "disjunction"),
    ("negative init", _replace_once(BW_PROBLEM, "(handempty)", "(not (holding a)) (handempty)"), 5, "only positive"),
    ("negative goal without requirement", _replace_once(BW_PROBLEM, "(on b c)", "(not (on b c))"), 6,
     ":negative-preconditions"),
    ("numeric init", _replace_once(BW_PROBLEM, "(handempty)", "(= (cost) 2) (handempty)"), 5, "only positive"),
    ("metric", _replace_once(BW_PROBLEM, "(on b c))))", "(on b c)))\n  (:metric minimize (total-cost)))"), 7,
     "metric"),
]


@pytest.mark.parametrize(("case", "problem", "line", "fragment"), PROBLEM_ERRORS, ids=[c[0] for c in PROBLEM_ERRORS])
def test_problem_errors_name_file_and_line(case: str, problem: str, line: int | None, fragment: str) -> None:
    with pytest.raises(PDDLError) as caught:
        parse_task(BW_DOMAIN, problem, domain_source="dom.pddl", problem_source="prob.pddl")
    error = caught.value
    assert error.source == "prob.pddl" and fragment in error.message, error.describe()
    if line is not None:
        assert error.line == line, error.describe()


TYPED_PROBLEM_ERRORS = [
    ("argument type in init", _replace_once(TYPED_PROBLEM, "(at b1 kitchen)", "(at kitchen b1)"), 6, "must be of type 'ball'"),
    ("argument type in goal", _replace_once(TYPED_PROBLEM, "(at b1 home)", "(at b1 left)"), 8, "must be of type 'room'"),
    ("undeclared object type", _replace_once(TYPED_PROBLEM, "left right - gripper", "left right - hand"), 5,
     "undeclared type 'hand'"),
]


@pytest.mark.parametrize(("case", "problem", "line", "fragment"), TYPED_PROBLEM_ERRORS,
                         ids=[c[0] for c in TYPED_PROBLEM_ERRORS])
def test_typed_problem_errors(case: str, problem: str, line: int, fragment: str) -> None:
    with pytest.raises(PDDLError) as caught:
        parse_task(TYPED_DOMAIN, problem, domain_source="dom.pddl", problem_source="prob.pddl")
    assert caught.value.source == "prob.pddl" and fragment in caught.value.message
    assert caught.value.line == line, caught.value.describe()


def test_unreadable_file_is_a_pddl_error(tmp_path: Path) -> None:
    with pytest.raises(PDDLError) as caught:
        load_task(tmp_path / "missing.pddl", FIXTURES / "bw-3.pddl")
    assert caught.value.source == str(tmp_path / "missing.pddl")


def test_negative_goal_and_equality_with_requirements() -> None:
    task = parse_task(TYPED_DOMAIN, TYPED_PROBLEM)
    assert any(not lit.positive for lit in task.goal)


needs_planbench = pytest.mark.needs_planbench("plan-bench/instances")


@needs_planbench
def test_all_planbench_blocksworld_instances_load() -> None:
    domain = PLANBENCH / "blocksworld" / "generated_domain.pddl"
    files = sorted((PLANBENCH / "blocksworld").glob("generated_basic*/instance-*.pddl"))
    assert len(files) == 602
    for file in files:
        task = load_task(domain, file)
        assert task.goal and task.init and set(task.actions) == {"pick-up", "put-down", "stack", "unstack"}


@needs_planbench
@pytest.mark.parametrize("folder", ["blocksworld/mystery", "logistics"])
def test_planbench_mystery_and_logistics_instances_load(folder: str) -> None:
    domain = PLANBENCH / folder / "generated_domain.pddl"
    files = sorted((PLANBENCH / folder).glob("generated_basic/instance-*.pddl"))
    assert files
    for file in files:
        assert load_task(domain, file).goal


@pytest.mark.parametrize("precondition", ["", ":precondition ()", ":precondition (and)"])
def test_empty_or_missing_precondition_is_the_empty_condition(precondition: str) -> None:
    domain = ("(define (domain d) (:requirements :strips) (:predicates (p ?x) (q))\n"
              f"  (:action go :parameters (?x) {precondition} :effect (and (p ?x) (not (q)))))")
    task = parse_task(domain, "(define (problem p) (:domain d) (:objects a) (:init (q)) (:goal (and (p a))))")
    schema = task.actions["go"]
    assert (schema.pre_pos, schema.pre_neg, schema.add, schema.delete) == ((), (), (("p", "?x"),), (("q",),))


def test_depots_type_hierarchy_loads() -> None:
    task = load_task(FIXTURES / "depots-domain.pddl", FIXTURES / "depots-problem.pddl")
    assert task.types["crate"] == "surface" and task.types["surface"] == "locatable"
    assert task.is_instance("crate0", "locatable") and not task.is_instance("crate0", "place")
    with pytest.raises(GroundingError) as caught:
        task.ground("drive", ("truck0", "depot0", "crate0"))
    assert caught.value.kind == "type-mismatch"
