"""Unsolvable Blocks World goals: an ``on`` goal made contradictory by one added atom, as PlanBench's
``unsolvable_blocksworld`` set does.

PlanBench's two kinds (its ``choice`` label):

``split``
    a block is asked to be on two different blocks, or two blocks on the same block;
``loop``
    the ``on`` atoms close a cycle (the bottom of a goal tower on its top, or two blocks on each other).

Either way no state satisfies the goal: in every Blocks World state each block rests on at most one
block, carries at most one block, and the ``on`` relation has no cycle (:func:`on_goal_satisfiable`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

TABLE = -1  # same marker as planner_loop.generation.blocksworld.TABLE
CONTRADICTION_KINDS = ("split", "loop")


@dataclass(frozen=True)
class Contradiction:
    """The atom added to a goal and why it makes the goal unsatisfiable."""

    kind: str           # "split" or "loop"
    block: int          # the added atom is (on block support)
    support: int


def on_goal_satisfiable(pairs: Iterable[tuple[int, int]]) -> bool:
    """Whether some Blocks World state makes every ``(on x y)`` in ``pairs`` true."""
    pairs = set(pairs)
    above: dict[int, int] = {}
    below: dict[int, int] = {}
    for x, y in pairs:
        if x == y or above.get(x, y) != y or below.get(y, x) != x:
            return False
        above[x], below[y] = y, x
    for start in above:
        seen = {start}
        current = start
        while current in above:
            current = above[current]
            if current in seen:
                return False
            seen.add(current)
    return True


def _towers(target: Sequence[int]) -> list[list[int]]:
    """Towers of a ``below`` map, each listed top to bottom."""
    covered = set(target)
    towers = []
    for top in range(len(target)):
        if top in covered:
            continue
        tower = [top]
        while target[tower[-1]] != TABLE:
            tower.append(target[tower[-1]])
        towers.append(tower)
    return towers


def contradict(target: Sequence[int], rng: random.Random) -> Contradiction | None:
    """One contradicting ``on`` atom for the goal of ``target`` (``None`` when its goal has no ``on`` atom).

    The kind is drawn first (``split`` or ``loop`` with equal chance), then the atom uniformly among
    those of that kind.
    """
    pairs = [(block, support) for block, support in enumerate(target) if support != TABLE]
    if not pairs:
        return None
    kind = rng.choice(CONTRADICTION_KINDS)
    n = len(target)
    if kind == "split":
        x, y = pairs[rng.randrange(len(pairs))]
        # (on x z): x on a second block; (on w y): a second block on y
        options = [(x, z) for z in range(n) if z not in (x, y)] + [(w, y) for w in range(n) if w not in (x, y)]
        if not options:
            return None
        block, support = options[rng.randrange(len(options))]
    else:
        # a tower's bottom block put on any block above it closes a cycle
        options = [(tower[-1], upper) for tower in _towers(target) if len(tower) > 1 for upper in tower[:-1]]
        block, support = options[rng.randrange(len(options))]
    if on_goal_satisfiable([*pairs, (block, support)]):
        raise AssertionError("a contradiction that is satisfiable: the construction above is wrong")
    return Contradiction(kind, block, support)
