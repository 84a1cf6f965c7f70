"""``run --dry-run``: the calls, tokens and dollars a run needs, worked out without calling a model.

Prompts come from the real prompt builder and critic; the shape of an episode comes from its
strategy (``episode_bound`` in each strategy module, :mod:`planner_loop.strategies.bounds`). The
figures are bounds, stated as such:

- calls: per episode, at most the strategy's generator calls plus its verdicts times the critic's
  votes (refine: ``max_rounds × (1 + votes)``; self-consistency: k samples, each judged unless by
  majority; reflection: 1 + reviews; tree search: ``1 + (depth - 1) × breadth`` expansions, each
  with ``proposals`` critic verdicts when the critic scores; tool use: ``max_tool_calls + 1`` and a
  verdict), capped by the condition's ``budget.max_calls``; the cache and identical prompts shared
  between conditions only lower the count;
- prompt tokens: one token per UTF-8 byte of the prompt (no tokenizer yields fewer bytes per
  token) plus ``MESSAGE_OVERHEAD`` per message, plus every text the strategy may add; a later call
  adds, per earlier exchange it carries, the reply (≤ ``max_tokens``) and what was fed back (≤ the
  critic's ``max_tokens``, or ``FEEDBACK_FACTOR × max_tokens`` for the sound verifiers, reviews and
  tool results); a critic prompt adds the plan (≤ ``FEEDBACK_FACTOR × max_tokens`` per reply it
  was read from);
- completion tokens: ``max_tokens`` per call (the only bound on an unknown reply);
- with a ``budget.max_tokens``, an episode's tokens are at most that limit plus one step (the
  calls a strategy starts after one budget check), since the step that crosses it is kept.

The low figure (each episode's first answer ends it, at ``BYTES_PER_TOKEN`` bytes per token) is an
estimate, not a bound.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner_loop.errors import ConfigError, PlannerLoopError
from planner_loop.orchestration import (
    RunPlan,
    build_verifier,
    episode_setup,
    model_roles,
    plan_run,
    prompt_builder,
)
from planner_loop.run_store import RunStore, episode_key
from planner_loop.strategies.bounds import EpisodeBound, max_calls

if TYPE_CHECKING:
    from planner_loop.experiment import ConditionConfig, ExperimentConfig
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
    conditions: tuple[ConditionNeed, ...] = ()

    def tokens_high(self) -> int:
        """Bound on every token of the run: per condition (budget caps included) when known."""
        by_model = self.total("prompt_tokens_high") + self.total("completion_tokens_high")
        if not self.conditions:
            return int(by_model)
        return min(int(by_model), sum(c.tokens_high for c in self.conditions))

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


@dataclass
class ConditionNeed:
    """One condition's bounds: ``calls_per_episode`` is the strategy's most (capped by the budget);
    the totals are over the condition's episodes still to run."""

    name: str
    strategy: str
    episodes: int = 0
    calls_per_episode: int = 0
    calls_low: int = 0
    calls_high: int = 0
    tokens_high: int = 0
    tokens_per_episode: int = 0


def _bound_of(condition: ConditionConfig) -> EpisodeBound:
    from planner_loop.strategies.registry import build_strategy

    strategy = build_strategy(condition.strategy.name, condition.strategy.params)
    bound_of = getattr(strategy, "episode_bound", None)
    if bound_of is None:
        raise ConfigError(f"condition {condition.name}: strategy {condition.strategy.name} declares no "
                          "episode_bound(condition), so --dry-run cannot bound its calls")
    bound: EpisodeBound = bound_of(condition)
    return bound


async def estimate_run(config: ExperimentConfig, *, config_file: Path | None, prices: PriceTable,
                       run_dir: Path | None = None) -> RunEstimate:
    """Bounds on what running ``config`` (resuming ``run_dir`` when it holds finished episodes) needs."""
    from planner_loop.prompts import ExampleBank, PromptBuilder
    from planner_loop.strategies.steps import calls_per_verdict
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
    conditions = {c.name: ConditionNeed(c.name, c.strategy.name) for c in config.conditions}
    bounds = {c.name: _bound_of(c) for c in config.conditions}
    generator_max = config.generator.max_tokens
    for condition, instance, seed in todo:
        bound = bounds[condition.name]
        setup = await episode_setup(plan, bank, condition, instance, seed)
        examples = setup.examples[: setup.shots]
        builder = prompts
        if bound.constrained and not prompts.constrained:
            builder = PromptBuilder(prompts.domain, prompts.encoding, constrained=True, templates=prompts.templates,
                                    allow_no_plan=prompts.allow_no_plan)
        wording = bound.text_bytes + (_schema_bytes(plan, setup.task) if builder.constrained else 0)
        critic_max = getattr(condition, "critic_max_tokens", generator_max)
        feedback = critic_max if condition.verifier == "llm" else FEEDBACK_FACTOR * generator_max
        exchange = generator_max + 2 * MESSAGE_OVERHEAD + (feedback if bound.carries_feedback else 0)

        def generator_prompt(carried: int) -> int:
            attempts = [("", "")] * carried
            base = _tokens(builder.generator_messages(setup.task, examples, attempts, condition.context))
            return base + wording + carried * exchange

        per_verdict, critic_prompt, critic_base = 0, 0, 0
        critic: Any = None
        if condition.verifier == "llm":
            critic = build_verifier(config, condition, plan.domain, critics_by_spec)
            context = VerifyContext(round=1, seed=seed, parse_error="-", reply="",
                                    reference_plan=setup.reference_plan, examples=setup.examples)
            per_verdict = calls_per_verdict(critic)
            critic_base = _tokens(critic.messages(setup.task, None, context))
            critic_prompt = critic_base + bound.plan_replies * FEEDBACK_FACTOR * generator_max
        cap_calls = condition.budget.max_calls
        calls_high = max_calls(bound, condition, per_verdict)
        generator_calls = bound.generator_calls if cap_calls is None else min(bound.generator_calls, cap_calls)
        critic_calls = bound.verdicts * per_verdict
        critic_calls = critic_calls if cap_calls is None else min(critic_calls, cap_calls)
        gen_prompt = sum(generator_prompt(min(i, bound.carried)) for i in range(generator_calls))
        gen_completion = generator_calls * generator_max
        crit_prompt, crit_completion = critic_calls * critic_prompt, critic_calls * critic_max
        tokens = gen_prompt + gen_completion + crit_prompt + crit_completion
        if condition.budget.max_tokens is not None:
            # a step starts while the episode is under its limit; the step that crosses it is kept
            step = (generator_prompt(bound.carried) + generator_max
                    + bound.verdicts_per_step * per_verdict * (critic_prompt + critic_max))
            cap = condition.budget.max_tokens + step
            tokens = min(tokens, cap)
            gen_prompt, gen_completion = min(gen_prompt, cap), min(gen_completion, cap)
            crit_prompt, crit_completion = min(crit_prompt, cap), min(crit_completion, cap)
        least_gen = min(bound.least_generator_calls, calls_high)
        least_critic = min(bound.least_verdicts * per_verdict, calls_high - least_gen)
        first = _tokens(builder.generator_messages(setup.task, examples, [], condition.context)) + wording

        need_c = conditions[condition.name]
        need_c.episodes += 1
        need_c.calls_per_episode = calls_high
        need_c.calls_low += least_gen + least_critic
        need_c.calls_high += calls_high
        need_c.tokens_high += tokens
        need_c.tokens_per_episode = max(need_c.tokens_per_episode, tokens)

        gen = needs.setdefault(config.generator.model, ModelNeed(config.generator.model))
        gen.roles.add("generator")
        gen.calls_low += least_gen
        gen.calls_high += generator_calls
        gen.prompt_tokens_low += least_gen * first // BYTES_PER_TOKEN
        gen.prompt_tokens_high += gen_prompt
        gen.completion_tokens_high += gen_completion
        if critic is not None:
            spec = config.critic_model_of(condition)
            need = needs.setdefault(spec, ModelNeed(spec))
            need.roles.add("critic")
            need.calls_low += least_critic
            need.calls_high += critic_calls
            need.prompt_tokens_low += least_critic * critic_base // BYTES_PER_TOKEN
            need.prompt_tokens_high += crit_prompt
            need.completion_tokens_high += crit_completion
    for need in needs.values():
        _price(need, prices, batch=config.batch.enabled)
    return RunEstimate(len(todo), len(plan.jobs) - len(todo), tuple(needs.values()), batch=config.batch.enabled,
                       conditions=tuple(c for c in conditions.values() if c.episodes))


def _schema_bytes(plan: RunPlan, task: Any) -> int:
    """The plan schema sent with a constrained request (it counts towards the prompt on most servers)."""
    from planner_loop.domains.extraction import plan_json_schema

    return len(json.dumps(plan_json_schema(plan.domain, task)).encode("utf-8"))


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
    for need_c in estimate.conditions:
        lines.append(f"  condition {need_c.name} ({need_c.strategy}): at most {need_c.calls_per_episode:,} calls "
                     f"and {need_c.tokens_per_episode:,} tokens an episode; {need_c.calls_low:,}-"
                     f"{need_c.calls_high:,} calls, up to {need_c.tokens_high:,} tokens for {need_c.episodes} episodes")
    lines.append(f"  total: {estimate.total('calls_low'):,}-{estimate.total('calls_high'):,} calls, "
                 f"up to {estimate.tokens_high():,} tokens, "
                 f"up to {money(estimate.total('cost_high'))}"
                 + (" at Batch API prices (half the live rate)" if estimate.batch else ""))
    lines.append("  bounds: every round (sample, review, expansion, tool call) the strategy and budget allow runs, "
                 "every reply is max_tokens long, 1 token per prompt byte; the low figures assume every first "
                 "answer ends its episode")
    return lines
