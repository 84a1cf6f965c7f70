"""``run --dry-run``: the calls, tokens and dollars a run needs, worked out without calling a model.

Prompts come from the real prompt builder and critic. The figures are bounds, stated as such:

- calls: at least every episode's first round (the generator, then each critic vote), at most
  every round of every episode (``max_rounds × (1 + votes)``); the cache and identical first
  prompts shared between conditions only lower the count;
- prompt tokens: one token per UTF-8 byte of the prompt (no tokenizer yields fewer bytes per
  token) plus ``MESSAGE_OVERHEAD`` per message; a later round's prompt adds, per earlier attempt
  it carries, the reply (≤ ``max_tokens``) and its feedback (≤ the critic's ``max_tokens``, or
  ``FEEDBACK_FACTOR × max_tokens`` for the sound verifiers); a critic prompt adds the plan
  (≤ ``FEEDBACK_FACTOR × max_tokens``);
- completion tokens: ``max_tokens`` per call (the only bound on an unknown reply).

The low figure (first rounds only, at ``BYTES_PER_TOKEN`` bytes per token) is an estimate, not a bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner_loop.errors import PlannerLoopError
from planner_loop.orchestration import (
    RunPlan,
    build_verifier,
    episode_setup,
    model_roles,
    plan_run,
    prompt_builder,
)
from planner_loop.run_store import RunStore, episode_key

if TYPE_CHECKING:
    from planner_loop.experiment import ExperimentConfig
    from planner_loop.llm import ChatMessage, PriceTable

MESSAGE_OVERHEAD = 8
FEEDBACK_FACTOR = 4
BYTES_PER_TOKEN = 4


@dataclass
class ModelNeed:
    """What one model (by spec) is asked for: ``low`` is the first-rounds estimate, ``high`` the bound."""

    spec: str
    roles: set[str] = field(default_factory=set)
    calls_low: int = 0
    calls_high: int = 0
    prompt_tokens_low: int = 0
    prompt_tokens_high: int = 0
    completion_tokens_high: int = 0
    cost_low: float | None = None
    cost_high: float | None = None


@dataclass(frozen=True)
class RunEstimate:
    """The dry run's answer; ``episodes`` counts those still to run (``skipped`` are finished)."""

    episodes: int
    skipped: int
    models: tuple[ModelNeed, ...]
    batch: bool = False
    """Costs are at Batch API prices (``run --batch``)."""

    def total(self, name: str) -> Any:
        values = [getattr(need, name) for need in self.models]
        if name.startswith("cost"):
            return None if any(v is None for v in values) else sum(values)
        return sum(values)


class _Uncalled:
    """Stands in for a critic's model: the dry run builds prompts only."""

    def __init__(self, spec: str) -> None:
        self.spec = spec

    async def complete(self, messages: Any, params: Any) -> list[Any]:
        raise PlannerLoopError("a dry run calls no model")

    async def aclose(self) -> None:
        """Nothing to close."""


def _tokens(messages: list[ChatMessage]) -> int:
    return sum(len(m.content.encode("utf-8")) + MESSAGE_OVERHEAD for m in messages)


async def estimate_run(config: ExperimentConfig, *, config_file: Path | None, prices: PriceTable,
                       run_dir: Path | None = None) -> RunEstimate:
    """Bounds on what running ``config`` (resuming ``run_dir`` when it holds finished episodes) needs."""
    from planner_loop.prompts import ExampleBank
    from planner_loop.verifiers.protocol import VerifyContext

    plan: RunPlan = plan_run(config, config_file=config_file)
    finished: set[str] = set()
    if run_dir is not None and (run_dir / "manifest.json").exists():
        store = RunStore(run_dir)
        if store.manifest().get("config_hash") == config.hash():
            finished = store.finished_keys()
    todo = [job for job in plan.jobs if episode_key(job[0].name, job[1].id, job[2]) not in finished]
    bank = ExampleBank(plan.domain, plan.pool, config.prompt.example_rule)
    prompts = prompt_builder(plan)
    critics_by_spec: Mapping[str, Any] = {f"critic:{spec}": _Uncalled(spec) for spec, role in model_roles(config)
                                          if role == "critic"}
    needs: dict[str, ModelNeed] = {}
    generator_max = config.generator.max_tokens
    for condition, instance, seed in todo:
        setup = await episode_setup(plan, bank, condition, instance, seed)
        rounds = condition.max_rounds or 1
        examples = setup.examples[: setup.shots]
        first = _tokens(prompts.generator_messages(setup.task, examples, [], condition.context))
        critic_max = getattr(condition, "critic_max_tokens", generator_max)
        feedback = critic_max if condition.verifier == "llm" else FEEDBACK_FACTOR * generator_max
        high = 0
        for number in range(1, rounds + 1):
            attempts = [("", "")] * (number - 1)
            kept = len(attempts[-1:]) if condition.context == "last" else len(attempts)
            base = _tokens(prompts.generator_messages(setup.task, examples, attempts, condition.context))
            high += base + kept * (generator_max + feedback)
        gen = needs.setdefault(config.generator.model, ModelNeed(config.generator.model))
        gen.roles.add("generator")
        gen.calls_low += 1
        gen.calls_high += rounds
        gen.prompt_tokens_low += first // BYTES_PER_TOKEN
        gen.prompt_tokens_high += high
        gen.completion_tokens_high += rounds * generator_max
        if condition.verifier == "llm":
            critic = build_verifier(config, condition, plan.domain, critics_by_spec)
            context = VerifyContext(round=1, seed=seed, parse_error="-", reply="",
                                    reference_plan=setup.reference_plan, examples=setup.examples)
            critic_prompt = _tokens(critic.messages(setup.task, None, context)) + FEEDBACK_FACTOR * generator_max
            votes = getattr(condition, "votes", 1)
            spec = config.critic_model_of(condition)
            need = needs.setdefault(spec, ModelNeed(spec))
            need.roles.add("critic")
            need.calls_low += votes
            need.calls_high += rounds * votes
            need.prompt_tokens_low += votes * (critic_prompt - FEEDBACK_FACTOR * generator_max) // BYTES_PER_TOKEN
            need.prompt_tokens_high += rounds * votes * critic_prompt
            need.completion_tokens_high += rounds * votes * critic_max
    for need in needs.values():
        _price(need, prices, batch=config.batch.enabled)
    return RunEstimate(len(todo), len(plan.jobs) - len(todo), tuple(needs.values()), batch=config.batch.enabled)


def _price(need: ModelNeed, prices: PriceTable, *, batch: bool = False) -> None:
    import os

    from planner_loop.llm import parse_spec
    from planner_loop.llm.pricing import price_for

    parsed = parse_spec(need.spec, os.environ)
    price = price_for(prices, parsed.model)
    if parsed.kind == "local" and price is None:
        need.cost_low = need.cost_high = 0.0
        return
    if price is None:
        return
    need.cost_low = price.cost(need.prompt_tokens_low, 0, batch=batch)
    need.cost_high = price.cost(need.prompt_tokens_high, need.completion_tokens_high, batch=batch)


def describe(estimate: RunEstimate) -> list[str]:
    """The dry run's lines for a person."""
    def money(value: float | None) -> str:
        return "price unknown" if value is None else f"${value:,.2f}"

    lines = [f"dry run: {estimate.episodes} episodes to run"
             + (f" ({estimate.skipped} already done)" if estimate.skipped else "") + "; no model is called"]
    for need in estimate.models:
        lines.append(f"  {need.spec} ({'/'.join(sorted(need.roles))}): {need.calls_low:,}-{need.calls_high:,} calls, "
                     f"prompt tokens ~{need.prompt_tokens_low:,} up to {need.prompt_tokens_high:,}, "
                     f"completion tokens up to {need.completion_tokens_high:,}, "
                     f"cost {money(need.cost_low)} (first rounds) up to {money(need.cost_high)}")
    lines.append(f"  total: {estimate.total('calls_low'):,}-{estimate.total('calls_high'):,} calls, "
                 f"up to {estimate.total('prompt_tokens_high') + estimate.total('completion_tokens_high'):,} tokens, "
                 f"up to {money(estimate.total('cost_high'))}"
                 + (" at Batch API prices (half the live rate)" if estimate.batch else ""))
    lines.append("  bounds: every round runs, every reply is max_tokens long, 1 token per prompt byte; "
                 "the low figures assume every first plan is accepted")
    return lines
