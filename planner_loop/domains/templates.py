"""The generic template-driven domain: a PDDL file plus a small ``domain.yaml`` of phrasings.

The ``domain.yaml`` format and its reader are in :mod:`planner_loop.domains.domain_data` (names re-exported
here). The same templates drive plan extraction (see :mod:`planner_loop.domains.extraction`), so a domain's
NL rendering and its reading of replies can never drift apart.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from planner_loop.domains.domain_data import (
    DATA_FILE,
    DomainSchema,
    DomainSpec,
    SchemaAction,
    load_domain_spec,
    parse_domain_spec,
    read_domain_schema,
    template_fields,
)
from planner_loop.domains.protocol import STYLES, PlanExtraction
from planner_loop.domains.renaming import RenamedGenerator
from planner_loop.errors import ConfigError

if TYPE_CHECKING:
    from planner_loop.planning.plan import Plan, PlanStep
    from planner_loop.planning.strips import Atom, Task

__all__ = [
    "DATA_FILE",
    "DomainSchema",
    "DomainSpec",
    "SchemaAction",
    "TemplateDomain",
    "load_domain_spec",
    "parse_domain_spec",
    "read_domain_schema",
]

_VARIABLE_NAMES = ("X", "Y", "Z", "W", "V", "U")


# --- the renderer ---


def _join(phrases: list[str]) -> str:
    if not phrases:
        return "nothing"
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _check_style(style: str) -> None:
    if style not in STYLES:
        raise ConfigError(f"unknown rendering style {style!r} (use one of: {', '.join(STYLES)})")


class TemplateDomain:
    """A :class:`~planner_loop.domains.protocol.Domain` driven by a :class:`DomainSpec`.

    Instances are immutable after construction; the parsed PDDL schema is read lazily.
    """

    def __init__(self, spec: DomainSpec, *, generator: object | None = None) -> None:
        self.spec = spec
        self._generator = generator
        self.name = spec.name
        self.domain_file = spec.pddl
        self._compiled_patterns = tuple((re.compile(p, re.IGNORECASE), d) for p, d in spec.object_patterns)

    def __repr__(self) -> str:
        return f"TemplateDomain({self.name!r}, {str(self.domain_file)!r})"

    @classmethod
    def from_path(cls, path: Path | str, *, generator: object | None = None) -> TemplateDomain:
        """Build from a ``domain.yaml`` file or the folder that holds it (optionally with a generator)."""
        return cls(load_domain_spec(path), generator=generator)

    @cached_property
    def schema(self) -> DomainSchema:
        """The action schemas of the PDDL file."""
        return read_domain_schema(self.domain_file)

    def check(self) -> None:
        """Raise :class:`ConfigError` when the templates do not fit the PDDL file."""
        source = self.spec.source
        for action, template in self.spec.actions.items():
            if action not in self.schema.actions:
                raise ConfigError(f"action {action!r} is not in {self.domain_file.name}", source=source)
            arity = len(self.schema.actions[action].parameters)
            fields = sorted(set(template_fields(template, source or "<data>", None, f"action {action!r}")))
            if fields != list(range(arity)):
                raise ConfigError(
                    f"action {action!r} takes {arity} argument(s): its template must use {{0}}..{{{arity - 1}}} once each",
                    source=source,
                )
        missing = sorted(set(self.schema.actions) - set(self.spec.actions))
        if missing:
            raise ConfigError(f"no template for action {missing[0]!r}", source=source)
        for predicate, template in self.spec.predicates.items():
            if template is None:
                continue
            if predicate not in self.schema.predicates:
                raise ConfigError(f"predicate {predicate!r} is not in {self.domain_file.name}", source=source)
            arity = self.schema.predicates[predicate]
            if any(f >= arity for f in template_fields(template, source or "<data>", None, f"predicate {predicate!r}")):
                raise ConfigError(f"predicate {predicate!r} takes {arity} argument(s): its template uses more", source=source)

    @property
    def action_templates(self) -> Mapping[str, str]:
        """Action name -> NL template."""
        return self.spec.actions

    @property
    def static_predicates(self) -> frozenset[str]:
        """Predicates no action changes (used to tell apart actions that share a phrasing)."""
        return self.schema.static_predicates

    # -- objects --

    def display_name(self, obj: str) -> str:
        """The NL name of an object (``a`` -> ``red block``); the object's own name by default."""
        key = obj.lower()
        if key in self.spec.objects:
            return self.spec.objects[key]
        for pattern, display in self._compiled_patterns:
            match = pattern.fullmatch(key)
            if match:
                return display.format(key, *match.groups())
        return key

    # -- the protocol --

    def load_task(self, problem: Path | str) -> Task:
        """Ground ``problem`` against this domain's PDDL file."""
        from planner_loop.planning.task import load_task

        return load_task(self.domain_file, problem)

    def render_atom(self, atom: Atom, style: str = "nl") -> str:
        """One fact in NL or PDDL."""
        _check_style(style)
        if style == "pddl":
            return "(" + " ".join(atom) + ")"
        predicate, args = atom[0], atom[1:]
        template = self.spec.predicates.get(predicate)
        if template is None:
            return " ".join((predicate, *(self.display_name(a) for a in args)))
        return template.format(*(self.display_name(a) for a in args))

    def _visible(self, atom: Atom) -> bool:
        return not (atom[0] in self.spec.predicates and self.spec.predicates[atom[0]] is None)

    def render_state(self, atoms: Iterable[Atom], style: str = "nl") -> str:
        """Facts as one sentence (nl; static type facts left out) or as PDDL atoms."""
        _check_style(style)
        ordered = sorted(set(atoms), key=self._atom_order)
        if style == "pddl":
            return " ".join(self.render_atom(a, "pddl") for a in ordered)
        return _join([self.render_atom(a) for a in ordered if self._visible(a)])

    def _atom_order(self, atom: Atom) -> tuple[int, Atom]:
        order = list(self.spec.predicates)
        return (order.index(atom[0]) if atom[0] in order else len(order), atom)

    def render_goal(self, task: Task, style: str = "nl") -> str:
        """The goal conjunction of ``task``."""
        _check_style(style)
        if style == "pddl":
            return "(and " + " ".join(literal.to_pddl() for literal in task.goal) + ")"
        phrases = [
            self.render_atom(literal.atom) if literal.positive else f"it is not the case that {self.render_atom(literal.atom)}"
            for literal in task.goal
        ]
        return _join(phrases)

    def render_action(self, step: PlanStep, style: str = "nl") -> str:
        """One step: ``stack the red block on top of the blue block`` or ``(stack a b)``."""
        _check_style(style)
        template = self.spec.actions.get(step.name)
        # A step the domain cannot phrase (unknown action, wrong argument count: an LLM's plan may hold
        # either) is shown as written, in PDDL, rather than guessed at.
        if style == "pddl" or template is None or _field_count(template) != len(step.args):
            return "(" + " ".join((step.name, *step.args)) + ")"
        return template.format(*(self.display_name(a) for a in step.args))

    def render_plan(self, plan: Plan, style: str = "nl") -> str:
        """One step per line, newline-terminated (empty string for an empty plan)."""
        return "".join(self.render_action(step, style) + "\n" for step in plan.steps)

    def describe(self, style: str = "nl") -> str:
        """The domain for a prompt: the data file's description, or one generated from the templates."""
        _check_style(style)
        if style == "pddl":
            text = re.sub(r";[^\n]*", "", self.domain_file.read_text(encoding="utf-8"))
            return re.sub(r"\n\s*\n+", "\n", text).strip() + "\n"
        if self.spec.description:
            return self.spec.description.strip() + "\n"
        return self._generated_description()

    def _generated_description(self) -> str:
        hidden = {p for p, t in self.spec.predicates.items() if t is None}
        lines = ["Here are the actions I can do (X, Y, Z, ... stand for objects):", ""]
        rules: list[str] = []
        ordered = [a for a in self.spec.actions if a in self.schema.actions]
        ordered += sorted(set(self.schema.actions) - set(ordered))
        for name in ordered:
            action = self.schema.actions[name]
            variables = {var: _VARIABLE_NAMES[i] if i < len(_VARIABLE_NAMES) else f"X{i}" for i, (var, _) in enumerate(action.parameters)}
            template = self.spec.actions.get(name, name + " " + " ".join(f"{{{i}}}" for i in range(len(variables))))
            phrase = template.format(*variables.values())
            lines.append(f"- {phrase}")

            def say(atoms: tuple[Atom, ...], variables: Mapping[str, str] = variables) -> list[str]:
                out = []
                for atom in atoms:
                    if atom[0] in hidden:
                        continue
                    args = [variables.get(a, a) for a in atom[1:]]
                    template = self.spec.predicates.get(atom[0])
                    out.append(template.format(*args) if template else " ".join((atom[0], *args)))
                return out

            typing = ""
            if self.schema.typed:
                typing = " (" + ", ".join(f"{variables[v]} is a {t}" for v, t in action.parameters) + ")"
            pre = say(action.pre_pos) + [f"not {p}" for p in say(action.pre_neg)]
            rules.append(f"To {phrase}{typing}, these facts must hold: {_join(pre)}.")
            rules.append(f"  Once I {phrase}, these become true: {_join(say(action.add))}.")
            rules.append(f"  Once I {phrase}, these become false: {_join(say(action.delete))}.")
        return "\n".join([*lines, "", "The rules of the actions:", *rules]) + "\n"

    def extract_plan(self, text: str, task: Task, *, whole_reply: bool = False) -> PlanExtraction:
        """Read a plan from free text (see :mod:`planner_loop.domains.extraction`); never raises."""
        from planner_loop.domains.extraction import extract_plan

        return extract_plan(text, task, self, whole_reply=whole_reply)

    def generator(self) -> object | None:
        """The generator given in code, else the data file's (from ``planner_loop.generation``), else None."""
        if self._generator is not None:
            return self._generator
        if self.spec.generator is None:
            return None
        from planner_loop.generation import get_generator

        base = get_generator(self.spec.generator)
        if self.spec.renamed_from is None:
            return base
        return RenamedGenerator(base, self.spec.renamed_from.renaming, self.name, self.domain_file)


def _field_count(template: str) -> int:
    """Number of ``{}`` placeholders in a ``str.format`` template."""
    return sum(1 for _, field, _, _ in string.Formatter().parse(template) if field is not None)
