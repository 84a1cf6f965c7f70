"""Problem generators by domain name (the keys are the ``--domain`` choices of ``problems generate``).

To add a domain's generator, add its factory to ``_FACTORIES``; nothing else needs to change.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from types import MappingProxyType

from planner_loop.errors import ConfigError
from planner_loop.generation.blocksworld import BlocksWorldGenerator
from planner_loop.generation.instances import ProblemGenerator
from planner_loop.generation.logistics import LogisticsGenerator

_FACTORIES: Mapping[str, Callable[[], ProblemGenerator]] = MappingProxyType(
    {
        "blocksworld": BlocksWorldGenerator,
        "logistics": LogisticsGenerator,
    }
)


def available_generators() -> list[str]:
    """Domain names that have a problem generator, sorted."""
    return sorted(_FACTORIES)


def get_generator(domain: str) -> ProblemGenerator:
    """The generator for ``domain``; raises :class:`ConfigError` with near-name suggestions."""
    factory = _FACTORIES.get(domain)
    if factory is None:
        close = difflib.get_close_matches(domain, list(_FACTORIES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"no problem generator for domain {domain!r}{hint}; available: {', '.join(available_generators())}"
        )
    return factory()
