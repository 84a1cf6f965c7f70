"""The generic template-driven domain: a PDDL file plus a small ``domain.yaml`` of phrasings.

A data file looks like this (every key but ``name``, ``predicates`` and ``actions`` is optional)::

    name: gripper
    pddl: domain.pddl                   # beside the data file
    generator: gripper                  # key in planner_loop.generation's registry
    description: |                      # hand-written prompt intro; generated when absent
      ...
    objects:                            # display names; other objects show their own name
      a: red block
    object_patterns:                    # full-match regex -> display; {0} = name, {1}.. = groups
      "p(\\d+)": "package {1}"
    predicates:                         # {0}, {1}, ... are the atom's arguments
      on: "the {0} is on top of the {1}"
      obj: null                         # null: a static type predicate, left out of NL states
    actions:
      stack: "stack the {0} on top of the {1}"

The same templates drive plan extraction (see :mod:`planner_loop.domains.extraction`), so a domain's
NL rendering and its reading of replies can never drift apart.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from planner_loop.domains.protocol import STYLES, PlanExtraction
from planner_loop.domains.renaming import RenamedFrom, Renaming
from planner_loop.errors import ConfigError
from planner_loop.planning.strips import ActionSchema

if TYPE_CHECKING:
    from planner_loop.planning.plan import Plan, PlanStep
    from planner_loop.planning.strips import Atom, Task

DATA_FILE = "domain.yaml"
_KEYS = frozenset(
    {"name", "pddl", "generator", "description", "objects", "object_patterns", "predicates", "actions", "renamed_from"}
)
_VARIABLE_NAMES = ("X", "Y", "Z", "W", "V", "U")


@dataclass(frozen=True)
class DomainSpec:
    """The contents of a ``domain.yaml`` file (see the module docstring)."""

    name: str
    pddl: Path
    predicates: Mapping[str, str | None]
    actions: Mapping[str, str]
    objects: Mapping[str, str] = field(default_factory=dict)
    object_patterns: tuple[tuple[str, str], ...] = ()
    description: str | None = None
    generator: str | None = None
    source: Path | None = None
    renamed_from: RenamedFrom | None = None  # set for domains written by planner_loop.domains.obfuscation

    def to_yaml_data(self) -> dict[str, Any]:
        """The spec as plain data for ``yaml.safe_dump`` (``pddl`` relative to the data file)."""
        data: dict[str, Any] = {"name": self.name, "pddl": self.pddl.name}
        if self.generator:
            data["generator"] = self.generator
        if self.description:
            data["description"] = self.description
        if self.objects:
            data["objects"] = dict(self.objects)
        if self.object_patterns:
            data["object_patterns"] = dict(self.object_patterns)
        data["predicates"] = dict(self.predicates)
        data["actions"] = dict(self.actions)
        if self.renamed_from is not None:
            data["renamed_from"] = self.renamed_from.to_yaml_data()
        return data


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader reading only ``true``/``false`` as booleans, so a predicate named ``on`` stays ``on``."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _key_lines(text: str) -> dict[str, int]:
    """1-based line of each top-level key of a YAML mapping (for error messages)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {key.value: key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)}


def _template_fields(template: str, source: Path | str, line: int | None, what: str) -> list[int]:
    indices: list[int] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ConfigError(f"{what}: bad template {template!r}: {error}", source=source, line=line) from None
    for _, field_name, _, _ in parsed:
        if field_name is None:
            continue
        if not field_name.isdigit():
            raise ConfigError(
                f"{what}: template placeholders must be numbered like {{0}}, got {{{field_name}}}",
                source=source,
                line=line,
            )
        indices.append(int(field_name))
    return indices


def parse_domain_spec(text: str, *, source: Path | str = "<domain.yaml>", base_dir: Path | None = None) -> DomainSpec:
    """Read a ``domain.yaml`` text; raises :class:`ConfigError` (with file and line) when malformed."""
    try:
        data = yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {error}", source=source, line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ConfigError("a domain data file must be a mapping", source=source)
    lines = _key_lines(text)
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})", source=source, line=lines.get(unknown[0])
        )
    for required in ("name", "predicates", "actions"):
        if required not in data:
            raise ConfigError(f"missing key {required!r}", source=source)

    def mapping(key: str) -> dict[str, Any]:
        value = data.get(key) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"{key!r} must be a mapping", source=source, line=lines.get(key))
        return {str(k).lower(): v for k, v in value.items()}

    predicates: dict[str, str | None] = {}
    for name, template in mapping("predicates").items():
        if template is not None and not isinstance(template, str):
            raise ConfigError(f"predicate {name!r}: template must be a string or null", source=source, line=lines.get("predicates"))
        if template is not None:
            _template_fields(template, source, lines.get("predicates"), f"predicate {name!r}")
        predicates[name] = template
    actions: dict[str, str] = {}
    for name, template in mapping("actions").items():
        if not isinstance(template, str) or not template.strip():
            raise ConfigError(f"action {name!r}: template must be a non-empty string", source=source, line=lines.get("actions"))
        _template_fields(template, source, lines.get("actions"), f"action {name!r}")
        actions[name] = template
    objects = {name: str(display) for name, display in mapping("objects").items()}
    patterns: list[tuple[str, str]] = []
    for pattern, display in (data.get("object_patterns") or {}).items():
        where = lines.get("object_patterns")
        try:
            groups = re.compile(str(pattern)).groups
        except re.error as error:
            raise ConfigError(f"object pattern {pattern!r}: {error}", source=source, line=where) from None
        fields = _template_fields(str(display), source, where, f"object pattern {pattern!r}")
        if any(f > groups for f in fields):
            raise ConfigError(
                f"object pattern {pattern!r} has {groups} group(s); its display {display!r} may use {{0}}..{{{groups}}}",
                source=source,
                line=where,
            )
        patterns.append((str(pattern), str(display)))
    name = str(data["name"]).strip()
    if not re.fullmatch(r"[A-Za-z][\w-]*", name):
        raise ConfigError(f"domain name {name!r} must be a word (letters, digits, _ or -)", source=source, line=lines.get("name"))
    base = base_dir if base_dir is not None else Path(source).parent
    renamed_from = _renamed_from(data.get("renamed_from"), source, lines.get("renamed_from"))
    description = data.get("description")
    return DomainSpec(
        name=name,
        pddl=(base / str(data.get("pddl") or "domain.pddl")).resolve(),
        predicates=predicates,
        actions=actions,
        objects=objects,
        object_patterns=tuple(patterns),
        description=str(description).strip() if description else None,
        generator=str(data["generator"]) if data.get("generator") else None,
        source=Path(source) if not str(source).startswith("<") else None,
        renamed_from=renamed_from,
    )


def _renamed_from(value: Any, source: Path | str, line: int | None) -> RenamedFrom | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("domain"), str):
        raise ConfigError("'renamed_from' must be a mapping with 'domain', 'predicates' and 'actions'", source=source, line=line)
    try:
        renaming = Renaming(
            {str(k).lower(): str(v) for k, v in (value.get("predicates") or {}).items()},
            {str(k).lower(): str(v) for k, v in (value.get("actions") or {}).items()},
            domain_name=value.get("domain_name"),
        )
    except ConfigError as error:
        raise ConfigError(error.message, source=source, line=line) from None
    return RenamedFrom(value["domain"], renaming)


def load_domain_spec(path: Path | str) -> DomainSpec:
    """Read a ``domain.yaml`` file (or a folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / DATA_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read domain data file: {error.strerror}", source=path) from None
    return parse_domain_spec(text, source=path, base_dir=path.parent)


# --- the action schemas, read from the PDDL file by the planning reader (for descriptions and static facts) ---

SchemaAction = ActionSchema  # the former name of a schema action, kept importable


@dataclass(frozen=True)
class DomainSchema:
    """Predicates and actions of a PDDL domain, names lower-cased and sorted."""

    name: str
    predicates: Mapping[str, int]  # name -> arity
    actions: Mapping[str, ActionSchema]
    typed: bool

    @property
    def static_predicates(self) -> frozenset[str]:
        """Predicates no action adds or deletes (type predicates, road maps, ...)."""
        changed = {atom[0] for action in self.actions.values() for atom in (*action.add, *action.delete)}
        return frozenset(self.predicates) - changed


def read_domain_schema(path: Path) -> DomainSchema:
    """Read a STRIPS domain file with the planning reader; raises its located ``PDDLError``."""
    from planner_loop.planning.reader import load_domain

    domain = load_domain(path)
    return DomainSchema(
        domain.name,
        {name: len(types) for name, types in sorted(domain.predicates.items())},
        {name: domain.actions[name] for name in sorted(domain.actions)},
        typed=domain.typed,
    )


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
            fields = sorted(set(_template_fields(template, source or "<data>", None, f"action {action!r}")))
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
            if any(f >= arity for f in _template_fields(template, source or "<data>", None, f"predicate {predicate!r}")):
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
        from planner_loop.domains.obfuscation import RenamedGenerator

        return RenamedGenerator(base, self.spec.renamed_from.renaming, self.name, self.domain_file)


def _field_count(template: str) -> int:
    """Number of ``{}`` placeholders in a ``str.format`` template."""
    return sum(1 for _, field, _, _ in string.Formatter().parse(template) if field is not None)
