"""``self-consistency``: k sampled plans, one chosen.

``select: majority`` takes the most frequent normalised plan (PDDL steps, lower-cased; ties go to
the earliest); ``critic`` asks the condition's LLM critic about each sample and takes the first it
accepts (else the majority); ``oracle`` asks the sound validator and takes the first valid sample
(else the majority): an upper bound no deployed system has, recorded as ``oracle: true``.
Samples use ``temperature`` and seeds ``seed*1000 + i``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from planner_loop.loop import Episode
from planner_loop.planning.plan import Plan
from planner_loop.strategies.ledger import NO_VERDICT, Ledger, proposal_of
from planner_loop.strategies.params import StrategyParams, parse_params, refuse_verifier
from planner_loop.strategies.bounds import BoundedCondition, EpisodeBound, max_calls
from planner_loop.strategies.protocol import EpisodeInputs
from planner_loop.strategies.steps import Proposal, calls_per_verdict, judge
from planner_loop.verifiers.protocol import Verdict

SELECT_VERIFIER = {"majority": ("none",), "critic": ("llm",), "oracle": ("symbolic",)}


class SelfConsistencyParams(StrategyParams):
    k: int = Field(5, ge=1, le=64)
    select: Literal["majority", "critic", "oracle"] = "majority"
    temperature: float = Field(0.7, ge=0.0, le=2.0)


def normalised(plan: Plan | None) -> tuple[str, ...] | None:
    """A plan's identity for voting: its PDDL steps, lower-cased (``None`` for no plan)."""
    return None if plan is None else tuple(step.to_pddl().lower() for step in plan.steps)


def majority(plans: Sequence[Plan | None]) -> int | None:
    """Index of the first sample of the most frequent plan (``None`` when no sample has one)."""
    keys = [normalised(p) for p in plans]
    counts = Counter(k for k in keys if k is not None)
    if not counts:
        return None
    top = max(counts.values())
    return next(i for i, k in enumerate(keys) if k is not None and counts[k] == top)


class SelfConsistency:
    """Sample k plans (as many as the budget allows), choose one."""

    name = "self-consistency"

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        self.options = parse_params(SelfConsistencyParams, params, self.name)
        self.params: Mapping[str, Any] = {**self.options.model_dump(), "oracle": self.options.select == "oracle"}

    def check_verifier(self, kind: str) -> None:
        """Majority needs no verifier, ``critic`` the LLM critic, ``oracle`` the sound validator."""
        refuse_verifier(self.name, kind, SELECT_VERIFIER[self.options.select],
                        f"with select: {self.options.select}")

    def episode_bound(self, condition: BoundedCondition) -> EpisodeBound:
        """``k`` samples of the first prompt, each judged unless the choice is by majority."""
        k = self.options.k
        judged = int(self.options.select != "majority")
        return EpisodeBound(generator_calls=k, verdicts=k * judged, carried=0, verdicts_per_step=judged,
                            least_generator_calls=k, least_verdicts=k * judged)

    def max_calls(self, condition: BoundedCondition, verifier_calls_per_verdict: int) -> int:
        """Most model calls of one episode (critic votes included), capped by the condition's budget."""
        return max_calls(self.episode_bound(condition), condition, verifier_calls_per_verdict)

    async def run(self, inputs: EpisodeInputs) -> Episode:
        setup = inputs.setup
        ledger = Ledger(inputs, self.name, self.params)
        judged = self.options.select != "majority"
        per_sample = 1 + (calls_per_verdict(inputs.verifier) if judged else 0)
        messages = inputs.prompts.generator_messages(setup.task, setup.examples[: setup.shots], [],
                                                     setup.condition.context)
        samples: list[tuple[Proposal, Verdict, str | None]] = []

        async def sample(index: int) -> tuple[Proposal, Verdict, str | None]:
            params = dataclasses.replace(setup.generator_params, temperature=self.options.temperature,
                                         seed=setup.seed * 1000 + index, n=1)
            proposal = proposal_of(inputs, await ledger.ask(messages, params))
            if not judged:
                return proposal, NO_VERDICT, None
            verdict, error = await judge(inputs, proposal, index + 1)
            return proposal, verdict, error

        # Without a token limit the affordable samples run at once; with one, each waits for the last.
        while len(samples) < self.options.k:
            batch = ledger.affordable(self.options.k - len(samples), per_sample)
            if inputs.budget.max_tokens is not None:
                batch = min(batch, 1)
            if batch == 0:
                break
            for proposal, verdict, error in await asyncio.gather(*(sample(len(samples) + i) for i in range(batch))):
                samples.append((proposal, verdict, error))
                ledger.add(messages, proposal, verdict, error=error)
        complete = len(samples) == self.options.k
        errors = [error for _, _, error in samples if error is not None]
        if errors:
            return ledger.finish("error", error=errors[0])
        if not samples:
            return ledger.finish("budget")
        chosen = next((i for i, (_, verdict, _) in enumerate(samples) if verdict.valid is True), None)
        if chosen is None:
            chosen = majority([p.plan for p, _, _ in samples])
        if chosen is None:
            chosen = len(samples) - 1
        accepted = samples[chosen][1].valid is True
        termination = "accepted" if accepted else ("max_rounds" if complete else "budget")
        return ledger.finish(termination, chosen=chosen + 1)
