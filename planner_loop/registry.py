"""One way to find pluggable things by name: domains, generators, verifiers, planners, model
providers and strategies.

A :class:`Registry` maps names to entries. An entry is the object itself or a lazy ``"module:attr"``
reference, imported the first time it is asked for, so listing names never imports heavy code. Each
kind has an entry-point group (``planner_loop.<kind>``) through which another package adds entries::

    [project.entry-points."planner_loop.strategies"]
    beam = "my_package.strategies:BeamStrategy"

There is no process-wide registry: each kind's module builds its registry with a function
(``default_...()``) and callers pass the instance they hold.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from planner_loop.errors import ConfigError

T = TypeVar("T")

ENTRY_POINT_PREFIX = "planner_loop."


@dataclass(frozen=True)
class LazyRef:
    """A ``"module:attr"`` reference, imported on first use."""

    target: str

    def load(self) -> object:
        module_name, _, attr = self.target.partition(":")
        if not module_name or not attr:
            raise ConfigError(f"registry entry {self.target!r} is not of the form 'module:attr'")
        try:
            value: object = importlib.import_module(module_name)
            for part in attr.split("."):
                value = getattr(value, part)
        except (ImportError, AttributeError) as error:
            raise ConfigError(f"registry entry {self.target!r} cannot be loaded: {error}") from None
        return value


class Registry(Generic[T]):
    """Named entries of one kind (``kind`` is the word used in messages, e.g. ``"verifier"``).

    ``check`` (optional) validates a loaded entry and returns it typed; it raises
    :class:`ConfigError` for an entry that is not of the kind. Unknown names raise
    :class:`ConfigError` with near-name suggestions.
    """

    def __init__(self, kind: str, entries: Mapping[str, T | str] | None = None, *,
                 check: Callable[[object], T] | None = None, group: str | None = None) -> None:
        self.kind = kind
        self.group = group
        self._check = check
        self._entries: dict[str, T | LazyRef] = {}
        for name, entry in (entries or {}).items():
            self.register(name, entry)

    def register(self, name: str, entry: T | str, *, replace: bool = False) -> None:
        """Add ``entry`` (the object, or a ``"module:attr"`` string) under ``name``."""
        if not name:
            raise ConfigError(f"a {self.kind} needs a non-empty name")
        if name in self._entries and not replace and self._entries[name] is not entry:
            raise ConfigError(f"a {self.kind} named {name!r} is already registered")
        self._entries[name] = LazyRef(entry) if isinstance(entry, str) else entry

    def load_entry_points(self, *, replace: bool = True) -> Registry[T]:
        """Add the entries of installed packages' entry-point group (``self.group``); returns self."""
        if self.group is None:
            return self
        for point in entry_points(group=self.group):
            self.register(point.name, point.value, replace=replace)  # lazy: imported when asked for
        return self

    def get(self, name: str) -> T:
        """The entry called ``name``, loaded; :class:`ConfigError` with suggestions when unknown."""
        entry = self._entries.get(name)
        if entry is None:
            raise ConfigError(self.unknown_message(name))
        if isinstance(entry, LazyRef):
            loaded = entry.load()
            value = self._check(loaded) if self._check is not None else loaded
            self._entries[name] = value  # type: ignore[assignment]
            return value  # type: ignore[return-value]
        return entry

    def unknown_message(self, name: str) -> str:
        """``unknown <kind> 'x' (did you mean 'y'?); available: ...``."""
        close = difflib.get_close_matches(name, list(self._entries), n=3, cutoff=0.5)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        known = ", ".join(self.names()) or "none"
        return f"unknown {self.kind} {name!r}{hint}; available: {known}"

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        """``(name, entry)`` pairs in name order, each loaded."""
        for name in self.names():
            yield name, self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def copy(self) -> Registry[T]:
        """An independent registry with the same entries (registering in it leaves this one alone)."""
        clone: Registry[T] = Registry(self.kind, check=self._check, group=self.group)
        clone._entries = dict(self._entries)
        return clone


def near_names(name: str, names: Iterable[str]) -> list[str]:
    """Up to three names close to ``name`` (for 'did you mean' hints outside a registry)."""
    return difflib.get_close_matches(name, list(names), n=3, cutoff=0.5)
