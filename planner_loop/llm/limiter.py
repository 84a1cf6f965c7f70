"""Adaptive concurrency for one model: additive increase, multiplicative decrease (AIMD) on 429s.

The limit starts at the configured maximum. A rate-limit reply (HTTP 429, not quota exhaustion)
multiplies it by ``decrease`` — at most once per "generation", so the burst of 429s that one
overload produces counts once; each success adds ``1 / limit`` (about +1 per limit's worth of
successes), climbing back to the maximum. Requests wait in FIFO order for a free slot.
"""

from __future__ import annotations

import asyncio
import collections
from contextlib import asynccontextmanager
from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass
class Slot:
    """One admitted request; ``generation`` is the limiter's generation when it was admitted."""

    generation: int


class AdaptiveLimiter:
    """An asyncio concurrency limit that backs off on rate limits and climbs back.

    ``decrease`` is gentle (0.95) because a 429 from an OpenAI-style server costs only a short wait:
    staying near the server's capacity matters more than draining fast.
    """

    def __init__(self, max_limit: int, *, min_limit: int = 1, decrease: float = 0.95) -> None:
        if max_limit < 1 or min_limit < 1 or min_limit > max_limit:
            raise ValueError("need 1 <= min_limit <= max_limit")
        if not 0 < decrease < 1:
            raise ValueError("decrease must be between 0 and 1")
        self.max_limit = max_limit
        self.min_limit = min_limit
        self._decrease = decrease
        self._limit = float(max_limit)
        self._generation = 0
        self._in_flight = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self.decreases = 0
        """How often the limit was cut (one per overload, not per 429)."""
        self.lowest = max_limit
        """The lowest limit reached."""

    @property
    def limit(self) -> int:
        """Requests admitted at once right now."""
        return max(self.min_limit, int(self._limit))

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Hold one slot for the duration of a request."""
        await self._acquire()
        try:
            yield Slot(self._generation)
        finally:
            self._in_flight -= 1
            self._wake()

    async def _acquire(self) -> None:
        if self._in_flight < self.limit and not self._waiters:
            self._in_flight += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._in_flight -= 1  # admitted just as we were cancelled: give the slot back
                self._wake()
            else:
                self._waiters.remove(waiter)
            raise

    def _wake(self) -> None:
        while self._waiters and self._in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._in_flight += 1
                waiter.set_result(None)

    def rate_limited(self, slot: Slot) -> None:
        """A request admitted in ``slot`` got a 429: cut the limit (once per generation)."""
        if slot.generation != self._generation:
            return
        self._generation += 1
        self._limit = max(float(self.min_limit), self._limit * self._decrease)
        self.decreases += 1
        self.lowest = min(self.lowest, self.limit)

    def succeeded(self) -> None:
        """A request succeeded: climb back towards the maximum."""
        if self._limit < self.max_limit:
            self._limit = min(float(self.max_limit), self._limit + 1.0 / self._limit)
            self._wake()
