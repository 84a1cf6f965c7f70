"""ChatModel wrappers a run puts around its models: in-flight coalescing, a role label, a call gate.

The gate enforces run-level limits (paid calls, dollars) and a stop request (Ctrl-C): a call that
may not start raises :class:`CallsStopped`; calls already in flight finish (and are cached).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from planner_loop.errors import PlannerLoopError


class CallsStopped(PlannerLoopError):
    """No new model call may start: the run hit a limit or was asked to stop. ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Spend:
    """Paid calls (requests that reached an endpoint) and their dollars; ``cost_usd`` None if unpriced."""

    calls: int
    cost_usd: float | None


@dataclass(frozen=True)
class Limits:
    """Run-level limits; None means no limit."""

    max_calls: int | None = None
    max_cost_usd: float | None = None


class CallGate:
    """Admits model calls while the limits allow and no stop was requested.

    ``spend`` reports what has been paid so far (the run's earlier sessions included). A call
    of ``n`` samples counts as ``n`` calls until it finishes (a cached reply then costs nothing),
    so the paid calls never exceed ``max_calls``. Dollars are known only after a call, so the cost
    limit is checked against finished calls: the overshoot is at most the calls in flight.
    """

    def __init__(self, limits: Limits, spend: Callable[[], Spend]) -> None:
        self.limits = limits
        self._spend = spend
        self._in_flight = 0
        self._changed: asyncio.Condition | None = None
        self._stop_reason: str | None = None

    @property
    def stop_reason(self) -> str | None:
        """Why calls are refused (None while they are admitted)."""
        return self._stop_reason

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    def stop(self, reason: str) -> None:
        """Refuse every call from now on (the calls in flight still finish)."""
        if self._stop_reason is None:
            self._stop_reason = reason
        condition = self._condition()

        async def wake() -> None:
            async with condition:
                condition.notify_all()

        try:
            asyncio.get_running_loop().create_task(wake())
        except RuntimeError:
            pass  # no loop running: nobody is waiting

    def _refusal(self, weight: int) -> str | None:
        """None when a call of ``weight`` samples may start now, "wait", or the reason to stop."""
        if self._stop_reason is not None:
            return self._stop_reason
        spent = self._spend()
        limits = self.limits
        if limits.max_cost_usd is not None and spent.cost_usd is not None and spent.cost_usd >= limits.max_cost_usd:
            return "max-cost"
        if limits.max_calls is not None and spent.calls + self._in_flight + weight > limits.max_calls:
            # calls in flight may turn out to be cache hits, which free their share
            return "wait" if self._in_flight else "max-calls"
        return None

    async def acquire(self, weight: int) -> None:
        """Wait until a call of ``weight`` samples may start; raise ``CallsStopped`` when it never will."""
        condition = self._condition()
        async with condition:
            while True:
                verdict = self._refusal(weight)
                if verdict is None:
                    self._in_flight += weight
                    return
                if verdict != "wait":
                    self._stop_reason = self._stop_reason or verdict
                    raise CallsStopped(verdict)
                await condition.wait()

    async def release(self, weight: int) -> None:
        condition = self._condition()
        async with condition:
            self._in_flight -= weight
            condition.notify_all()


class GatedModel:
    """A ChatModel whose calls pass a :class:`CallGate` first."""

    def __init__(self, model: Any, gate: CallGate) -> None:
        self.model = model
        self.spec = model.spec
        self.gate = gate

    async def complete(self, messages: Any, params: Any, *, role: str | None = None) -> list[Any]:
        weight = max(1, int(getattr(params, "n", 1)))
        await self.gate.acquire(weight)
        try:
            if role is None:
                return await self.model.complete(messages, params)
            return await self.model.complete(messages, params, role=role)
        finally:
            await asyncio.shield(self.gate.release(weight))

    async def aclose(self) -> None:
        await self.model.aclose()


class CoalescedModel:
    """A ChatModel wrapper that sends identical concurrent requests once and shares the reply.

    Conditions of one experiment often open with the same prompt (same instance and seed); the
    response cache serves repeats that come later, this serves repeats that are still in flight.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.spec = model.spec
        self._inflight: dict[str, asyncio.Future[list[Any]]] = {}

    async def complete(self, messages: Any, params: Any, role: str | None = None) -> list[Any]:
        key = json.dumps([[m.to_json() for m in messages], params.to_json()], sort_keys=True)
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            if role is None:
                result = await self.model.complete(messages, params)
            else:
                result = await self.model.complete(messages, params, role=role)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]

    async def aclose(self) -> None:
        await self.model.aclose()


class RoleModel:
    """One shared model seen under a role (``generator`` or ``critic``) for the call log."""

    def __init__(self, model: CoalescedModel, role: str) -> None:
        self.model = model
        self.role = role
        self.spec = model.spec

    async def complete(self, messages: Any, params: Any) -> list[Any]:
        return await self.model.complete(messages, params, role=self.role)

    async def aclose(self) -> None:
        """The shared model is closed by its owner."""
