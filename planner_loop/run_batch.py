"""Batch mode for a run (``run --batch``): the run's model calls go through the OpenAI Batch API.

Every episode of the run is started at once; a batch goes out when every episode still running is
waiting on a model call (after ``settle_s`` without change, so that the requests one episode sends
together, such as a critic's votes, all reach their batch). The run so advances round by round:
round *r* of every episode is in one batch job per model. Each model's submitted batches are
listed in the run directory (``batches.json``; ``batches-<hash>.json`` for a second model), so a
killed process resumes by polling the same batches instead of submitting the requests again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner_loop.errors import ConfigError

if TYPE_CHECKING:
    from planner_loop.llm.batch import BatchStatus

_EPISODE: ContextVar[str | None] = ContextVar("planner_loop_batch_episode", default=None)
SAFETY_LINGER_S = 60.0
"""A batch also goes out this long after its last request, should an episode wait on something else."""


def state_path(run_dir: Path, spec: str, first: bool) -> Path:
    """Where the batches of model ``spec`` are listed: ``batches.json`` for the run's first model."""
    if first:
        return run_dir / "batches.json"
    return run_dir / f"batches-{hashlib.sha256(spec.encode()).hexdigest()[:8]}.json"


def check_batchable(specs: Sequence[str], env: Mapping[str, str]) -> None:
    """Refuse batch mode for a model served on this machine (ConfigError naming the spec)."""
    from planner_loop.llm import parse_spec

    for spec in specs:
        if parse_spec(spec, env).kind == "local":
            raise ConfigError(f"--batch: model {spec!r} runs on this machine; batch mode needs an endpoint "
                              "with the OpenAI Batch API (/v1/files, /v1/batches)")


def open_batching(spec: str, inner: Any, run_dir: Path, *, first: bool, poll_s: float) -> Any:
    """``inner`` (an OpenAI-compatible model) behind the Batch API, its batches listed in ``run_dir``."""
    from planner_loop.llm.batch import BatchingModel

    return BatchingModel(inner, state_path(run_dir, spec, first), poll_interval_s=poll_s,
                         linger_s=SAFETY_LINGER_S, max_item_attempts=3)


class BatchRounds:
    """Knows which episodes are running and which of them wait on a model call; flushes when all do."""

    def __init__(self, *, settle_s: float = 0.05) -> None:
        self.settle_s = settle_s
        self._models: list[Any] = []
        self._running: set[str] = set()
        self._in_call: Counter[str] = Counter()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, model: Any) -> Any:
        """Flush ``model`` (a ``BatchingModel``) from here; returns it."""
        model.set_active(None)  # flushes come from here (or the safety linger), not per request
        self._models.append(model)
        return model

    @contextlib.contextmanager
    def episode(self, key: str) -> Iterator[None]:
        """Mark the calls made inside as episode ``key``'s; the episode counts as running until the end."""
        token = _EPISODE.set(key)
        self._running.add(key)
        try:
            yield
        finally:
            self._running.discard(key)
            _EPISODE.reset(token)
            self._changed()

    @contextlib.contextmanager
    def call(self) -> Iterator[None]:
        """Around one model call of the current episode."""
        key = _EPISODE.get()
        if key is None:
            yield
            return
        self._in_call[key] += 1
        self._changed()
        try:
            yield
        finally:
            self._in_call[key] -= 1
            if self._in_call[key] <= 0:
                del self._in_call[key]
            self._changed()

    def pending(self) -> tuple[BatchStatus, ...]:
        """The batches every model waits on, as their last poll found them (for progress)."""
        return tuple(status for model in self._models for status in model.pending_batches)

    def _all_waiting(self) -> bool:
        return bool(self._running) and all(key in self._in_call for key in self._running)

    def _changed(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._all_waiting():
            self._timer = asyncio.get_running_loop().call_later(self.settle_s, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if not self._all_waiting():
            return
        for model in self._models:
            model.set_active(0)      # every worker waits: what is queued goes out now
            model.set_active(None)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class RoundModel:
    """A ChatModel whose calls count as their episode waiting (for :class:`BatchRounds`)."""

    def __init__(self, model: Any, rounds: BatchRounds) -> None:
        self.model = model
        self.spec = model.spec
        self._rounds = rounds

    async def complete(self, messages: Any, params: Any) -> list[Any]:
        with self._rounds.call():
            return await self.model.complete(messages, params)

    async def aclose(self) -> None:
        """The wrapped model is closed by its owner."""
