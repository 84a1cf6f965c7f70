"""Reading PDDL: a domain file and a problem file -> a checked :class:`~planner_loop.planning.strips.Task`.

Supported fragment: STRIPS with ``:typing`` (including ``either`` for parameters, predicate
arguments and constants), ``:negative-preconditions``, ``:equality`` and constants. Anything else
(other requirements, ``or``/``forall``/``exists``/``when``/``imply``, numeric fluents, derived
predicates, ...) is refused, and so is every name used without being declared (types, predicates,
constants, objects, variables) and every name declared twice -- each with a ``PDDLError`` naming the
file and the line; a task is never silently mis-read. Text checks and the ``pddl`` library's parser
are in :mod:`planner_loop.planning.pddl_text`; this module checks what the parser returns.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from planner_loop.errors import PDDLError
from planner_loop.planning.pddl_text import Source, check_text, name_re, parse_library
from planner_loop.planning.strips import ROOT_TYPE, ActionSchema, Atom, Literal, Task, type_options


def _term_name(term: Any) -> str:
    from pddl.logic.terms import Variable

    name = str(term.name).lower()
    return "?" + name if isinstance(term, Variable) else name


def _single_type(tags: Any) -> str:
    tags = sorted(str(t).lower() for t in tags)
    if not tags:
        return ROOT_TYPE
    if len(tags) == 1:
        return tags[0]
    return "(either " + " ".join(tags) + ")"


def _literals(formula: Any, src: Source, where: str, start: int) -> Iterator[tuple[str, Any, bool]]:
    """Flatten a conjunction into ("atom"|"eq", pddl-object, positive); refuse anything else."""
    from pddl.logic.base import And, Not, Or
    from pddl.logic.predicates import EqualTo, Predicate

    if formula is None or (isinstance(formula, (And, Or)) and not formula.operands):
        return  # "()" and "(and)": the empty condition
    if isinstance(formula, And):
        for operand in formula.operands:
            yield from _literals(operand, src, where, start)
    elif isinstance(formula, Predicate):
        yield "atom", formula, True
    elif isinstance(formula, EqualTo):
        yield "eq", formula, True
    elif isinstance(formula, Not) and isinstance(formula.argument, Predicate):
        yield "atom", formula.argument, False
    elif isinstance(formula, Not) and isinstance(formula.argument, EqualTo):
        yield "eq", formula.argument, False
    else:
        kind = type(formula).__name__
        raise src.error(f"unsupported formula in {where}: {kind} is outside the STRIPS fragment",
                        r"\(\s*(not\s*\(\s*)?(and|not)\b", start)


@dataclass(frozen=True)
class PDDLDomain:
    """A checked domain file: names lower-cased, in the file's order."""

    name: str
    requirements: frozenset[str]
    types: Mapping[str, str | None]  # type -> parent (``object`` -> None)
    constants: Mapping[str, str]  # constant -> type
    predicates: Mapping[str, tuple[str, ...]]  # name -> parameter types
    actions: Mapping[str, ActionSchema]

    @property
    def typed(self) -> bool:
        """Whether the domain declares types."""
        return len(self.types) > 1

    @property
    def static_predicates(self) -> frozenset[str]:
        """Predicates no action adds or deletes (type predicates, road maps, ...)."""
        changed = {atom[0] for action in self.actions.values() for atom in (*action.add, *action.delete)}
        return frozenset(self.predicates) - changed


def _check_type_declared(typ: str, types: Mapping[str, str | None], src: Source, what: str) -> None:
    for option in type_options(typ):
        if option not in types:
            raise src.error(f"undeclared type '{option}' ({what})", r"-\s*(\(\s*either[^)]*)?" + name_re(option))


def _build_domain(domain: Any, src: Source, requirements: frozenset[str]) -> PDDLDomain:
    name = str(domain.name).lower()
    typing = ":typing" in requirements
    types: dict[str, str | None] = {ROOT_TYPE: None}
    for typ, parent in domain.types.items():
        typ = str(typ).lower()
        if typ != ROOT_TYPE:
            types[typ] = str(parent).lower() if parent is not None else ROOT_TYPE
    for typ, parent in types.items():
        if parent is not None and parent not in types:
            raise src.error(f"undeclared type '{parent}' (parent of '{typ}')", r"-\s*" + name_re(parent),
                            src.pos_of(r"\(\s*:types\b"))
    if len(types) > 1 and not typing:
        raise src.error("types declared but :typing is not in :requirements", r"\(\s*:types\b")

    constants: dict[str, str] = {}
    section = src.pos_of(r"\(\s*:constants\b")
    for constant in sorted(domain.constants, key=lambda c: src.pos_of(name_re(str(c.name).lower()), section)):
        typ = _single_type(constant.type_tags)
        _check_type_declared(typ, types, src, f"constant '{constant.name}'")
        constants[str(constant.name).lower()] = typ

    predicates: dict[str, tuple[str, ...]] = {}
    # The pddl package returns sets; keep the file's order so tasks are the same in every process.
    section = src.pos_of(r"\(\s*:predicates\b")
    _refuse_repeated_predicate(src, section)
    for predicate in sorted(domain.predicates,
                            key=lambda p: src.pos_of(r"\(\s*" + re.escape(str(p.name).lower()) + r"(?![\w-])", section)):
        pname = str(predicate.name).lower()
        where = r"\(\s*" + re.escape(pname) + r"(?![\w-])"
        if pname in predicates:
            raise src.error(f"predicate '{pname}' declared twice", where, src.pos_of(where, section) + 1)
        variables = [str(t.name).lower() for t in predicate.terms]
        for var in variables:
            if variables.count(var) > 1:
                raise src.error(f"predicate '{pname}': parameter ?{var} declared twice", where, section)
        ptypes = tuple(_single_type(t.type_tags) for t in predicate.terms)
        for typ in ptypes:
            _check_type_declared(typ, types, src, f"predicate '{pname}'")
        predicates[pname] = ptypes

    declared_actions = re.findall(r"\(\s*:action\s+([^\s()]+)", src.text)
    for action_name in declared_actions:
        if declared_actions.count(action_name) > 1:
            raise src.error(f"action '{action_name}' declared twice",
                            r"\(\s*:action\s+" + re.escape(action_name) + r"(?![\w-])",
                            src.pos_of(r"\(\s*:action\s+" + re.escape(action_name) + r"(?![\w-])") + 1)

    actions: dict[str, ActionSchema] = {}
    for action in sorted(domain.actions, key=lambda a: src.pos_of(
            r"\(\s*:action\s+" + re.escape(str(a.name).lower()) + r"(?![\w-])")):
        schema = _build_action(action, src, requirements, types, constants, predicates)
        actions[schema.name] = schema
    return PDDLDomain(name, requirements, MappingProxyType(types), MappingProxyType(constants),
                   MappingProxyType(predicates), MappingProxyType(actions))


def _refuse_repeated_predicate(src: Source, section: int) -> None:
    # The library keeps predicates in a set, so an exact repeat of a declaration would vanish unseen.
    depth, seen = 0, set()
    for match in re.compile(r"[()]|[^\s()]+").finditer(src.text, section):
        token = match.group()
        if token in "()":
            depth += 1 if token == "(" else -1
            if depth == 0:
                return
        elif depth == 2 and src.text[src.text.rfind("(", 0, match.start()):match.start()].strip() == "(":
            if token in seen:
                raise PDDLError(f"predicate '{token}' declared twice", source=src.name, line=src.line_at(match.start()))
            seen.add(token)


def _fits(given: str, expected: str, types: Mapping[str, str | None]) -> bool:
    """Whether every option of type ``given`` is (a subtype of) an option of ``expected``."""
    targets = set(type_options(expected))
    for option in type_options(given):
        seen: set[str] = set()
        current: str | None = option
        while current is not None and current not in targets and current not in seen:
            seen.add(current)
            current = types.get(current)
        if current is None or current not in targets:
            return False
    return True


def _refuse_repeated_parameter(src: Source, aname: str, start: int) -> None:
    # The library keeps parameters in a mapping, so "(?x ?x)" would silently become one parameter.
    match = re.compile(r":parameters\s*\(").search(src.text, start)
    if match is None:
        return
    depth, end = 1, match.end()
    while end < len(src.text) and depth:
        depth += {"(": 1, ")": -1}.get(src.text[end], 0)
        end += 1
    seen: set[str] = set()
    for var in re.finditer(r"\?[^\s()]+", src.text[match.end():end]):
        if var.group() in seen:
            raise PDDLError(f"action '{aname}': parameter {var.group()} declared twice", source=src.name,
                            line=src.line_at(match.end() + var.start()))
        seen.add(var.group())


def _build_action(action: Any, src: Source, requirements: frozenset[str], types: Mapping[str, str | None],
                  constants: Mapping[str, str], predicates: Mapping[str, tuple[str, ...]]) -> ActionSchema:
    aname = str(action.name).lower()
    start = src.pos_of(r"\(\s*:action\s+" + re.escape(aname) + r"(?![\w-])")
    params: list[tuple[str, str]] = []
    _refuse_repeated_parameter(src, aname, start)
    for parameter in action.parameters:
        var = "?" + str(parameter.name).lower()
        if any(var == v for v, _ in params):
            raise src.error(f"action '{aname}': parameter {var} declared twice", re.escape(var), start)
        typ = _single_type(parameter.type_tags)
        _check_type_declared(typ, types, src, f"parameter {var} of action '{aname}'")
        params.append((var, typ))
    variables = {v for v, _ in params}

    def term(t: Any, context: str) -> str:
        value = _term_name(t)
        if value.startswith("?"):
            if value not in variables:
                raise src.error(f"action '{aname}': {context} uses undeclared variable {value}",
                                re.escape(value) + r"(?![\w-])", start)
        elif value not in constants:
            raise src.error(f"action '{aname}': {context} uses undeclared constant '{value}'", name_re(value), start)
        return value

    def atom(p: Any, context: str) -> Atom:
        pname = str(p.name).lower()
        if pname not in predicates:
            raise src.error(f"action '{aname}': {context} uses undeclared predicate '{pname}'",
                            r"\(\s*" + re.escape(pname) + r"(?![\w-])", start)
        terms = tuple(term(t, context) for t in p.terms)
        if len(terms) != len(predicates[pname]):
            raise src.error(f"action '{aname}': {context}: predicate '{pname}' takes {len(predicates[pname])} "
                            f"argument(s), got {len(terms)}", r"\(\s*" + re.escape(pname) + r"(?![\w-])", start)
        for position, (value, expected) in enumerate(zip(terms, predicates[pname]), start=1):
            given = dict(params).get(value) or constants[value]
            if not _fits(given, expected, types):
                raise src.error(f"action '{aname}': {context}: argument {position} of '{pname}' must be of type "
                                f"'{expected}', {value} is '{given}'", r"\(\s*" + re.escape(pname) + r"(?![\w-])", start)
        return (pname, *terms)

    pre_pos: list[Atom] = []
    pre_neg: list[Atom] = []
    equalities: list[tuple[str, str, bool]] = []
    for kind, formula, positive in _literals(action.precondition, src, f"precondition of '{aname}'", start):
        if not positive and ":negative-preconditions" not in requirements:
            raise src.error(f"action '{aname}': negative precondition but :negative-preconditions is not declared",
                            r"\(\s*not\b", start)
        if kind == "eq":
            if ":equality" not in requirements:
                raise src.error(f"action '{aname}': equality but :equality is not declared", r"\(\s*=", start)
            equalities.append((term(formula.left, "precondition"), term(formula.right, "precondition"), positive))
        else:
            (pre_pos if positive else pre_neg).append(atom(formula, "precondition"))
    add: list[Atom] = []
    delete: list[Atom] = []
    for kind, formula, positive in _literals(action.effect, src, f"effect of '{aname}'", start):
        if kind == "eq":
            raise src.error(f"action '{aname}': equality is not allowed in an effect", r"\(\s*=", start)
        (add if positive else delete).append(atom(formula, "effect"))
    return ActionSchema(aname, tuple(params), tuple(pre_pos), tuple(pre_neg), tuple(equalities),
                        tuple(add), tuple(delete))


def _build_task(dom: PDDLDomain, problem: Any, src: Source, domain_file: Path | None,
                problem_file: Path | None) -> Task:
    domain_name = str(problem.domain_name).lower()
    if domain_name != dom.name:
        raise src.error(f"problem is for domain '{domain_name}' but the domain file defines '{dom.name}'",
                        r"\(\s*:domain\b")
    objects: dict[str, str] = dict(dom.constants)
    section = src.pos_of(r"\(\s*:objects\b")
    for obj in sorted(problem.objects, key=lambda o: src.pos_of(name_re(str(o.name).lower()), section)):
        oname = str(obj.name).lower()
        typ = _single_type(obj.type_tags)
        if typ.startswith("(either"):
            raise src.error(f"object '{oname}' must have a single type", name_re(oname))
        for option in type_options(typ):
            if option not in dom.types:
                raise src.error(f"undeclared type '{option}' (object '{oname}')",
                                r"-\s*" + name_re(option), src.pos_of(r"\(\s*:objects\b"))
        if oname in dom.constants and dom.constants[oname] != typ and typ != ROOT_TYPE:
            raise src.error(f"object '{oname}' redeclares domain constant of type '{dom.constants[oname]}' as '{typ}'",
                            name_re(oname))
        objects.setdefault(oname, typ)
    types_map = dom.types
    probe = Task("", "", objects, types_map, {}, {}, frozenset(), ())

    def ground_atom(p: Any, section: str) -> Atom:
        section_start = src.pos_of(r"\(\s*:" + section + r"\b")
        pname = str(p.name).lower()
        where = r"\(\s*" + re.escape(pname) + r"(?![\w-])"
        if pname not in dom.predicates:
            raise src.error(f"undeclared predicate '{pname}' in :{section}", where, section_start)
        args = tuple(_term_name(t) for t in p.terms)
        # the atom itself where it can be found as written, else the predicate's first use
        whole = r"\(\s*" + r"\s+".join(re.escape(x) for x in (pname, *args)) + r"\s*\)"
        if src.line_of(whole, section_start) is not None:
            where = whole
        expected = dom.predicates[pname]
        if len(args) != len(expected):
            raise src.error(f"predicate '{pname}' takes {len(expected)} argument(s), got {len(args)} in :{section}",
                            where, section_start)
        for position, (arg, typ) in enumerate(zip(args, expected), start=1):
            if arg.startswith("?"):
                raise src.error(f"variable {arg} in :{section}", re.escape(arg), section_start)
            if arg not in objects:
                raise src.error(f"undeclared object '{arg}' in :{section}", where, section_start)
            if not probe.is_instance(arg, typ):
                raise src.error(f"argument {position} of '{pname}' must be of type '{typ}', "
                                f"'{arg}' is '{objects[arg]}' (in :{section})", where, section_start)
        return (pname, *args)

    from pddl.logic.predicates import Predicate

    init: set[Atom] = set()
    for fact in problem.init:
        if not isinstance(fact, Predicate):
            raise src.error(f"unsupported fact in :init ({type(fact).__name__}); only positive atoms are allowed",
                            r"\(\s*(not\b|=)", src.pos_of(r"\(\s*:init\b"))
        init.add(ground_atom(fact, "init"))
    goal: list[Literal] = []
    goal_start = src.pos_of(r"\(\s*:goal\b")
    for kind, formula, positive in _literals(problem.goal, src, "the goal", goal_start):
        if kind == "eq":
            raise src.error("equality in the goal is not supported", r"\(\s*=", goal_start)
        if not positive and ":negative-preconditions" not in dom.requirements:
            raise src.error("negative goal but the domain does not declare :negative-preconditions",
                            r"\(\s*not\b", goal_start)
        literal = Literal(ground_atom(formula, "goal"), positive)
        if literal not in goal:
            goal.append(literal)
    return Task(
        name=str(problem.name).lower(),
        domain_name=dom.name,
        objects=MappingProxyType(objects),
        types=dom.types,
        predicates=dom.predicates,
        actions=dom.actions,
        init=frozenset(init),
        goal=tuple(goal),
        domain_file=domain_file,
        problem_file=problem_file,
    )


def parse_task(domain_text: str, problem_text: str, *, domain_source: str = "<domain>",
               problem_source: str = "<problem>", domain_file: Path | None = None,
               problem_file: Path | None = None) -> Task:
    """Parse and check a domain and a problem given as text; raises ``PDDLError(file, line)``."""
    dom = parse_domain(domain_text, domain_source)
    psrc = Source(problem_text, problem_source)
    check_text(psrc)
    return _build_task(dom, parse_library(psrc, "problem"), psrc, domain_file, problem_file)


@functools.lru_cache(maxsize=16)
def parse_domain(domain_text: str, domain_source: str = "<domain>") -> PDDLDomain:
    """Parse and check a domain given as text; raises ``PDDLError(file, line)``."""
    # Immutable result; caching it makes loading many problems of one domain cheap.
    dsrc = Source(domain_text, domain_source)
    requirements = check_text(dsrc)
    return _build_domain(parse_library(dsrc, "domain"), dsrc, requirements)


def read_text(path: Path) -> str:
    """A PDDL file's text; an unreadable or non-UTF-8 file is a ``PDDLError``."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise PDDLError(f"cannot read file: {reason}", source=str(path)) from None


def load_domain(path: Path | str) -> PDDLDomain:
    """Load and check a domain file; raises ``PDDLError(file, line)``."""
    path = Path(path)
    return parse_domain(read_text(path), str(path))


def load_task(domain: Path | str, problem: Path | str) -> Task:
    """Load and check a domain and a problem file; raises ``PDDLError(file, line)``."""
    dpath, ppath = Path(domain), Path(problem)
    return parse_task(read_text(dpath), read_text(ppath), domain_source=str(dpath), problem_source=str(ppath),
                      domain_file=dpath, problem_file=ppath)
