"""The renaming value types: new names for a domain's predicates and actions, and their provenance.

They live apart from :mod:`planner_loop.domains.obfuscation` (which renames files) so that
:mod:`planner_loop.domains.templates` can read a ``renamed_from`` key without importing it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from planner_loop.errors import ConfigError

_PDDL_NAME = re.compile(r"[a-z][a-z0-9_-]*")


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
