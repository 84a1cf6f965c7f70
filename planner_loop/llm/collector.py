"""Garbage-collector pacing for a process that keeps hundreds of model calls in flight.

Each call in flight holds a few hundred objects for a whole latency (request, response, connection
state, the awaiting coroutines), so CPython's young collections (every 700 allocations by default)
promote them, and the oldest generation then fills and is scanned in full: with the start-up heap of
``openai``, ``pydantic`` and the planners that scan took 0.11-0.15 s on the benchmark machine, a stall
for every request in flight (``benchmarks/llm_overhead.py``). :func:`paced_collection` moves the
start-up heap out of the collector's sight (``gc.freeze``) and lets the young generation grow
larger, for as long as a run lasts; what the run allocates is still collected.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 20_000
"""Allocations between young collections while paced (CPython's default is 700)."""


@contextmanager
def paced_collection(young_threshold: int = YOUNG_THRESHOLD) -> Iterator[None]:
    """Freeze the heap as it is and raise the young threshold; both are undone on exit (a heap that
    was frozen already, by an enclosing pacing or by the application, is left frozen)."""
    before = gc.get_threshold()
    freezes = gc.get_freeze_count() == 0
    if freezes:
        gc.freeze()
    gc.set_threshold(max(young_threshold, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if freezes:
            gc.unfreeze()
