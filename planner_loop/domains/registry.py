"""Finding domains by name: built-in data folders, entry points and domains registered in code.

There is no process-wide registry: build one with :meth:`DomainRegistry.default` (built-ins plus
installed plugins) or :class:`DomainRegistry` (empty), and pass it where it is needed.

A separate package adds domains through the ``planner_loop.domains`` entry-point group; an entry
point may load to a ``Domain`` object, a folder holding a ``domain.yaml``, or a callable returning
either (or an iterable of them)::

    [project.entry-points."planner_loop.domains"]
    gripper = "my_package.domains:gripper"
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from planner_loop.domains.protocol import Domain
from planner_loop.domains.templates import DATA_FILE, TemplateDomain
from planner_loop.errors import ConfigError
from planner_loop.registry import ENTRY_POINT_PREFIX, Registry
from planner_loop.resources import builtin_dir

ENTRY_POINT_GROUP = ENTRY_POINT_PREFIX + "domains"


def load_domain(path: Path | str, *, generator: object | None = None, check: bool = True) -> TemplateDomain:
    """A domain from its data: a ``domain.yaml`` file or the folder that holds it (and its PDDL).

    ``generator`` (a ``planner_loop.generation.ProblemGenerator``) is what ``domain.generator()``
    returns; without it, the data file's ``generator`` key names a registered one. With ``check``
    the templates are checked against the PDDL file now (:class:`ConfigError` if they do not fit).
    """
    domain = TemplateDomain.from_path(path, generator=generator)
    if check:
        domain.check()
    return domain


def builtin_domain_dirs() -> list[Path]:
    """The built-in domain folders (each holds a ``domain.yaml``), sorted by name."""
    root = builtin_dir("domains")
    return sorted(p.parent for p in root.glob(f"*/{DATA_FILE}")) if root.is_dir() else []


class DomainRegistry:
    """Domains by name, on a :class:`planner_loop.registry.Registry`. Mutable only through
    :meth:`register`, and only the instance you hold."""

    def __init__(self, domains: Iterable[Domain] = ()) -> None:
        self._registry: Registry[Domain] = Registry("domain", group=ENTRY_POINT_GROUP)
        for domain in domains:
            self.register(domain)

    @classmethod
    def default(cls, *, plugins: bool = True) -> DomainRegistry:
        """The built-in data domains plus (when ``plugins``) those of installed entry points."""
        # built-ins are checked by the test suite; reading their PDDL lazily keeps this cheap
        registry = cls(load_domain(folder, check=False) for folder in builtin_domain_dirs())
        if plugins:
            # a domain entry point may give several domains (or folders), so it is read here rather
            # than registered under the entry point's own name
            for entry_point in entry_points(group=ENTRY_POINT_GROUP):
                for domain in _domains_from_entry_point(entry_point):
                    registry.register(domain, replace=True)
        return registry

    def register(self, domain: Domain, *, replace: bool = False) -> None:
        """Add ``domain`` under ``domain.name``; a second domain of the same name needs ``replace``."""
        if not isinstance(domain, Domain):
            raise ConfigError(f"{domain!r} does not implement the Domain protocol")
        self._registry.register(domain.name, domain, replace=replace)

    def get(self, name: str) -> Domain:
        """The domain called ``name`` (or the data folder at path ``name``, e.g. ``./gripper``).

        Raises :class:`ConfigError` suggesting near names.
        """
        if name in self._registry:
            return self._registry.get(name)
        path = Path(name)
        if ("/" in name or name.endswith((".yaml", ".yml"))) and (path.is_dir() or path.is_file()):
            return load_domain(path)  # a domain folder (or its domain.yaml) given by path
        raise ConfigError(self._registry.unknown_message(name))

    def names(self) -> list[str]:
        """Registered domain names, sorted."""
        return self._registry.names()

    def __contains__(self, name: object) -> bool:
        return name in self._registry

    def __iter__(self) -> Iterator[Domain]:
        return iter(domain for _, domain in self._registry.items())

    def __len__(self) -> int:
        return len(self._registry)


def _domains_from_entry_point(entry_point: EntryPoint) -> list[Domain]:
    where = f"entry point {entry_point.name!r} ({entry_point.value})"
    try:
        loaded = entry_point.load()
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"{where} of group {ENTRY_POINT_GROUP!r} cannot be loaded: {error}") from None
    if callable(loaded) and not isinstance(loaded, Domain):
        loaded = loaded()
    items = loaded if isinstance(loaded, (list, tuple)) else [loaded]
    domains: list[Domain] = []
    for item in items:
        if isinstance(item, (str, Path)):
            domains.append(load_domain(item))
        elif isinstance(item, Domain):
            domains.append(item)
        else:
            raise ConfigError(f"{where} gave {type(item).__name__}, not a Domain or a domain folder")
    return domains


def get_domain(name: str, registry: DomainRegistry | None = None) -> Domain:
    """The domain called ``name`` from ``registry`` (default: :meth:`DomainRegistry.default`)."""
    return (registry if registry is not None else DomainRegistry.default()).get(name)


def available_domains(registry: DomainRegistry | None = None) -> list[str]:
    """Names of the domains in ``registry`` (default: :meth:`DomainRegistry.default`)."""
    return (registry if registry is not None else DomainRegistry.default()).names()


def register_domain(domain: Domain, registry: DomainRegistry) -> None:
    """Add ``domain`` to ``registry`` (there is no global registry to add it to)."""
    registry.register(domain)
