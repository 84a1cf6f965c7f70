"""The STRIPS model: atoms, literals, lifted and ground actions, the checked task, and grounding.

Names are lower-cased everywhere. In an ``ActionSchema`` atoms range over variables (``"?x"``,
leading question mark kept) and constants (plain names); ``equalities`` are the ``(= ?x ?y)``
preconditions as ``(left, right, positive)``. Equalities are resolved at grounding time: satisfied
ones vanish, violated ones are kept as PDDL text in ``GroundAction.static_failures`` (the step is
then never applicable). The STRIPS semantics live on :class:`GroundAction` (``applicable``,
``apply``, ``unmet``); the validator, the searches and the critic's trace all use them.
Reading PDDL text into a :class:`Task` is :mod:`planner_loop.planning.reader`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, TypeVar

from planner_loop.errors import UserInputError

Atom = tuple[str, ...]
ROOT_TYPE = "object"
_S = TypeVar("_S", set[tuple[str, ...]], frozenset[tuple[str, ...]])


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

    def applicable(self, state: Set[Atom]) -> bool:
        """Whether every precondition holds in ``state`` (never, with a static failure)."""
        return self.pre_pos <= state and self.pre_neg.isdisjoint(state) and not self.static_failures

    def apply(self, state: _S) -> _S:
        """The successor state ``(state - delete) | add`` (of the same set type; ``state`` is not changed)."""
        return (state - self.delete) | self.add

    def apply_in_place(self, state: set[Atom]) -> None:
        """Turn the mutable ``state`` into its successor (the validator's hot loop)."""
        state -= self.delete
        state |= self.add

    def preconditions(self) -> tuple[str, ...]:
        """Every precondition as PDDL text: violated equalities, then positive, then negative atoms."""
        return (*self.static_failures, *map(atom_to_pddl, sorted(self.pre_pos)),
                *(f"(not {atom_to_pddl(atom)})" for atom in sorted(self.pre_neg)))

    def unmet(self, state: Set[Atom]) -> tuple[str, ...]:
        """The preconditions false in ``state`` as PDDL text (empty when applicable)."""
        return (
            *self.static_failures,
            *map(atom_to_pddl, sorted(self.pre_pos - state)),
            *(f"(not {atom_to_pddl(atom)})" for atom in sorted(self.pre_neg & state)),
        )


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
        return any(t in ancestors for t in type_options(typ))

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


def type_options(typ: str) -> tuple[str, ...]:
    """``"(either a b)"`` -> ``("a", "b")``; a plain type -> ``(typ,)``."""
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
            if action.applicable(state):
                yield action
