"""Random Logistics problems for the typed domain in ``domains/logistics/domain.pddl``.

Names follow PlanBench's Logistics generator: cities ``c0 ..``, locations ``l<city>-<k>`` (``k = 0``
is the city's airport), one truck ``t<city>`` per city, airplanes ``a0 ..``, packages ``p0 ..``.

Attempt ``j`` of a request with seed ``S`` draws from ``random.Random(derive_seed(S, "logistics", j))``:
the sizes (each uniformly from its range), each truck's location inside its city, each airplane's
airport, each package's location, then each package's goal location (all uniformly). An attempt whose
goal already holds, or that repeats an earlier instance, is dropped unless ``keep_trivial`` /
``allow_duplicates``. Every instance is solvable: trucks reach every location of their city and
airplanes every airport.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from planner_loop.errors import ConfigError
from planner_loop.generation.instances import (
    GeneratedInstance, GenerationRequest, SizeRange, derive_seed, problem_pddl,
)
from planner_loop.resources import builtin_dir

DEFAULT_SIZES: Mapping[str, SizeRange] = {
    "cities": SizeRange(2, 2),
    "locations": SizeRange(2, 2),
    "packages": SizeRange(1, 2),
    "airplanes": SizeRange(1, 1),
}
MINIMUM = {"cities": 1, "locations": 1, "packages": 1, "airplanes": 1}
MAXIMUM = 100
MAX_CONSECUTIVE_DROPS = 20_000


@dataclass(frozen=True)
class LogisticsLayout:
    """One drawn instance: where every vehicle and package starts and where packages must go."""

    cities: int
    locations: int
    trucks: tuple[str, ...]  # truck i's location
    airplanes: tuple[str, ...]  # airplane k's airport
    packages: tuple[str, ...]  # package k's location
    goals: tuple[str, ...]  # package k's goal location

    def is_trivial(self) -> bool:
        """True when every package already is where it must go."""
        return self.packages == self.goals

    def to_pddl(self, name: str) -> str:
        """The problem in PDDL for the typed Logistics domain."""
        cities = [f"c{i}" for i in range(self.cities)]
        airports = [f"l{i}-0" for i in range(self.cities)]
        others = [f"l{i}-{k}" for i in range(self.cities) for k in range(1, self.locations)]
        trucks = [f"t{i}" for i in range(self.cities)]
        planes = [f"a{k}" for k in range(len(self.airplanes))]
        packages = [f"p{k}" for k in range(len(self.packages))]
        objects = [
            (cities, "city"),
            (airports, "airport"),
            (others, "location"),
            (trucks, "truck"),
            (planes, "airplane"),
            (packages, "package"),
        ]
        init = [f"(in-city l{i}-{k} c{i})" for i in range(self.cities) for k in range(self.locations)]
        init += [f"(at {t} {loc})" for t, loc in zip(trucks, self.trucks, strict=True)]
        init += [f"(at {a} {loc})" for a, loc in zip(planes, self.airplanes, strict=True)]
        init += [f"(at {p} {loc})" for p, loc in zip(packages, self.packages, strict=True)]
        goal = [f"(at {p} {loc})" for p, loc in zip(packages, self.goals, strict=True)]
        return problem_pddl(name, "logistics", [f"{' '.join(names)} - {kind}" for names, kind in objects if names],
                            init, goal)


def draw_layout(rng: random.Random, sizes: Mapping[str, SizeRange]) -> LogisticsLayout:
    """Draw one instance's sizes and positions from ``rng`` (see the module docstring)."""
    n_cities = rng.randint(sizes["cities"].low, sizes["cities"].high)
    n_locations = rng.randint(sizes["locations"].low, sizes["locations"].high)
    n_packages = rng.randint(sizes["packages"].low, sizes["packages"].high)
    n_airplanes = rng.randint(sizes["airplanes"].low, sizes["airplanes"].high)
    everywhere = [f"l{i}-{k}" for i in range(n_cities) for k in range(n_locations)]
    trucks = tuple(f"l{i}-{rng.randrange(n_locations)}" for i in range(n_cities))
    airplanes = tuple(f"l{rng.randrange(n_cities)}-0" for _ in range(n_airplanes))
    packages = tuple(rng.choice(everywhere) for _ in range(n_packages))
    goals = tuple(rng.choice(everywhere) for _ in range(n_packages))
    return LogisticsLayout(n_cities, n_locations, trucks, airplanes, packages, goals)


@dataclass(frozen=True)
class LogisticsGenerator:
    """The Logistics :class:`~planner_loop.generation.ProblemGenerator`."""

    name: str = "logistics"
    version: int = 1
    size_names: tuple[str, ...] = ("cities", "locations", "packages", "airplanes")
    goal_styles: tuple[str, ...] = ("packages",)

    @property
    def domain_file(self) -> Path:
        """The typed Logistics domain the problems are written for."""
        return builtin_dir("domains") / "logistics" / "domain.pddl"

    def _sizes(self, request: GenerationRequest) -> dict[str, SizeRange]:
        unknown = sorted(set(request.sizes) - set(self.size_names))
        if unknown:
            raise ConfigError(
                f"logistics has no size parameter {unknown[0]!r}; use --size NAME=RANGE with one of "
                + ", ".join(self.size_names)
            )
        sizes = {**DEFAULT_SIZES, **request.sizes}
        for name, size in sizes.items():
            if size.low < MINIMUM[name] or size.high > MAXIMUM:
                raise ConfigError(f"logistics size {name} must lie between {MINIMUM[name]} and {MAXIMUM}, got {size}")
        style = request.goal_style or self.goal_styles[0]
        if style not in self.goal_styles:
            raise ConfigError(f"unknown goal style {style!r} for logistics; choose one of {', '.join(self.goal_styles)}")
        if request.count < 1:
            raise ConfigError(f"--count must be at least 1, got {request.count}")
        return sizes

    def generate(self, request: GenerationRequest) -> Iterator[GeneratedInstance]:
        """Yield ``request.count`` instances ``instance-1`` ... (no optimal lengths yet)."""
        sizes = self._sizes(request)
        seen: set[LogisticsLayout] = set()
        produced = attempt = drops = 0
        while produced < request.count:
            instance_seed = derive_seed(request.seed, self.name, attempt)
            layout = draw_layout(random.Random(instance_seed), sizes)
            attempt += 1
            if (not request.keep_trivial and layout.is_trivial()) or (not request.allow_duplicates and layout in seen):
                drops += 1
                if drops >= MAX_CONSECUTIVE_DROPS:
                    raise ConfigError(
                        f"found only {produced} distinct non-trivial logistics instances after {attempt} attempts; "
                        "ask for fewer, widen the sizes, or pass --allow-duplicates / --keep-trivial"
                    )
                continue
            drops = 0
            seen.add(layout)
            produced += 1
            instance_id = f"instance-{produced}"
            label = f"logistics-c{layout.cities}-l{layout.locations}-p{len(layout.packages)}-a{len(layout.airplanes)}"
            yield GeneratedInstance(
                id=instance_id,
                pddl=layout.to_pddl(f"{label}-{instance_id}"),
                sizes={
                    "cities": layout.cities,
                    "locations": layout.locations,
                    "packages": len(layout.packages),
                    "airplanes": len(layout.airplanes),
                },
                goal_style="packages",
                instance_seed=instance_seed,
                attempt=attempt - 1,
            )
