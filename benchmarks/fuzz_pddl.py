"""The ``pddl`` fuzz kind: mutated domain/problem pairs, cross-checked by unified-planning and an S-expression check."""

from __future__ import annotations

import functools
import random
import re
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# benchmarks/ is not a package: make the sibling fuzz_* modules importable however this file is loaded
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_corpus import _WORD, Outcome, _refusal_or_raise, pick_base, samples, small_edit  # noqa: E402


PDDL_VOCAB = ["(", ")", "(", ")", " - ", "define", "domain", "problem", ":requirements", ":strips", ":typing",
              ":adl", ":negative-preconditions", ":equality", ":types", "either", "object", ":predicates",
              ":action", ":parameters", ":precondition", ":effect", "and", "not", "or", "=", "forall", "?x", "?y",
              ":objects", ":init", ":goal", ":constants", ":domain", "ghost", "a", "b", ";", "(either a b)", "\n"]


def make_pddl(rng: random.Random) -> tuple[str, str]:
    sample = rng.choice([*samples("blocksworld"), *samples("logistics"), *samples("mystery_blocksworld")])
    words = sorted(set(_WORD.findall(sample.domain_text + sample.problem_text)))
    vocab = [*PDDL_VOCAB, *words]
    domain, problem = sample.domain_text, sample.problem_text
    edit = (lambda text: small_edit(rng, text, vocab)) if rng.random() < 0.5 else (
        lambda text: pick_base(rng, [text], vocab, big=2_000))
    which = rng.random()
    if which < 0.45:
        problem = edit(problem)
    elif which < 0.9:
        domain = edit(domain)
    else:
        domain, problem = edit(domain), edit(problem)
    return domain, problem


def check_pddl(payload: tuple[str, str], _: Path) -> Outcome:
    from planner_loop.planning.task import parse_task

    domain, problem = payload

    def run() -> Outcome:
        task = parse_task(domain, problem)
        reason = independent_pddl_problem(domain, problem) or up_rejects(domain, problem)
        if reason and reason.startswith("unified-planning") and not up_rejects(*map(ascii_spaces, payload)):
            reason = None  # unified-planning reads only ASCII whitespace; the same file with it is fine
        if reason:
            return Outcome("malformed", reason)
        del task
        return Outcome("accepted")

    return _refusal_or_raise(run)


def ascii_spaces(text: str) -> str:
    """``text`` with every non-ASCII whitespace character (which Python's reader splits on) as a space."""
    return re.sub(r"[^\S\n\t\r ]", " ", text)


@functools.cache
def _up_environment() -> Any:
    # PDDL keeps objects, predicates and actions in separate name spaces; unified-planning by default
    # refuses an object named like an action. Repeated declarations are the independent check's job.
    from unified_planning.environment import Environment

    environment = Environment()
    environment.error_used_name = False
    return environment


def up_rejects(domain: str, problem: str) -> str | None:
    """Why unified-planning's PDDLReader refuses the pair, or None when it reads it."""
    from pyparsing import ParseBaseException
    from unified_planning.exceptions import UPException
    from unified_planning.io import PDDLReader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            PDDLReader(_up_environment()).parse_problem_string(domain, problem)
    except (UPException, ParseBaseException, SyntaxError) as error:
        return f"unified-planning refuses it: {type(error).__name__}: {str(error)[:160]}"
    except (RecursionError, KeyError, AttributeError, TypeError, ValueError):
        return None  # unified-planning's own limits and bugs (e.g. an untyped object in a typed problem): no verdict
    return None


SUPPORTED = {":strips", ":typing", ":negative-preconditions", ":equality"}


def sexpr(text: str) -> list[Any] | None:
    """Comment-free, lower-cased text as nested lists (iterative); None when the parentheses do not balance."""
    text = re.sub(r";[^\n]*", " ", text).lower()
    stack: list[list[Any]] = [[]]
    for token in re.findall(r"[()]|[^\s()]+", text):
        if token == "(":
            stack.append([])
        elif token == ")":
            if len(stack) == 1:
                return None
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token)
    return stack[0] if len(stack) == 1 else None


def _typed_names(items: list[Any]) -> list[tuple[str, Any]]:
    names: list[tuple[str, Any]] = []
    pending: list[str] = []
    i = 0
    while i < len(items):
        if items[i] == "-" and i + 1 < len(items):
            names += [(n, items[i + 1]) for n in pending]
            pending = []
            i += 2
            continue
        if isinstance(items[i], str):
            pending.append(items[i])
        i += 1
    return names + [(n, "object") for n in pending]


def _atoms(formula: Any) -> Iterator[list[Any]]:
    if not isinstance(formula, list) or not formula:
        return
    head = formula[0]
    if head in ("and", "not"):
        for part in formula[1:]:
            yield from _atoms(part)
    elif isinstance(head, str) and head != "=":
        yield formula


def independent_pddl_problem(domain: str, problem: str) -> str | None:
    """A problem the independent check finds in an accepted pair (None when it finds none)."""
    dom, prob = sexpr(domain), sexpr(problem)
    if dom is None or prob is None:
        return "unbalanced parentheses"
    dom = next((x for x in dom if isinstance(x, list) and x[:1] == ["define"]), None)
    prob = next((x for x in prob if isinstance(x, list) and x[:1] == ["define"]), None)
    if dom is None or prob is None:
        return "no (define ...)"
    sections = {x[0]: x[1:] for x in dom[1:] if isinstance(x, list) and x and isinstance(x[0], str)}
    psections = {x[0]: x[1:] for x in prob[1:] if isinstance(x, list) and x and isinstance(x[0], str)}
    for section in (sections, psections):
        extra = {r for r in section.get(":requirements", []) if isinstance(r, str)} - SUPPORTED
        if extra:
            return f"unsupported requirement {sorted(extra)[0]} accepted"
    types = {"object"} | {n for n, _ in _typed_names(sections.get(":types", []))}
    types |= {t for _, t in _typed_names(sections.get(":types", [])) if isinstance(t, str)}
    for section, names in ((sections, ":types"), (sections, ":constants"), (psections, ":objects")):
        declared = [n for n, _ in _typed_names(section.get(names, []))]
        if len(declared) != len(set(declared)):
            return f"a name declared twice in {names}"
    actions = [x[1] for x in dom[1:] if isinstance(x, list) and x[:1] == [":action"] and len(x) > 1]
    if len(actions) != len(set(map(str, actions))):
        return "an action declared twice"
    predicates: dict[str, int] = {}
    for p in sections.get(":predicates", []):
        if isinstance(p, list) and p and isinstance(p[0], str):
            if p[0] in predicates:
                return f"predicate {p[0]} declared twice"
            predicates[p[0]] = len(_typed_names(p[1:]))
            for _, t in _typed_names(p[1:]):
                if isinstance(t, str) and t not in types:
                    return f"predicate {p[0]} uses undeclared type {t}"
    constants = {n for n, _ in _typed_names(sections.get(":constants", []))}
    for action in (x for x in dom[1:] if isinstance(x, list) and x[:1] == [":action"]):
        keys = {action[i]: action[i + 1] for i in range(2, len(action) - 1) if isinstance(action[i], str)}
        params = {n for n, _ in _typed_names(keys.get(":parameters", []) or [])}
        for part in (keys.get(":precondition"), keys.get(":effect")):
            for atom in _atoms(part):
                if predicates.get(atom[0]) != len(atom) - 1:
                    return f"action {action[1]}: atom {atom} does not match a declared predicate"
                for arg in atom[1:]:
                    if not isinstance(arg, str) or (arg not in params and arg not in constants):
                        return f"action {action[1]}: undeclared argument {arg}"
    objects = constants | {n for n, _ in _typed_names(psections.get(":objects", []))}
    for n, t in _typed_names(psections.get(":objects", [])):
        if isinstance(t, str) and t not in types:
            return f"object {n} of undeclared type {t}"
    for section in (":init", ":goal"):
        for part in psections.get(section, []):
            for atom in _atoms(part):
                if predicates.get(atom[0]) != len(atom) - 1:
                    return f"{section}: atom {atom} does not match a declared predicate"
                if any(not isinstance(arg, str) or arg not in objects for arg in atom[1:]):
                    return f"{section}: atom {atom} uses an undeclared object"
    return None
