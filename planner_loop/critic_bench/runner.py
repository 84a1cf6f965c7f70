"""Run the critic benchmark: build (or reuse) the labelled plan set, ask every critic condition about
every plan with :class:`~planner_loop.verifiers.llm_critic.LLMCritic`, and write the report.

Output folder::

    plans/manifest.jsonl, plans/*.plan   the labelled set (same set, seed and limit -> same bytes)
    verdicts.jsonl                       one line per (condition, plan): truth, the critic's verdict
    tables/by_error_type.{md,csv}        per condition x error type
    tables/by_position.{md,csv}          per condition x error type x failing-step position
    plots/fpr_by_error_type.png, plots/fpr_by_position.png
    report.md                            both tables
    calls.jsonl, cache.sqlite            the model calls and the response cache
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner_loop.critic_bench import summary
from planner_loop.critic_bench.config import CriticBenchConfig, CriticCondition
from planner_loop.critic_bench.plans import MUTATIONS, LabelledPlan, build_plan_set, write_plan_set
from planner_loop.errors import ConfigError, output_error
from planner_loop.llm.collector import paced_collection


@dataclass(frozen=True)
class BenchResult:
    """What a benchmark run produced."""

    out: Path
    plans: tuple[LabelledPlan, ...]
    verdicts: tuple[dict[str, Any], ...]
    by_error_type: tuple[summary.Cell, ...]
    by_position: tuple[summary.Cell, ...]


def load_set(set_spec: str, limit: int | None, config: CriticBenchConfig) -> list[tuple[str, Any, str]]:
    """``(instance id, task, problem label)`` of the solvable instances of a set, first ``limit`` by id."""
    from planner_loop.domains import get_domain
    from planner_loop.experiment import InstancesConfig, load_instances

    domain = get_domain(config.domain)
    try:
        instances = load_instances(InstancesConfig(set=set_spec, limit=limit))
    except ConfigError as error:   # the experiment config's key is this command's --set
        message = error.message.replace("instances.set:", "--set:", 1)
        raise type(error)(message, source=error.source, line=error.line) from None
    return [(inst.id, domain.load_task(inst.problem), inst.problem_label) for inst in instances
            if getattr(inst, "solvable", None) is not False]


def build(set_spec: str, limit: int | None, config: CriticBenchConfig, out: Path) -> list[LabelledPlan]:
    """Build and write the labelled plan set."""
    loaded = load_set(set_spec, limit, config)
    rows = build_plan_set(((ident, task) for ident, task, _ in loaded), config.seed)
    meta = {"set": set_spec, "limit": limit, "seed": config.seed, "domain": config.domain,
            "mutations": list(MUTATIONS), "instances": [ident for ident, _, _ in loaded], "plans": len(rows)}
    write_plan_set(out, rows, meta)
    return rows


async def _judge(config: CriticBenchConfig, model_spec: str, rows: Sequence[LabelledPlan],
                 tasks: dict[str, Any], out: Path) -> list[dict[str, Any]]:
    from planner_loop.domains import get_domain
    from planner_loop.llm import open_model
    from planner_loop.llm.cache import ResponseCache
    from planner_loop.llm.calls import CallLog
    from planner_loop.prompts import SolvedExample
    from planner_loop.verifiers.llm_critic import LLMCritic
    from planner_loop.verifiers.protocol import VerifyContext

    domain = get_domain(config.domain)
    optimal = {row.instance: row.plan for row in rows if row.kind == "optimal"}
    order = list(optimal)
    cache = ResponseCache(out / "cache.sqlite")
    model = open_model(model_spec, cache=cache, call_log=CallLog(out / "calls.jsonl"),
                       concurrency=config.concurrency, timeout_s=config.timeout_s, role="critic")
    gate = asyncio.Semaphore(config.concurrency * 2)

    def examples(instance: str, k: int) -> tuple[SolvedExample, ...]:
        # next-by-id, as the loop's ExampleBank: the k instances after this one, wrapping around
        start = order.index(instance)
        ids = [order[(start + i) % len(order)] for i in range(1, min(k, len(order) - 1) + 1)]
        return tuple(SolvedExample(i, tasks[i], optimal[i]) for i in ids)

    async def one(condition: CriticCondition, row: LabelledPlan) -> dict[str, Any]:
        critic = LLMCritic(model, domain, feedback=condition.feedback, style=config.encoding,
                           stepwise=condition.stepwise, votes=condition.votes,
                           temperature=condition.sampling_temperature, max_tokens=condition.max_tokens,
                           shots=condition.critic_shots, reference_guided=condition.reference_guided,
                           constrained=condition.constrained)
        context = VerifyContext(seed=config.seed, reference_plan=optimal[row.instance],
                                examples=examples(row.instance, condition.critic_shots))
        async with gate:
            verdict = await critic.verify(tasks[row.instance], row.plan, context)
        return {"condition": condition.name, "plan_id": row.id, "instance": row.instance, "kind": row.kind,
                "error_type": row.error_type, "valid": row.valid, "failure": row.failure,
                "failed_step": row.failed_step, "position": row.position, "critic_valid": verdict.valid,
                "reading": verdict.detail.get("reading"), "call_ids": list(verdict.call_ids)}

    try:
        return list(await asyncio.gather(*(one(c, r) for c in config.conditions for r in rows)))
    finally:
        await model.aclose()
        cache.close()


def check_model(spec: str) -> None:
    """Refuse a bad ``--model`` (unknown spec, missing key) without opening it or writing anything."""
    import os

    from planner_loop.llm.spec import parse_spec, resolve_api_key

    parsed = parse_spec(spec, os.environ)
    if parsed.kind != "local":
        resolve_api_key(parsed, os.environ)
    elif parsed.path is not None and not parsed.path.is_file():
        raise ConfigError(f"model spec {spec!r}: no GGUF file at {parsed.path}")


def run_bench(set_spec: str, out: Path, config: CriticBenchConfig, *, limit: int | None = None,
              model: str | None = None) -> BenchResult:
    """Build the set, run every critic condition on it and write the report into ``out``."""
    loaded = load_set(set_spec, limit, config)   # every refusal comes before anything is written
    check_model(model or config.model)
    try:
        out.mkdir(parents=True, exist_ok=True)
        rows = build(set_spec, limit, config, out)
    except OSError as error:
        raise output_error(out, error) from None
    tasks = {ident: task for ident, task, _ in loaded}
    with paced_collection():
        verdicts = asyncio.run(_judge(config, model or config.model, rows, tasks, out))
    (out / "verdicts.jsonl").write_text("".join(json.dumps(v, sort_keys=True) + "\n" for v in verdicts),
                                        encoding="utf-8")
    names = [c.name for c in config.conditions]
    by_type = summary.cells(verdicts, names)
    by_pos = summary.cells(verdicts, names, by_position=True)
    tables = out / "tables"
    tables.mkdir(exist_ok=True)
    for stem, cells, positional in (("by_error_type", by_type, False), ("by_position", by_pos, True)):
        (tables / f"{stem}.csv").write_text(summary.to_csv(cells), encoding="utf-8")
        (tables / f"{stem}.md").write_text(summary.to_markdown(cells, by_position=positional), encoding="utf-8")
    summary.plot_miss_rates(by_type, out / "plots" / "fpr_by_error_type.png", by="error_type")
    summary.plot_miss_rates(by_pos, out / "plots" / "fpr_by_position.png", by="position")
    report = ["# Critic benchmark", "",
              f"Set `{set_spec}` ({len(tasks)} instances, {len(rows)} plans, seed {config.seed}), "
              f"model `{model or config.model}`. Positive = the critic says valid; FPR = invalid plans "
              "called valid; unreadable verdicts count as not accepted. 95% Wilson intervals.", "",
              "## By error type", "", summary.to_markdown(by_type, by_position=False),
              "![](plots/fpr_by_error_type.png)", "",
              "## By error type and failing-step position", "", summary.to_markdown(by_pos, by_position=True),
              "![](plots/fpr_by_position.png)", ""]
    (out / "report.md").write_text("\n".join(report), encoding="utf-8")
    return BenchResult(out, tuple(rows), tuple(verdicts), tuple(by_type), tuple(by_pos))
