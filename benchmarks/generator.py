"""Blocks World generator throughput, measured in one run.

Prints: uniform states per second (against a naive, non-uniform placement sampler as baseline),
instances per second of the plain sampler (``--allow-duplicates --keep-trivial``, no solving) in
memory and written to disk, with the default filters, and with Fast Downward optimal lengths.

    .venv/bin/python benchmarks/generator.py
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from planner_loop.generation import GenerationRequest, SizeRange, generate_problem_set, get_generator
from planner_loop.generation.blocksworld import UniformStateSampler, naive_tower_state




def rate(work: Callable[[], int], min_seconds: float = 1.0) -> float:
    """Items per second of ``work`` (which returns how many items it made), repeated for min_seconds."""
    items, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_seconds:
        items += work()
    return items / elapsed


def main() -> None:
    print("uniform states/s vs naive placement sampler (same run)")
    for n in (4, 10, 50):
        sampler = UniformStateSampler(n)
        rng = random.Random(0)
        uniform = rate(lambda: sum(1 for _ in range(1000) if sampler.sample(rng)))
        naive = rate(lambda: sum(1 for _ in range(1000) if naive_tower_state(n, rng)))
        print(f"  n={n:>3}: uniform {uniform:>10,.0f}/s  naive {naive:>10,.0f}/s  ratio {uniform / naive:.2f}")

    generator = get_generator("blocksworld")
    plain = GenerationRequest(count=5000, seed=1, sizes={"blocks": SizeRange(3, 5)}, allow_duplicates=True, keep_trivial=True)
    filtered = GenerationRequest(count=2000, seed=1, sizes={"blocks": SizeRange(3, 5)})
    print("instances/s, --blocks 3-5")
    print(f"  plain sampler, in memory:        {rate(lambda: len(list(generator.generate(plain)))):>10,.0f}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        disk = rate(lambda: len(generate_problem_set(generator, plain, out, optimal=False, overwrite=True)))
        print(f"  plain sampler, written to disk:  {disk:>10,.0f}")
    print(f"  default filters, in memory:      {rate(lambda: len(list(generator.generate(filtered)))):>10,.0f}")
    for blocks in ("3-5", "6-10"):
        solved = GenerationRequest(count=20, seed=2, sizes={"blocks": SizeRange.parse(blocks)})
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            generate_problem_set(generator, solved, Path(tmp))
            print(f"  with Fast Downward lengths, --blocks {blocks}: {20 / (time.perf_counter() - start):.2f}")


if __name__ == "__main__":
    main()
