"""PDDL domain + problem -> a checked, immutable planning task with fast grounding.

Supported fragment: STRIPS with ``:typing`` (including ``either``), ``:negative-preconditions``,
``:equality`` and constants. Anything else (other requirements, ``or``/``forall``/``exists``/``when``/
``imply``, numeric fluents, derived predicates, ...) is refused with a ``PDDLError`` naming the file
and, where it can be found, the line -- a task is never silently mis-read.

Names are case-insensitive and lower-cased everywhere. In an ``ActionSchema`` atoms range over
variables (``"?x"``, leading question mark kept) and constants (plain names); ``equalities`` are the
``(= ?x ?y)`` preconditions as ``(left, right, positive)``. Equalities are resolved at grounding time:
satisfied ones vanish, violated ones are kept as PDDL text in ``GroundAction.static_failures`` (the
step is then never applicable).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from types import MappingProxyType
from typing import Any

from planner_loop.errors import PDDLError, UserInputError

Atom = tuple[str, ...]

SUPPORTED_REQUIREMENTS = frozenset({":strips", ":typing", ":negative-preconditions", ":equality"})
ROOT_TYPE = "object"


def atom_to_pddl(atom: Atom) -> str:
    """``("on", "a", "b")`` -> ``"(on a b)"``; ``("handempty",)`` -> ``"(handempty)"``."""
    return "(" + " ".join(atom) + ")"


@dataclass(frozen=True)
class Literal:
    """A precondition or goal literal."""

    atom: Atom
    positive: bool = True

    def to_pddl(self) -> str:
        """``"(on a b)"`` or ``"(not (on a b))"``."""
        text = atom_to_pddl(self.atom)
        return text if self.positive else f"(not {text})"


@dataclass(frozen=True)
class ActionSchema:
    """A lifted action: atoms over variables (``?x``) and constants."""

    name: str
    parameters: tuple[tuple[str, str], ...]
    pre_pos: tuple[Atom, ...] = ()
    pre_neg: tuple[Atom, ...] = ()
    equalities: tuple[tuple[str, str, bool], ...] = ()
    add: tuple[Atom, ...] = ()
    delete: tuple[Atom, ...] = ()


@dataclass(frozen=True, slots=True)
class GroundAction:
    """A ground action; ``static_failures`` lists violated equality preconditions as PDDL text."""

    name: str
    args: tuple[str, ...]
    pre_pos: frozenset[Atom]
    pre_neg: frozenset[Atom]
    add: frozenset[Atom]
    delete: frozenset[Atom]
    static_failures: tuple[str, ...] = ()

    def to_pddl(self) -> str:
        """``"(stack a b)"``."""
        return atom_to_pddl((self.name, *self.args))


class GroundingError(UserInputError):
    """A plan step that cannot be grounded; ``kind`` is the validator's plan-error kind."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True, eq=False)
class Task:
    """A checked STRIPS task. Compare tasks by identity; grounding results are cached per task."""

    name: str
    domain_name: str
    objects: Mapping[str, str]
    types: Mapping[str, str | None]
    predicates: Mapping[str, tuple[str, ...]]
    actions: Mapping[str, ActionSchema]
    init: frozenset[Atom]
    goal: tuple[Literal, ...]
    domain_file: Path | None = None
    problem_file: Path | None = None
    _ground_cache: dict[tuple[str, tuple[str, ...]], GroundAction] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _object_types: dict[str, frozenset[str]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for obj, typ in self.objects.items():
            self._object_types[obj] = frozenset(_ancestors(typ, self.types))

    def is_instance(self, obj: str, typ: str) -> bool:
        """Whether object ``obj`` belongs to type ``typ`` (which may be ``(either a b)``)."""
        ancestors = self._object_types.get(obj)
        if ancestors is None:
            return False
        return any(t in ancestors for t in _type_options(typ))

    def ground(self, name: str, args: Sequence[str]) -> GroundAction:
        """The ground action ``(name args...)``; raises ``GroundingError`` with a plan-error kind."""
        key = (name, tuple(args))
        cached = self._ground_cache.get(key)
        if cached is not None:
            return cached
        action = self._ground_uncached(key[0].lower(), tuple(a.lower() for a in key[1]))
        self._ground_cache[key] = action
        return action

    def _ground_uncached(self, name: str, args: tuple[str, ...]) -> GroundAction:
        schema = self.actions.get(name)
        if schema is None:
            raise GroundingError("unknown-action", f"unknown action '{name}'")
        params = schema.parameters
        if len(args) != len(params):
            signature = " ".join(v for v, _ in params)
            raise GroundingError(
                "arity",
                f"action '{name}' takes {len(params)} argument(s) ({signature}), got {len(args)}",
            )
        for position, (arg, (var, typ)) in enumerate(zip(args, params), start=1):
            if arg not in self.objects:
                raise GroundingError("unknown-object", f"unknown object '{arg}' (argument {position} of '{name}')")
            if not self.is_instance(arg, typ):
                raise GroundingError(
                    "type-mismatch",
                    f"argument {position} of '{name}' ({var} - {typ}) is '{arg}' of type '{self.objects[arg]}'",
                )
        return _instantiate(schema, dict(zip((v for v, _ in params), args)))

    def goal_atoms(self) -> frozenset[Atom]:
        """The positive goal atoms."""
        return self.goal_sets()[0]

    def goal_sets(self) -> tuple[frozenset[Atom], frozenset[Atom]]:
        """(atoms the goal needs true, atoms the goal needs false), cached."""
        sets = self._derived.get("goal")
        if sets is None:
            sets = self._derived["goal"] = (
                frozenset(lit.atom for lit in self.goal if lit.positive),
                frozenset(lit.atom for lit in self.goal if not lit.positive),
            )
        return sets

    def reachable_actions(self) -> tuple[GroundAction, ...]:
        """Ground actions reachable in the delete relaxation from ``init`` (cached; for search)."""
        cached = self._derived.get("reachable")
        if cached is not None:
            return cached
        atoms = set(self.init)
        actions: dict[tuple[str, tuple[str, ...]], GroundAction] = {}
        changed = True
        while changed:
            changed = False
            by_pred = _index(atoms)
            for schema in self.actions.values():
                for binding in _bindings(self, schema, by_pred):
                    action = _instantiate(schema, binding)
                    key = (action.name, action.args)
                    if action.static_failures or key in actions:
                        continue
                    actions[key] = action
                    if not action.add <= atoms:
                        atoms |= action.add
                        changed = True
        result = tuple(sorted(actions.values(), key=lambda a: (a.name, a.args)))
        self._derived["reachable"] = result
        return result


def _ancestors(typ: str, types: Mapping[str, str | None]) -> list[str]:
    seen = [typ]
    current: str | None = typ
    while current is not None and current != ROOT_TYPE:
        current = types.get(current, ROOT_TYPE)
        if current is None or current in seen:
            break
        seen.append(current)
    if ROOT_TYPE not in seen:
        seen.append(ROOT_TYPE)
    return seen


def _type_options(typ: str) -> tuple[str, ...]:
    if typ.startswith("(either"):
        return tuple(typ[len("(either") : -1].split())
    return (typ,)


def _instantiate(schema: ActionSchema, binding: Mapping[str, str]) -> GroundAction:
    def sub(atom: Atom) -> Atom:
        return (atom[0], *(binding.get(t, t) for t in atom[1:]))

    failures = []
    for left, right, positive in schema.equalities:
        lv, rv = binding.get(left, left), binding.get(right, right)
        if (lv == rv) != positive:
            text = f"(= {lv} {rv})"
            failures.append(text if positive else f"(not {text})")
    return GroundAction(
        name=schema.name,
        args=tuple(binding[v] for v, _ in schema.parameters),
        pre_pos=frozenset(map(sub, schema.pre_pos)),
        pre_neg=frozenset(map(sub, schema.pre_neg)),
        add=frozenset(map(sub, schema.add)),
        delete=frozenset(map(sub, schema.delete)),
        static_failures=tuple(failures),
    )


def _index(atoms: frozenset[Atom] | set[Atom]) -> dict[str, list[Atom]]:
    by_pred: dict[str, list[Atom]] = {}
    for atom in atoms:
        by_pred.setdefault(atom[0], []).append(atom)
    return by_pred


def _bindings(task: Task, schema: ActionSchema, by_pred: Mapping[str, list[Atom]]) -> Iterator[dict[str, str]]:
    """Parameter bindings that make every positive precondition an atom of ``by_pred``, well typed."""
    params = schema.parameters
    types = dict(params)
    ordered = sorted(schema.pre_pos, key=lambda a: len(by_pred.get(a[0], ())))

    def extend(i: int, binding: dict[str, str]) -> Iterator[dict[str, str]]:
        if i == len(ordered):
            free = [v for v, _ in params if v not in binding]
            domains = [[o for o in task.objects if task.is_instance(o, types[v])] for v in free]
            for values in product(*domains):
                yield {**binding, **dict(zip(free, values))}
            return
        pattern = ordered[i]
        for atom in by_pred.get(pattern[0], ()):
            if len(atom) != len(pattern):
                continue
            new = dict(binding)
            for term, value in zip(pattern[1:], atom[1:]):
                if term.startswith("?"):
                    bound = new.get(term)
                    if bound is None:
                        if not task.is_instance(value, types[term]):
                            break
                        new[term] = value
                    elif bound != value:
                        break
                elif term != value:
                    break
            else:
                yield from extend(i + 1, new)

    yield from extend(0, {})


def applicable_actions(task: Task, state: frozenset[Atom] | set[Atom]) -> Iterator[GroundAction]:
    """Every ground action applicable in ``state`` (lifted matching against the state's atoms)."""
    by_pred = _index(state)
    for schema in task.actions.values():
        for binding in _bindings(task, schema, by_pred):
            action = task.ground(schema.name, tuple(binding[v] for v, _ in schema.parameters))
            if not action.static_failures and action.pre_neg.isdisjoint(state):
                yield action


# ---------------------------------------------------------------------------------------------
# Parsing and checking


@functools.cache
def _parsers() -> tuple[Any, Any]:
    # Building the lark grammars takes ~0.1 s; build them once per process.
    from pddl.parser.domain import DomainParser
    from pddl.parser.problem import ProblemParser

    return DomainParser(), ProblemParser()


_COMMENT = re.compile(r";[^\n]*")


_PARAMETERS_THEN_EFFECT = re.compile(r"(:parameters\s*\((?:[^()]|\([^()]*\))*\))(\s*:effect\b)")


class _Source:
    """The (comment-stripped, lower-cased) text of one file, for locating names by line."""

    def __init__(self, text: str, name: str) -> None:
        self.name = name
        self.text = _COMMENT.sub(lambda m: " " * len(m.group()), text).lower()
        # The pddl package cannot read an action without :precondition; give it the empty one
        # (on the same line, so line numbers stay right).
        self.text = _PARAMETERS_THEN_EFFECT.sub(r"\1 :precondition (and)\2", self.text)

    def line_of(self, pattern: str, start: int = 0) -> int | None:
        match = re.compile(pattern).search(self.text, start)
        return self.text.count("\n", 0, match.start()) + 1 if match else None

    def pos_of(self, pattern: str, start: int = 0) -> int:
        match = re.compile(pattern).search(self.text, start)
        return match.start() if match else 0

    def error(self, message: str, pattern: str | None = None, start: int = 0) -> PDDLError:
        line = self.line_of(pattern, start) if pattern else None
        return PDDLError(message, source=self.name, line=line)


def _name_re(name: str) -> str:
    return r"(?<![\w?-])" + re.escape(name) + r"(?![\w-])"


def _check_requirements(src: _Source) -> frozenset[str]:
    found: set[str] = set()
    for block in re.finditer(r"\(\s*:requirements\b([^)]*)\)", src.text):
        for req in re.finditer(r":[\w-]+", block.group(1)):
            name = req.group()
            if name not in SUPPORTED_REQUIREMENTS:
                line = src.text.count("\n", 0, block.start(1) + req.start()) + 1
                raise PDDLError(
                    f"unsupported requirement {name} (supported: {', '.join(sorted(SUPPORTED_REQUIREMENTS))})",
                    source=src.name,
                    line=line,
                )
            found.add(name)
    return frozenset(found)


_UNSUPPORTED_KEYWORDS = {
    "or": "disjunction (or)",
    "imply": "implication (imply)",
    "forall": "universal quantification (forall)",
    "exists": "existential quantification (exists)",
    "when": "conditional effect (when)",
    "increase": "numeric fluents",
    "decrease": "numeric fluents",
    "assign": "numeric fluents",
    "scale-up": "numeric fluents",
    "scale-down": "numeric fluents",
    ":functions": "numeric fluents (:functions)",
    ":derived": "derived predicates (:derived)",
    ":metric": "metrics (:metric)",
    "one-of": "non-deterministic effects (one-of)",
    ":durative-action": "durative actions",
    ":constraints": "constraints",
}


def _check_unsupported_syntax(src: _Source) -> None:
    """Refuse constructs outside the fragment before parsing, whatever the requirements say."""
    for keyword, what in _UNSUPPORTED_KEYWORDS.items():
        pattern = r"\(\s*" + re.escape(keyword) + r"(?![\w-])"
        line = src.line_of(pattern)
        if line is not None:
            raise PDDLError(f"unsupported formula: {what} is outside the STRIPS fragment", source=src.name, line=line)


def _parse_with(parser: Any, src: _Source) -> Any:
    import lark
    from pddl.exceptions import PDDLError as LibPDDLError

    try:
        return parser(src.text)
    except lark.exceptions.UnexpectedEOF as error:
        raise PDDLError(f"PDDL syntax error: unexpected end of file ({error})", source=src.name,
                        line=src.text.count("\n") + 1) from None
    except lark.exceptions.UnexpectedInput as error:
        line = getattr(error, "line", None)
        token = getattr(error, "token", None)
        what = f"unexpected {str(token)!r}" if token is not None else "unexpected input"
        if isinstance(error, lark.exceptions.UnexpectedCharacters):
            what = f"unexpected character {error.char!r}"
        if token is not None and getattr(token, "type", "") == "$END":
            what = "unexpected end of file (missing ')'?)"
        column = getattr(error, "column", None)
        where = f" (column {column})" if isinstance(column, int) and column > 0 else ""
        raise PDDLError(f"PDDL syntax error: {what}{where}", source=src.name,
                        line=line if isinstance(line, int) and line > 0 else None) from None
    except lark.exceptions.VisitError as error:
        raise _library_error(error.orig_exc, src) from None
    except lark.exceptions.LarkError as error:
        # e.g. "Constant 'table' not defined." raised while building the tree: locate the name.
        quoted = re.search(r"'([^']+)'", str(error))
        pattern = _name_re(quoted.group(1).lower()) if quoted else None
        undeclared = re.match(r"Constant '([^']+)' not defined", str(error))
        message = f"undeclared constant '{undeclared.group(1).lower()}'" if undeclared else f"invalid PDDL: {error}"
        raise src.error(message, pattern) from None
    except (LibPDDLError, ValueError, TypeError, AssertionError) as error:
        raise _library_error(error, src) from None


def _library_error(error: BaseException, src: _Source) -> PDDLError:
    from pddl.exceptions import PDDLMissingRequirementError

    if isinstance(error, PDDLMissingRequirementError):
        requirement = str(error.requirement)
        if requirement == ":negative-preconditions":
            return src.error("negative literal used but :negative-preconditions is not declared", r"\(\s*not\b")
        if requirement == ":equality":
            return src.error("equality used but :equality is not declared", r"\(\s*=")
        if requirement == ":typing":
            return src.error("types used but :typing is not declared", r"\s-\s")
        return src.error(f"unsupported formula: needs {requirement}, outside the STRIPS fragment")
    return PDDLError(f"invalid PDDL: {error}", source=src.name)


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


def _literals(formula: Any, src: _Source, where: str, start: int) -> Iterator[tuple[str, Any, bool]]:
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
class _Domain:
    name: str
    requirements: frozenset[str]
    types: Mapping[str, str | None]
    constants: Mapping[str, str]
    predicates: Mapping[str, tuple[str, ...]]
    actions: Mapping[str, ActionSchema]


def _check_type_declared(typ: str, types: Mapping[str, str | None], src: _Source, what: str) -> None:
    for option in _type_options(typ):
        if option not in types:
            raise src.error(f"undeclared type '{option}' ({what})", r"-\s*(\(\s*either[^)]*)?" + _name_re(option))


def _build_domain(domain: Any, src: _Source) -> _Domain:
    requirements = _check_requirements(src)
    name = str(domain.name).lower()
    typing = ":typing" in requirements
    types: dict[str, str | None] = {ROOT_TYPE: None}
    for typ, parent in domain.types.items():
        typ = str(typ).lower()
        if typ != ROOT_TYPE:
            types[typ] = str(parent).lower() if parent is not None else ROOT_TYPE
    for typ, parent in types.items():
        if parent is not None and parent not in types:
            raise src.error(f"undeclared type '{parent}' (parent of '{typ}')", r"\(\s*:types\b")
    if len(types) > 1 and not typing:
        raise src.error("types declared but :typing is not in :requirements", r"\(\s*:types\b")

    constants: dict[str, str] = {}
    section = src.pos_of(r"\(\s*:constants\b")
    for constant in sorted(domain.constants, key=lambda c: src.pos_of(_name_re(str(c.name).lower()), section)):
        typ = _single_type(constant.type_tags)
        _check_type_declared(typ, types, src, f"constant '{constant.name}'")
        constants[str(constant.name).lower()] = typ

    predicates: dict[str, tuple[str, ...]] = {}
    # The pddl package returns sets; keep the file's order so tasks are the same in every process.
    section = src.pos_of(r"\(\s*:predicates\b")
    for predicate in sorted(domain.predicates,
                            key=lambda p: src.pos_of(r"\(\s*" + re.escape(str(p.name).lower()) + r"(?![\w-])", section)):
        pname = str(predicate.name).lower()
        if pname in predicates:
            raise src.error(f"predicate '{pname}' declared twice", r"\(\s*" + re.escape(pname) + r"(?![\w-])")
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
    return _Domain(name, requirements, MappingProxyType(types), MappingProxyType(constants),
                   MappingProxyType(predicates), MappingProxyType(actions))


def _build_action(action: Any, src: _Source, requirements: frozenset[str], types: Mapping[str, str | None],
                  constants: Mapping[str, str], predicates: Mapping[str, tuple[str, ...]]) -> ActionSchema:
    aname = str(action.name).lower()
    start = src.pos_of(r"\(\s*:action\s+" + re.escape(aname) + r"(?![\w-])")
    params: list[tuple[str, str]] = []
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
            raise src.error(f"action '{aname}': {context} uses undeclared constant '{value}'", _name_re(value), start)
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


def _build_task(dom: _Domain, problem: Any, src: _Source, domain_file: Path | None,
                problem_file: Path | None) -> Task:
    _check_requirements(src)
    domain_name = str(problem.domain_name).lower()
    if domain_name != dom.name:
        raise src.error(f"problem is for domain '{domain_name}' but the domain file defines '{dom.name}'",
                        r"\(\s*:domain\b")
    objects: dict[str, str] = dict(dom.constants)
    section = src.pos_of(r"\(\s*:objects\b")
    for obj in sorted(problem.objects, key=lambda o: src.pos_of(_name_re(str(o.name).lower()), section)):
        oname = str(obj.name).lower()
        typ = _single_type(obj.type_tags)
        if typ.startswith("(either"):
            raise src.error(f"object '{oname}' must have a single type", _name_re(oname))
        for option in _type_options(typ):
            if option not in dom.types:
                raise src.error(f"undeclared type '{option}' (object '{oname}')",
                                r"-\s*" + _name_re(option), src.pos_of(r"\(\s*:objects\b"))
        if oname in dom.constants and dom.constants[oname] != typ and typ != ROOT_TYPE:
            raise src.error(f"object '{oname}' redeclares domain constant of type '{dom.constants[oname]}' as '{typ}'",
                            _name_re(oname))
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
        expected = dom.predicates[pname]
        if len(args) != len(expected):
            raise src.error(f"predicate '{pname}' takes {len(expected)} argument(s), got {len(args)} in :{section}",
                            where, section_start)
        for position, (arg, typ) in enumerate(zip(args, expected), start=1):
            if arg.startswith("?"):
                raise src.error(f"variable {arg} in :{section}", re.escape(arg), section_start)
            if arg not in objects:
                raise src.error(f"undeclared object '{arg}' in :{section}", _name_re(arg), section_start)
            if not probe.is_instance(arg, typ):
                raise src.error(f"argument {position} of '{pname}' must be of type '{typ}', "
                                f"'{arg}' is '{objects[arg]}' (in :{section})", _name_re(arg), section_start)
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
    dom = _load_domain(domain_text, domain_source)
    problem_parser = _parsers()[1]
    psrc = _Source(problem_text, problem_source)
    _check_requirements(psrc)
    _check_unsupported_syntax(psrc)
    return _build_task(dom, _parse_with(problem_parser, psrc), psrc, domain_file, problem_file)


@functools.lru_cache(maxsize=16)
def _load_domain(domain_text: str, domain_source: str) -> _Domain:
    # Immutable result; caching it makes loading many problems of one domain cheap.
    dsrc = _Source(domain_text, domain_source)
    _check_requirements(dsrc)
    _check_unsupported_syntax(dsrc)
    return _build_domain(_parse_with(_parsers()[0], dsrc), dsrc)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise PDDLError(f"cannot read file: {reason}", source=str(path)) from None


def load_task(domain: Path | str, problem: Path | str) -> Task:
    """Load and check a domain and a problem file; raises ``PDDLError(file, line)``."""
    dpath, ppath = Path(domain), Path(problem)
    return parse_task(_read(dpath), _read(ppath), domain_source=str(dpath), problem_source=str(ppath),
                      domain_file=dpath, problem_file=ppath)
