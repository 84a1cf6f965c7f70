"""Counters of a run: finished episodes per condition, paid calls and dollars (earlier sessions included)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner_loop.llm.wrappers import Spend

if TYPE_CHECKING:
    from planner_loop.llm import CallLog, PriceTable
    from planner_loop.llm.batch import BatchStatus
    from planner_loop.orchestration import RunPlan

PAID_CACHE_STATES = ("write", "off")
"""``calls.jsonl`` cache states of a request that reached the endpoint."""


@dataclass(frozen=True)
class RunProgress:
    """Progress so far, reported after each finished episode and every few seconds."""

    done: int
    total: int
    accepted: int
    valid: int
    calls: int
    tokens: int
    skipped: int
    by_condition: Mapping[str, tuple[int, int]] = field(default_factory=dict)   # name -> (done, total)
    retries: int = 0
    rate_limited: int = 0
    cost_usd: float | None = None
    """Dollars so far; None when a model had no price (``unpriced`` names them)."""
    elapsed_s: float = 0.0
    eta_s: float | None = None
    unpriced: tuple[str, ...] = ()
    batches: tuple[BatchStatus, ...] = ()
    """Batch mode: the batches the run waits on, as their last poll found them (empty otherwise)."""


@dataclass(frozen=True)
class EarlierSpend:
    """What earlier sessions of a resumed run paid: calls, dollars (None: none priced), unpriced model specs."""

    calls: int = 0
    cost_usd: float | None = None
    unpriced: tuple[str, ...] = ()


def price_names(specs: Iterable[str]) -> tuple[str, ...]:
    """The names model specs are priced by (``openai:gpt-4o@URL`` -> ``gpt-4o``), sorted."""
    import os

    from planner_loop.errors import ConfigError
    from planner_loop.llm import parse_spec

    names = set()
    for spec in specs:
        try:
            names.add(parse_spec(spec, os.environ).model)
        except ConfigError:
            names.add(spec)
    return tuple(sorted(names))


def unpriced_specs(plan: RunPlan, prices: PriceTable) -> tuple[str, ...]:
    """The run's models (generator, critics) on an endpoint without a price: their dollars are unknown."""
    import os

    from planner_loop.llm import parse_spec
    from planner_loop.llm.pricing import price_for

    config = plan.config
    specs = {config.generator.model, *(config.critic_model_of(c) for c in config.conditions if c.verifier == "llm")}
    found = []
    for spec in sorted(specs):
        parsed = parse_spec(spec, os.environ)
        if parsed.kind != "local" and price_for(prices, parsed.model) is None:
            found.append(spec)
    return tuple(found)


def recorded_spend(calls_path: Path) -> EarlierSpend:
    """Paid calls and dollars in an existing ``calls.jsonl`` (earlier sessions of a resumed run)."""
    if not calls_path.exists():
        return EarlierSpend()
    calls, cost = 0, None
    unpriced: set[str] = set()
    with calls_path.open("rb") as source:
        for raw in source:
            try:
                record = json.loads(raw)
            except ValueError:
                continue  # a torn line was cut at start-up; anything else is not ours to judge
            if record.get("error") is None and record.get("cache") in PAID_CACHE_STATES:
                calls += 1
                if record.get("cost_usd") is not None:
                    cost = (cost or 0.0) + float(record["cost_usd"])
                else:
                    unpriced.add(str(record.get("model")))
    return EarlierSpend(calls, cost, tuple(sorted(unpriced)))


class RunMeter:
    """Spend and progress counters of one run (earlier sessions included)."""

    def __init__(self, plan: RunPlan, records: list[dict[str, Any]], call_log: CallLog,
                 earlier: EarlierSpend, *, priced: bool, prices: PriceTable | None = None) -> None:
        self.total = len(plan.jobs)
        self.skipped = len(records)
        self.done = len(records)
        self.accepted = sum(bool(r["final"]["accepted"]) for r in records)
        self.valid = sum(bool(r["final"]["valid"]) for r in records)
        totals = {c.name: 0 for c in plan.config.conditions}
        for condition, _, _ in plan.jobs:
            totals[condition.name] += 1
        self.condition_total = totals
        self.condition_done = {name: sum(r["condition"] == name for r in records) for name in totals}
        self.call_log = call_log
        self.earlier = earlier
        self.priced = priced
        self.known_unpriced = unpriced_specs(plan, prices) if prices is not None else ()
        self.started = time.monotonic()
        self.batch_source: Callable[[], tuple[BatchStatus, ...]] | None = None
        """Batch mode: what returns the pending batches of the run's models (``BatchRounds.pending``)."""

    def spend(self) -> Spend:
        totals = self.call_log.summary()
        calls, cost = self.earlier.calls, self.earlier.cost_usd
        session_cost = totals.cost_usd if totals.http_calls and self.priced else None
        if session_cost is not None:
            cost = (cost or 0.0) + session_cost
        return Spend(calls + totals.http_calls, cost)

    def unpriced(self) -> tuple[str, ...]:
        """Price-table names of the models with paid calls but no price (earlier sessions included)."""
        return price_names({*self.known_unpriced, *self.earlier.unpriced, *self.call_log.summary().unpriced_models})

    def finished(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.accepted += int(bool(record["final"]["accepted"]))
        self.valid += int(bool(record["final"]["valid"]))
        self.condition_done[record["condition"]] += 1

    def progress(self) -> RunProgress:
        totals = self.call_log.summary()
        elapsed = time.monotonic() - self.started
        ran = self.done - self.skipped
        left = self.total - self.done
        eta = elapsed / ran * left if ran else None
        unpriced = self.unpriced()
        cost = None if unpriced else (self.spend().cost_usd or 0.0)
        return RunProgress(
            self.done, self.total, self.accepted, self.valid, totals.calls,
            totals.prompt_tokens + totals.completion_tokens, self.skipped,
            by_condition={n: (self.condition_done[n], t) for n, t in self.condition_total.items()},
            retries=totals.retries, rate_limited=totals.rate_limited,
            cost_usd=cost, elapsed_s=elapsed, eta_s=eta, unpriced=unpriced,
            batches=self.batch_source() if self.batch_source is not None else ())
