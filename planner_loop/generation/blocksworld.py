"""Uniform random Blocks World problems (Slaney & Thiébaux 2001, "Blocks World revisited").

States
    A state of n labelled blocks with the hand empty is a set of towers. It is stored as a
    ``below`` tuple: ``below[i]`` is the index of the block that block ``i`` sits on, or ``TABLE``.
    Blocks are named ``a, b, c, ...`` as in PlanBench (``z`` is followed by ``aa, ab, ...``).

Counting
    Build a state by repeatedly taking one *floating* tower (a partial tower not yet known to stand
    on the table) and deciding where its bottom block goes: on the table (the tower becomes
    *grounded*) or onto the top of one of the other ``m - 1`` floating or ``k`` grounded towers.
    Every state arises from exactly one sequence of such decisions, so the number of completions
    ``g(m, k)`` with ``m`` floating and ``k`` grounded towers satisfies::

        g(0, k) = 1
        g(m, k) = g(m - 1, k + 1) + (m - 1 + k) * g(m - 1, k)

    and ``g(n, 0)`` counts all states of n blocks (OEIS A000262: 1, 3, 13, 73, 501, 4051, ...).

Sampling
    Start with every block a floating tower of its own and make the decisions one by one, choosing
    each option with probability proportional to its completion count (exact integers, one
    ``randrange`` per block). Every state is therefore drawn with probability exactly ``1 / g(n, 0)``.

Goals
    ``on-only`` (default, as PlanBench): the ``on`` atoms of a uniformly drawn target state.
    ``full``: every atom of the target state — ``on``, ``ontable``, ``clear`` and ``handempty`` — so
    the goal holds exactly when the final state *is* the target state.
    ``contradictory``: the ``on``-only goal plus one atom that no state can satisfy together with it
    (PlanBench's unsolvable set; :mod:`planner_loop.generation.contradiction`), drawn from the same
    attempt stream after the target; such instances carry ``solvable: false`` in the manifest.

Sizes, seeds, filters
    Attempt ``j`` of a request with seed ``S`` uses its own ``random.Random(derive_seed(S,
    "blocksworld", j))`` stream: it draws the number of blocks uniformly from the requested range,
    then the initial state, then the target state. A trivial attempt (goal already true initially)
    or a duplicate (same initial state and goal as an earlier instance) is dropped unless
    ``keep_trivial`` / ``allow_duplicates``; kept attempts become ``instance-1, instance-2, ...``.
    Because small sizes are more often trivial or duplicated, the kept sizes lean slightly towards
    the top of the range. A duplicate is the same initial state and goal (the ``on`` atoms of a
    hand-empty state determine it, so comparing target states is comparing goals).

Size weights (``GenerationRequest.size_weights["blocks"]``, e.g. PlanBench's ``{4: 446, 5: 55}``)
    The kept instances are split between the sizes by exact quotas (largest remainder, see
    :func:`~planner_loop.generation.instances.size_quotas`); attempt ``j`` draws its size with
    ``rng.choices`` weighted among the sizes whose quota is not yet full, then the states as above.
    Without weights the stream and the files are exactly those of the uniform draw.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import ascii_lowercase
from typing import TYPE_CHECKING

from planner_loop.errors import ConfigError
from planner_loop.generation.contradiction import Contradiction, contradict
from planner_loop.generation.instances import (
    GeneratedInstance, GenerationRequest, SizeRange, derive_seed, problem_pddl, size_quotas,
)
from planner_loop.resources import builtin_dir

if TYPE_CHECKING:
    import networkx as nx

TABLE = -1
HELD = -2  # only in state-graph nodes (a block in the hand)
DOMAIN_NAME = "blocksworld-4ops"
GOAL_STYLES = ("on-only", "full", "contradictory")
MAX_BLOCKS = 1000
# Consecutive dropped attempts after which a request is declared impossible to fill.
MAX_CONSECUTIVE_DROPS = 20_000

Atom = tuple[str, ...]
BelowMap = tuple[int, ...]


def block_names(n: int) -> tuple[str, ...]:
    """Names of n blocks: ``a`` .. ``z``, then ``aa``, ``ab``, ... (spreadsheet-column style)."""
    names = []
    for index in range(n):
        name = ""
        number = index + 1
        while number:
            number, remainder = divmod(number - 1, 26)
            name = ascii_lowercase[remainder] + name
        names.append(name)
    return tuple(names)


def completion_counts(n: int) -> list[list[int]]:
    """Table ``g[m][k]`` (``m + k <= n``): completions with m floating and k grounded towers."""
    if n < 0:
        raise ValueError("n must be non-negative")
    table: list[list[int]] = [[1] * (n + 1)]
    for m in range(1, n + 1):
        previous = table[m - 1]
        table.append([previous[k + 1] + (m - 1 + k) * previous[k] for k in range(n - m + 1)])
    return table


def count_states(n: int) -> int:
    """Number of Blocks World states of n labelled blocks with the hand empty (OEIS A000262)."""
    return completion_counts(n)[n][0]


def naive_tower_state(n: int, rng: random.Random) -> tuple[int, ...]:
    """A fast but NOT uniform state of ``n`` blocks: each block, in random order, goes on the table or
    on a random tower top. Kept as the baseline that shows why :class:`UniformStateSampler` counts:
    the uniformity test rejects it and the generator benchmark compares speeds against it."""
    below = [TABLE] * n
    tops: list[int] = []
    for block in rng.sample(range(n), n):
        choice = rng.randrange(len(tops) + 1)
        if choice == len(tops):
            tops.append(block)
        else:
            below[block] = tops[choice]
            tops[choice] = block
    return tuple(below)


class UniformStateSampler:
    """Draws ``below`` maps of n blocks uniformly from all hand-empty states."""

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError("a state needs at least one block")
        self.n = n
        self._counts = completion_counts(n)

    @property
    def state_count(self) -> int:
        """How many states there are to draw from."""
        return self._counts[self.n][0]

    def sample(self, rng: random.Random) -> BelowMap:
        """One uniformly random state."""
        counts = self._counts
        below = [TABLE] * self.n
        floating = [[block, block] for block in range(self.n)]  # [bottom, top] of each floating tower
        grounded_tops: list[int] = []
        while floating:
            m, k = len(floating), len(grounded_tops)
            bottom, top = floating.pop()
            draw = rng.randrange(counts[m][k])
            to_table = counts[m - 1][k + 1]
            if draw < to_table:
                grounded_tops.append(top)
                continue
            target = (draw - to_table) // counts[m - 1][k]
            if target < m - 1:
                tower = floating[target]
                below[bottom] = tower[1]
                tower[1] = top
            else:
                slot = target - (m - 1)
                below[bottom] = grounded_tops[slot]
                grounded_tops[slot] = top
        return tuple(below)


def state_atoms(below: BelowMap, names: Sequence[str], *, handempty: bool = True) -> list[Atom]:
    """Atoms of a hand-empty state in file order: handempty, each block's position, clear blocks."""
    atoms: list[Atom] = [("handempty",)] if handempty else []
    covered = set(below)
    for block, support in enumerate(below):
        atoms.append(("ontable", names[block]) if support == TABLE else ("on", names[block], names[support]))
    atoms.extend(("clear", names[block]) for block in range(len(below)) if block not in covered)
    return atoms


def goal_atoms(target: BelowMap, names: Sequence[str], style: str) -> list[Atom]:
    """Goal atoms for a target state in the goal style ``on-only`` or ``full`` (``contradictory``
    instances are the ``on-only`` goal plus :func:`~planner_loop.generation.contradiction.contradict`)."""
    if style == "full":
        return state_atoms(target, names)
    if style == "on-only":
        return [("on", names[block], names[support]) for block, support in enumerate(target) if support != TABLE]
    raise ConfigError(f"unknown goal style {style!r}; choose one of {', '.join(GOAL_STYLES)}")


def is_trivial(init: BelowMap, target: BelowMap, style: str) -> bool:
    """Whether the goal drawn from ``target`` already holds in ``init``."""
    if style == "full":
        return init == target
    if style == "contradictory":
        return False
    return all(support == TABLE or init[block] == support for block, support in enumerate(target))


def _pddl_atom(atom: Atom) -> str:
    return f"({' '.join(atom)})"


def render_problem(name: str, names: Sequence[str], init: BelowMap, goal: Sequence[Atom]) -> str:
    """PDDL problem text for the 4-operator domain (lower case, one atom per line)."""
    return problem_pddl(name, DOMAIN_NAME, " ".join(names), map(_pddl_atom, state_atoms(init, names)),
                        map(_pddl_atom, goal))


@dataclass(frozen=True)
class BlocksWorldGenerator:
    """The Blocks World :class:`~planner_loop.generation.ProblemGenerator`."""

    name: str = "blocksworld"
    version: int = 1
    size_names: tuple[str, ...] = ("blocks",)
    goal_styles: tuple[str, ...] = GOAL_STYLES

    @property
    def domain_file(self) -> Path:
        """The 4-operator domain the generated problems are written for."""
        return builtin_dir("domains") / "blocksworld" / "domain.pddl"

    def _check(self, request: GenerationRequest) -> tuple[SizeRange, str]:
        unknown = sorted(set(request.sizes) - set(self.size_names))
        if unknown:
            raise ConfigError(f"blocksworld has no size parameter {unknown[0]!r}; use --blocks")
        blocks = request.sizes.get("blocks")
        if blocks is None:
            raise ConfigError("blocksworld needs --blocks (a number or a range like 3-5)")
        if blocks.low < 1 or blocks.high > MAX_BLOCKS:
            raise ConfigError(f"--blocks must lie between 1 and {MAX_BLOCKS}, got {blocks}")
        style = request.goal_style or self.goal_styles[0]
        if style not in self.goal_styles:
            raise ConfigError(f"unknown goal style {style!r} for blocksworld; choose one of {', '.join(self.goal_styles)}")
        if request.count < 1:
            raise ConfigError(f"--count must be at least 1, got {request.count}")
        unknown = sorted(set(request.size_weights) - {"blocks"})
        if unknown:
            raise ConfigError(f"blocksworld has no size parameter {unknown[0]!r} to weight")
        outside = sorted(n for n in request.size_weights.get("blocks", {}) if not blocks.low <= n <= blocks.high)
        if outside:
            raise ConfigError(f"--weights: size {outside[0]} lies outside --blocks {blocks}")
        return blocks, style

    def _quotas(self, request: GenerationRequest) -> dict[int, int] | None:
        weights = request.size_weights.get("blocks")
        return None if not weights else size_quotas(weights, request.count)

    def generate(self, request: GenerationRequest) -> Iterator[GeneratedInstance]:
        """Yield ``request.count`` instances; see the module docstring for the procedure."""
        blocks, style = self._check(request)
        samplers = {n: UniformStateSampler(n) for n in range(blocks.low, blocks.high + 1)}
        names_by_size = {n: block_names(n) for n in samplers}
        quotas = self._quotas(request)
        weights = request.size_weights.get("blocks", {})
        seen: set[tuple[BelowMap, BelowMap, Contradiction | None]] = set()
        produced = attempt = drops = 0
        while produced < request.count:
            instance_seed = derive_seed(request.seed, self.name, attempt)
            rng = random.Random(instance_seed)
            if quotas is None:
                n = rng.randint(blocks.low, blocks.high)
            else:
                open_sizes = sorted(size for size, left in quotas.items() if left > 0)
                n = rng.choices(open_sizes, weights=[weights[size] for size in open_sizes])[0]
            sampler = samplers[n]
            init = sampler.sample(rng)
            target = sampler.sample(rng)
            attempt += 1
            contradiction = contradict(target, rng) if style == "contradictory" else None
            key = (init, target, contradiction)
            if (style == "contradictory" and contradiction is None) or (
                not request.keep_trivial and is_trivial(init, target, style)) or (
                not request.allow_duplicates and key in seen
            ):
                drops += 1
                if drops >= MAX_CONSECUTIVE_DROPS:
                    raise ConfigError(
                        f"found only {produced} distinct non-trivial blocksworld instances with --blocks {blocks} "
                        f"and --goal {style} after {attempt} attempts; ask for fewer, widen --blocks, "
                        "or pass --allow-duplicates / --keep-trivial"
                    )
                continue
            drops = 0
            if not request.allow_duplicates:
                seen.add(key)
            if quotas is not None:
                quotas[n] -= 1
            produced += 1
            names = names_by_size[n]
            instance_id = f"instance-{produced}"
            goal = goal_atoms(target, names, "on-only" if contradiction else style)
            notes: dict[str, object] = {}
            if contradiction is not None:
                added = ("on", names[contradiction.block], names[contradiction.support])
                goal.append(added)
                notes = {"solvable": False, "unsolvable_reason": contradiction.kind, "added_goal": _pddl_atom(added)}
            yield GeneratedInstance(
                id=instance_id,
                pddl=render_problem(f"bw-rand-{n}-{instance_id}", names, init, goal),
                sizes={"blocks": n},
                goal_style=style,
                instance_seed=instance_seed,
                attempt=attempt - 1,
                notes=notes,
            )


# --- the explicit state graph (an independent optimal-length oracle for small n) ---------------


def _clear_blocks(position: tuple[int, ...]) -> list[int]:
    covered = set(position)
    return [block for block, support in enumerate(position) if support != HELD and block not in covered]


def _successors(position: tuple[int, ...], names: Sequence[str]) -> Iterator[tuple[str, tuple[int, ...]]]:
    held = next((block for block, support in enumerate(position) if support == HELD), None)
    clear = _clear_blocks(position)
    if held is None:
        for block in clear:
            after = list(position)
            after[block] = HELD
            support = position[block]
            action = f"(pick-up {names[block]})" if support == TABLE else f"(unstack {names[block]} {names[support]})"
            yield action, tuple(after)
        return
    after = list(position)
    after[held] = TABLE
    yield f"(put-down {names[held]})", tuple(after)
    for block in clear:
        after = list(position)
        after[held] = block
        yield f"(stack {names[held]} {names[block]})", tuple(after)


def state_graph(n: int) -> nx.DiGraph:
    """All reachable states of n blocks (hand empty or holding one block) and the actions between them.

    Nodes are position tuples (``TABLE``, ``HELD`` or the index of the supporting block) carrying
    their true atoms as ``atoms``; every edge carries its ground action as ``action`` (PDDL text).
    """
    import networkx as nx

    names = block_names(n)
    graph = nx.DiGraph()
    start = tuple([TABLE] * n)
    graph.add_node(start)
    frontier = [start]
    while frontier:
        next_frontier = []
        for node in frontier:
            for action, successor in _successors(node, names):
                if successor not in graph:
                    next_frontier.append(successor)
                graph.add_edge(node, successor, action=action)
        frontier = next_frontier
    nx.set_node_attributes(graph, {node: node_atoms(node, names) for node in graph}, "atoms")
    return graph


def node_atoms(position: tuple[int, ...], names: Sequence[str]) -> frozenset[Atom]:
    """All true atoms of a state-graph node."""
    atoms: set[Atom] = set()
    held = [block for block, support in enumerate(position) if support == HELD]
    if held:
        atoms.add(("holding", names[held[0]]))
    else:
        atoms.add(("handempty",))
    for block, support in enumerate(position):
        if support == TABLE:
            atoms.add(("ontable", names[block]))
        elif support != HELD:
            atoms.add(("on", names[block], names[support]))
    atoms.update(("clear", names[block]) for block in _clear_blocks(position))
    return frozenset(atoms)


def bfs_optimal_length(init: BelowMap, goal: Sequence[Atom], graph: nx.DiGraph | None = None) -> int | None:
    """Length of a shortest plan from ``init`` to any state satisfying ``goal``, by BFS over the state graph."""
    import networkx as nx

    graph = graph if graph is not None else state_graph(len(init))
    wanted = frozenset(goal)
    distances = nx.single_source_shortest_path_length(graph, tuple(init))
    atoms = graph.nodes
    reachable = [distance for node, distance in distances.items() if wanted <= atoms[node]["atoms"]]
    return min(reachable) if reachable else None
