"""Renamings: new names for a domain's predicates and actions, their provenance, and applying them.

A :class:`Renaming` rewrites PDDL text (:func:`rename_pddl`, :func:`rename_problem`) and the problems
of a generator (:class:`RenamedGenerator`). This lives apart from :mod:`planner_loop.domains.obfuscation`
(which writes renamed domain folders) so that :mod:`planner_loop.domains.templates` can read a
``renamed_from`` key and rename generated problems without importing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from planner_loop.errors import ConfigError

if TYPE_CHECKING:
    from planner_loop.generation.instances import GeneratedInstance, GenerationRequest, ProblemGenerator

_PDDL_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_COMMENT = re.compile(r";[^\n]*")


@dataclass(frozen=True)
class Renaming:
    """New names for a domain's predicates and actions (lower case; unmapped names stay)."""

    predicates: Mapping[str, str]
    actions: Mapping[str, str]
    domain_name: str | None = None  # the PDDL ``(domain ...)`` name of the result

    def __post_init__(self) -> None:
        for kind, mapping in (("predicate", self.predicates), ("action", self.actions)):
            targets = list(mapping.values())
            if len(set(targets)) != len(targets):
                raise ConfigError(f"renaming maps two {kind}s to the same name")
            for name in targets:
                if not _PDDL_NAME.fullmatch(name):
                    raise ConfigError(f"renaming: {name!r} is not a PDDL name")

    def inverse(self) -> Renaming:
        """The renaming that undoes this one (domain name left unchanged)."""
        return Renaming({v: k for k, v in self.predicates.items()}, {v: k for k, v in self.actions.items()})


@dataclass(frozen=True)
class RenamedFrom:
    """Provenance of a renamed domain: its source domain and the renaming (kept in domain.yaml)."""

    domain: str
    renaming: Renaming = field(repr=False)

    def to_yaml_data(self) -> dict[str, object]:
        """Plain data for the ``renamed_from`` key of ``domain.yaml``."""
        return {
            "domain": self.domain,
            "domain_name": self.renaming.domain_name,
            "predicates": dict(self.renaming.predicates),
            "actions": dict(self.renaming.actions),
        }


def _sub_names(text: str, mapping: Mapping[str, str], prefix: str) -> str:
    if not mapping:
        return text
    names = sorted(mapping, key=len, reverse=True)
    pattern = re.compile(prefix + r"(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])", re.IGNORECASE)
    return pattern.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + mapping[m.group(1).lower()], text)


def rename_pddl(text: str, renaming: Renaming) -> str:
    """Rename predicates and actions in a PDDL domain or problem text (comments are dropped)."""
    text = _COMMENT.sub("", text)
    text = _sub_names(text, renaming.predicates, r"\(\s*")
    text = _sub_names(text, renaming.actions, r"\(:action\s+")
    if renaming.domain_name:
        text = re.sub(r"(\(\s*(?::)?domain\s+)[^\s()]+", lambda m: m.group(1) + str(renaming.domain_name), text, flags=re.IGNORECASE)
    return re.sub(r"\n\s*\n+", "\n", text).strip() + "\n"


def rename_problem(text: str, renaming: Renaming, *, problem_name: str | None = None) -> str:
    """Carry a problem file of the source domain over to the renamed domain (optionally renamed too)."""
    text = rename_pddl(text, renaming)
    if problem_name:
        text = re.sub(r"(\(\s*problem\s+)[^\s()]+", lambda m: m.group(1) + problem_name, text, count=1, flags=re.IGNORECASE)
    return text


@dataclass(frozen=True)
class RenamedGenerator:
    """A source domain's problem generator whose problems come out renamed."""

    base: ProblemGenerator
    renaming: Renaming
    name: str
    domain_file: Path

    @property
    def version(self) -> int:
        """The base generator's version (the renaming is fixed data)."""
        return self.base.version

    @property
    def size_names(self) -> tuple[str, ...]:
        """The base generator's size parameters."""
        return self.base.size_names

    @property
    def goal_styles(self) -> tuple[str, ...]:
        """The base generator's goal styles."""
        return self.base.goal_styles

    def generate(self, request: GenerationRequest) -> Iterator[GeneratedInstance]:
        """The base generator's instances, renamed."""
        for instance in self.base.generate(request):
            # the source problem name ("bw-rand-...") would give the game away
            renamed = rename_problem(instance.pddl, self.renaming, problem_name=f"{self.name}-{instance.id}")
            yield replace(instance, pddl=renamed)
