"""Problem generators by domain name (the keys are the ``--domain`` choices of ``problems generate``).

Built-in generators are lazy ``module:attr`` entries of a :class:`planner_loop.registry.Registry`;
another package adds one through the ``planner_loop.generators`` entry-point group (an entry loads
to a zero-argument factory, e.g. the generator class).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from planner_loop.errors import ConfigError
from planner_loop.generation.instances import ProblemGenerator
from planner_loop.registry import ENTRY_POINT_PREFIX, Registry

GeneratorFactory = Callable[[], ProblemGenerator]
GROUP = ENTRY_POINT_PREFIX + "generators"
BUILTIN_GENERATORS: Mapping[str, str] = MappingProxyType({
    "blocksworld": "planner_loop.generation.blocksworld:BlocksWorldGenerator",
    "logistics": "planner_loop.generation.logistics:LogisticsGenerator",
})


def _check_factory(value: object) -> GeneratorFactory:
    if not callable(value):
        raise ConfigError(f"a generator entry must be a factory (callable), not {type(value).__name__}")
    return value  # type: ignore[return-value]


def default_generators(*, plugins: bool = True) -> Registry[GeneratorFactory]:
    """The built-in generators plus (when ``plugins``) those of installed entry points."""
    registry: Registry[GeneratorFactory] = Registry("problem generator", dict(BUILTIN_GENERATORS),
                                                    check=_check_factory, group=GROUP)
    return registry.load_entry_points(replace=False) if plugins else registry


def available_generators(registry: Registry[GeneratorFactory] | None = None) -> list[str]:
    """Domain names that have a problem generator, sorted."""
    return (registry if registry is not None else default_generators()).names()


def get_generator(domain: str, registry: Registry[GeneratorFactory] | None = None) -> ProblemGenerator:
    """The generator for ``domain``; raises :class:`ConfigError` with near-name suggestions."""
    factory = (registry if registry is not None else default_generators()).get(domain)
    generator = factory()
    if not isinstance(generator, ProblemGenerator):
        raise ConfigError(f"the generator registered for {domain!r} does not implement ProblemGenerator")
    return generator
