"""Domain-independent vocabulary of problem generation: requests, generated instances, the protocol.

A generator turns a :class:`GenerationRequest` (how many, which seed, size ranges, goal style,
filters) into :class:`GeneratedInstance` values. Optimal plan lengths are filled in afterwards by
:mod:`planner_loop.generation.problem_set`, which works for any domain through the real planner.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, runtime_checkable

from planner_loop.errors import ConfigError

_RANGE_RE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclass(frozen=True)
class SizeRange:
    """An inclusive integer range for one size parameter (``blocks``, ``packages``, ...)."""

    low: int
    high: int

    @classmethod
    def parse(cls, text: str, *, name: str = "size", minimum: int = 1, maximum: int | None = None) -> SizeRange:
        """Read ``"4"`` or ``"3-5"``; raise :class:`ConfigError` naming ``--<name>`` when malformed."""
        match = _RANGE_RE.match(text)
        if match is None:
            raise ConfigError(f"--{name} must be a number or a range like 3-5, got {text!r}")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if low > high:
            raise ConfigError(f"--{name} range {text!r} is empty (lower bound above upper bound)")
        if low < minimum:
            raise ConfigError(f"--{name} must be at least {minimum}, got {text!r}")
        if maximum is not None and high > maximum:
            raise ConfigError(f"--{name} must be at most {maximum}, got {text!r}")
        return cls(low, high)

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


@dataclass(frozen=True)
class GenerationRequest:
    """Everything that determines a generated set; the same request gives byte-identical instances."""

    count: int
    seed: int
    sizes: Mapping[str, SizeRange] = field(default_factory=dict, hash=False)
    goal_style: str | None = None  # None: the generator's default
    allow_duplicates: bool = False
    keep_trivial: bool = False
    # size name -> {value: weight}: the kept instances take each value in proportion to its weight
    # (exact quotas, see :func:`size_quotas`) instead of drawing it uniformly from the range
    size_weights: Mapping[str, Mapping[int, int]] = field(default_factory=dict, hash=False)


def size_quotas(weights: Mapping[int, int], count: int) -> dict[int, int]:
    """How many of ``count`` instances each size gets: largest-remainder apportionment of ``weights``.

    Ties in the remainders go to the smaller size, so the result depends only on the arguments.
    """
    if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) == 0:
        raise ConfigError("size weights must be non-negative and not all zero")
    total = sum(weights.values())
    exact = {size: count * weight / total for size, weight in weights.items()}
    quotas = {size: int(value) for size, value in exact.items()}
    left = count - sum(quotas.values())
    for size in sorted(exact, key=lambda s: (-(exact[s] - quotas[s]), s))[:left]:
        quotas[size] += 1
    return quotas


def parse_size_weights(text: str, *, name: str = "weights") -> dict[int, int]:
    """Read ``"4=446,5=55"`` (size=weight pairs); raise :class:`ConfigError` naming ``--<name>``."""
    weights: dict[int, int] = {}
    for item in text.split(","):
        size, separator, weight = item.partition("=")
        if not separator or not size.strip().isdigit() or not weight.strip().isdigit():
            raise ConfigError(f"--{name} must look like 4=446,5=55 (size=weight pairs), got {text!r}")
        if int(size) in weights:
            raise ConfigError(f"--{name}: size {int(size)} given twice")
        weights[int(size)] = int(weight)
    if not any(weights.values()):
        raise ConfigError(f"--{name}: the weights must not all be zero, got {text!r}")
    return weights


@dataclass(frozen=True)
class GeneratedInstance:
    """One generated problem: its PDDL text and what the manifest records about it."""

    id: str
    pddl: str
    sizes: Mapping[str, int] = field(hash=False)
    goal_style: str
    instance_seed: int  # seed of this attempt's own random stream; regenerates the instance alone
    attempt: int  # 0-based index of the attempt (dropped attempts included) that produced it
    optimal_length: int | None = None
    # extra manifest fields of this instance, e.g. {"solvable": False, "unsolvable_reason": "loop"}
    notes: Mapping[str, object] = field(default_factory=dict, hash=False)

    @property
    def solvable(self) -> bool | None:
        """``False`` when known unsolvable, ``True`` when an optimal length is known, else ``None``."""
        if self.notes.get("solvable") is False:
            return False
        return True if self.optimal_length is not None else None

    @property
    def file_name(self) -> str:
        """File name of the instance inside its set directory."""
        return f"{self.id}.pddl"

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the PDDL text as written (UTF-8)."""
        return hashlib.sha256(self.pddl.encode("utf-8")).hexdigest()

    def with_optimal_length(self, length: int | None) -> GeneratedInstance:
        """A copy carrying ``length`` as its optimal plan length."""
        return replace(self, optimal_length=length)


@runtime_checkable
class ProblemGenerator(Protocol):
    """A seeded instance generator for one domain (registered under :attr:`name`)."""

    name: str  # registry key and manifest ``domain`` field, e.g. "blocksworld"
    version: int  # bumped whenever the same request would produce different files
    domain_file: Path
    size_names: tuple[str, ...]  # size parameters it accepts, e.g. ("blocks",)
    goal_styles: tuple[str, ...]  # first one is the default

    def generate(self, request: GenerationRequest) -> Iterator[GeneratedInstance]:
        """Yield ``request.count`` instances (ids ``instance-1`` ...) without optimal lengths.

        Raises :class:`ConfigError` for a request it cannot serve (unknown size or goal style,
        or too few distinct non-trivial instances exist).
        """
        ...


def derive_seed(seed: int, *labels: object) -> int:
    """A 64-bit seed for a sub-stream, stable across Python versions and platforms."""
    text = "/".join(str(part) for part in (seed, *labels))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def problem_pddl(name: str, domain: str, objects: str | Sequence[str], init: Iterable[str],
                 goal: Iterable[str]) -> str:
    """PDDL problem text in the layout every generator writes: one atom per line, a conjunctive goal.

    ``objects`` is either the object list for one ``(:objects ...)`` line, or lines (such as
    ``"p0 p1 - package"``) for an ``(:objects`` block.
    """
    object_lines = (
        [f"  (:objects {objects})"] if isinstance(objects, str)
        else ["  (:objects", *(f"    {line}" for line in objects), "  )"]
    )
    lines = [
        f"(define (problem {name})",
        f"  (:domain {domain})",
        *object_lines,
        "  (:init",
        *(f"    {atom}" for atom in init),
        "  )",
        "  (:goal",
        "    (and",
        *(f"      {atom}" for atom in goal),
        "    )",
        "  )",
        ")",
    ]
    return "\n".join(lines) + "\n"
