"""A template domain's data: the ``domain.yaml`` file of phrasings and the action schemas of its PDDL file.

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

:class:`~planner_loop.domains.templates.TemplateDomain` renders and reads replies with these.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from planner_loop.domains.renaming import RenamedFrom, Renaming
from planner_loop.errors import ConfigError
from planner_loop.planning.strips import ActionSchema

DATA_FILE = "domain.yaml"
_KEYS = frozenset(
    {"name", "pddl", "generator", "description", "objects", "object_patterns", "predicates", "actions", "renamed_from"}
)


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


def template_fields(template: str, source: Path | str, line: int | None, what: str) -> list[int]:
    """The placeholder indices of a template (``{0}``, ``{1}``, ...); raises a located :class:`ConfigError`."""
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
            template_fields(template, source, lines.get("predicates"), f"predicate {name!r}")
        predicates[name] = template
    actions: dict[str, str] = {}
    for name, template in mapping("actions").items():
        if not isinstance(template, str) or not template.strip():
            raise ConfigError(f"action {name!r}: template must be a non-empty string", source=source, line=lines.get("actions"))
        template_fields(template, source, lines.get("actions"), f"action {name!r}")
        actions[name] = template
    objects = {name: str(display) for name, display in mapping("objects").items()}
    patterns: list[tuple[str, str]] = []
    for pattern, display in (data.get("object_patterns") or {}).items():
        where = lines.get("object_patterns")
        try:
            groups = re.compile(str(pattern)).groups
        except re.error as error:
            raise ConfigError(f"object pattern {pattern!r}: {error}", source=source, line=where) from None
        fields = template_fields(str(display), source, where, f"object pattern {pattern!r}")
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

