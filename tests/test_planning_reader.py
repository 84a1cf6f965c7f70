"""The PDDL reader refuses malformed files with file:line, keeps no state between parses, and never
leaves ``sys.tracebacklimit`` changed; a fuzz run over mutated committed files."""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner_loop.errors import PDDLError
from planner_loop.planning import parse_plan, validate
from planner_loop.planning.reader import load_domain, parse_domain, parse_task
from planner_loop.resources import builtin_dir

FIXTURES = Path(__file__).parent / "fixtures" / "planning"
TYPED_DOMAIN = (FIXTURES / "gripper-typed-domain.pddl").read_text()
TYPED_PROBLEM = (FIXTURES / "gripper-typed-problem.pddl").read_text()
BW_DOMAIN = (FIXTURES / "bw-domain.pddl").read_text()
BW_PROBLEM = (FIXTURES / "bw-3.pddl").read_text()


def _line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth occurrence of ``needle`` in ``text``."""
    pos = -1
    for _ in range(nth):
        pos = text.index(needle, pos + 1)
    return text.count("\n", 0, pos) + 1


def _sub(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# (case, which file is broken, domain text, problem text, text located on the reported line, nth, message part)
_DOMAIN_CASES = [
    ("predicate of an undeclared type", "(locked ?r - ghost)", "(locked ?r - room)", "undeclared type 'ghost'"),
    ("parameter of an undeclared type", "?from - ghost", "?from - room", "undeclared type 'ghost'"),
    ("undeclared parent type", "ball - ghost", "ball - thing", "undeclared type 'ghost'"),
    ("constant of an undeclared type", "(:constants home - ghost)", "(:constants home - room)", "undeclared type"),
    ("unsupported requirement", ":equality :adl)", ":equality)", "unsupported requirement :adl"),
    ("duplicate constant", "(:constants home home - room)", "(:constants home - room)", "'home' declared twice"),
    ("either for a constant", "(:constants home - (either room ball))", "(:constants home - room)", "either"),
    ("duplicate predicate parameter", "(free ?g ?g - gripper)", "(free ?g - gripper)", "?g declared twice"),
    ("undeclared predicate in a precondition", "(and (at-robbyx home) (locked ?r))", "(and (at-robby home) (locked ?r))",
     "undeclared predicate"),
    ("disjunction", "(or (at-robby ?r) (free ?g))", "(and (at ?b ?r) (at-robby ?r) (free ?g))", "disjunction"),
]
_PROBLEM_CASES = [
    ("duplicate objects", "kitchen kitchen - room", "kitchen hall - room", "'kitchen' declared twice"),
    ("object of an undeclared type", "b1 b2 - ghost", "b1 b2 - ball", "undeclared type 'ghost'"),
    ("either for an object", "b1 b2 - (either ball room)", "b1 b2 - ball", "either"),
    ("undeclared predicate in :init", "(lockd hall)", "(locked hall)", "undeclared predicate 'lockd'"),
    ("undeclared object in :goal", "(at b9 home)", "(at b1 home)", "undeclared object 'b9'"),
    ("unsupported requirement in a problem", "(:requirements :fluents)\n  (:objects", "(:objects",
     "unsupported requirement :fluents"),
    ("wrong domain name", "(:domain gripper-typo)", "(:domain gripper-typed)", "problem is for domain"),
    ("type mismatch in :init", "(free kitchen)", "(free left)", "must be of type 'gripper'"),
]


@pytest.mark.parametrize(("case", "broken", "good", "message"), _DOMAIN_CASES, ids=[c[0] for c in _DOMAIN_CASES])
def test_malformed_domain_is_refused_with_its_line(case: str, broken: str, good: str, message: str) -> None:
    domain = _sub(TYPED_DOMAIN, good, broken)
    with pytest.raises(PDDLError) as caught:
        parse_task(domain, TYPED_PROBLEM, domain_source="d.pddl", problem_source="p.pddl")
    error = caught.value
    assert error.source == "d.pddl" and message in error.message, error.describe()
    assert error.line == _line_of(domain, broken), error.describe()


@pytest.mark.parametrize(("case", "broken", "good", "message"), _PROBLEM_CASES, ids=[c[0] for c in _PROBLEM_CASES])
def test_malformed_problem_is_refused_with_its_line(case: str, broken: str, good: str, message: str) -> None:
    problem = _sub(TYPED_PROBLEM, good, broken)
    with pytest.raises(PDDLError) as caught:
        parse_task(TYPED_DOMAIN, problem, domain_source="d.pddl", problem_source="p.pddl")
    error = caught.value
    assert error.source == "p.pddl" and message in error.message, error.describe()
    assert error.line == _line_of(problem, broken.splitlines()[0]), error.describe()


def test_duplicate_untyped_object_names_the_second_one() -> None:
    problem = _sub(BW_PROBLEM, "(:objects a b c)", "(:objects a b\n  c a)")
    with pytest.raises(PDDLError, match="'a' declared twice") as caught:
        parse_task(BW_DOMAIN, problem)
    assert caught.value.line == _line_of(problem, "c a)")


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    goal = "(and " * 5000 + "(clear a)" + ")" * 5000
    problem = BW_PROBLEM[: BW_PROBLEM.index("(:goal")] + f"(:goal {goal}))"
    with pytest.raises(PDDLError, match="nested more than"):
        parse_task(BW_DOMAIN, problem)


def test_a_failed_typed_parse_does_not_break_the_next_good_one() -> None:
    # The pddl library's shared transformer kept its type table after a failure, so every later
    # typed domain failed with "parser is in an unexpected state".
    bad = _sub(TYPED_DOMAIN, "(:constants home - room)", "(:constants home - (either room ball))")
    for _ in range(3):
        with pytest.raises(PDDLError):
            parse_domain(bad, "bad.pddl")
        broken = _sub(TYPED_DOMAIN, "(free ?g - gripper)", "(free ?g - ghost)")
        with pytest.raises(PDDLError):
            parse_domain(broken, f"broken-{_}.pddl")  # a new source: not served from the cache
        task = parse_task(TYPED_DOMAIN + f"\n; {_}\n", TYPED_PROBLEM)  # new text: parsed afresh
        assert task.objects["b1"] == "ball"


def test_tracebacklimit_is_left_alone() -> None:
    had = hasattr(sys, "tracebacklimit")
    before = getattr(sys, "tracebacklimit", None)
    for text in (_sub(TYPED_DOMAIN, "(free ?g - gripper)", "(free ?g - ghost)"), "(define (domain", TYPED_DOMAIN):
        try:
            parse_domain(text, "x.pddl")
        except PDDLError:
            pass
        assert hasattr(sys, "tracebacklimit") == had and getattr(sys, "tracebacklimit", None) == before


def test_every_committed_domain_reads() -> None:
    for folder in sorted(builtin_dir("domains").iterdir()):
        if (folder / "domain.pddl").is_file():
            domain = load_domain(folder / "domain.pddl")
            assert domain.actions and domain.predicates


# --- fuzz: mutations of committed files are either refused cleanly or read correctly ---

_COMMITTED = [
    (TYPED_DOMAIN, TYPED_PROBLEM),
    (BW_DOMAIN, BW_PROBLEM),
    *[((folder / "domain.pddl").read_text(), problem.read_text())
      for folder in sorted(builtin_dir("domains").iterdir()) if (folder / "domain.pddl").is_file()
      for problem in sorted((builtin_dir("problems") / folder.name).rglob("*.pddl"))[:1]],
]
_TOKENS = ["(", ")", "-", "?x", "either", "object", "ghost", "(not", "(=", ":typing", ":adl", "a", "a a", "\n", ";"]


def _mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 3)):
        pos = rng.randrange(len(text) + 1)
        kind = rng.random()
        if kind < 0.35:
            text = text[:pos] + text[pos + rng.randint(1, 12):]
        elif kind < 0.7:
            text = text[:pos] + rng.choice(_TOKENS) + " " + text[pos:]
        else:
            start = rng.randrange(len(text) + 1)
            text = text[:pos] + text[start:start + rng.randint(1, 30)] + text[pos:]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(_COMMITTED) - 1), st.integers(0, 2**32), st.booleans())
def test_fuzzed_pddl_is_refused_cleanly_or_read_correctly(pair: int, seed: int, mutate_domain: bool) -> None:
    domain, problem = _COMMITTED[pair]
    rng = random.Random(seed)
    if mutate_domain:
        domain = _mutate(domain, rng)
    else:
        problem = _mutate(problem, rng)
    started = time.perf_counter()
    try:
        task = parse_task(domain, problem, domain_source="d.pddl", problem_source="p.pddl")
    except PDDLError as error:
        assert error.source in ("d.pddl", "p.pddl") and error.message
        assert error.line is None or error.line >= 1
        return
    finally:
        assert time.perf_counter() - started < 2.0
    # Accepted: the task must be internally consistent (every name it uses is declared).
    for atom in (*task.init, *(lit.atom for lit in task.goal)):
        assert atom[0] in task.predicates and len(atom) - 1 == len(task.predicates[atom[0]])
        assert all(arg in task.objects for arg in atom[1:])
    for typ in task.objects.values():
        assert typ in task.types
    for schema in task.actions.values():
        variables = {v for v, _ in schema.parameters}
        for atom in (*schema.pre_pos, *schema.pre_neg, *schema.add, *schema.delete):
            assert atom[0] in task.predicates
            assert all(t in variables or t in task.objects for t in atom[1:])
    assert validate(task, parse_plan("")).steps == 0
