"""``constrained``: another strategy with the plan decoded under a JSON schema.

The schema (:func:`planner_loop.domains.extraction.plan_json_schema`) allows only the task's action
names and objects; it is sent as the OpenAI ``response_format`` (the embedded model and vLLM,
llama.cpp and OpenAI's API enforce it; a server that ignores it gets the JSON instructions of the
prompt only). ``strategy`` names the strategy wrapped (refine, self-consistency or reflection) and
``params`` its parameters. The record's ``prompt.constrained`` is true.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from planner_loop.domains.extraction import plan_json_schema
from planner_loop.loop import Episode
from planner_loop.prompts import PromptBuilder
from planner_loop.records import StrategyRecord
from planner_loop.strategies.params import StrategyParams, parse_params
from planner_loop.strategies.bounds import BoundedCondition, EpisodeBound, max_calls
from planner_loop.strategies.protocol import EpisodeInputs, Strategy

# Strategies whose replies are a plan and nothing else: reasoning-first or tool-calling replies
# cannot be one JSON document.
WRAPPABLE = ("refine", "self-consistency", "reflection")


class ConstrainedParams(StrategyParams):
    strategy: Literal["refine", "self-consistency", "reflection"] = "refine"
    params: dict[str, Any] = Field(default_factory=dict)


class Constrained:
    """Runs ``strategy`` with a JSON-schema constrained generator."""

    name = "constrained"

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        from planner_loop.strategies.registry import build_strategy

        self.options = parse_params(ConstrainedParams, params, self.name)
        self.inner: Strategy = build_strategy(self.options.strategy, self.options.params)
        self.params: Mapping[str, Any] = {"strategy": self.inner.name, "params": dict(self.inner.params)}

    def episode_bound(self, condition: BoundedCondition) -> EpisodeBound:
        """The wrapped strategy's bound, its prompts asking for the plan as JSON."""
        bound: EpisodeBound = self.inner.episode_bound(condition)  # type: ignore[attr-defined]
        return dataclasses.replace(bound, constrained=True)

    def max_calls(self, condition: BoundedCondition, verifier_calls_per_verdict: int) -> int:
        """Most model calls of one episode (critic votes included), capped by the condition's budget."""
        return max_calls(self.episode_bound(condition), condition, verifier_calls_per_verdict)

    def check_verifier(self, kind: str) -> None:
        check = getattr(self.inner, "check_verifier", None)
        if check is not None:
            check(kind)

    async def run(self, inputs: EpisodeInputs) -> Episode:
        setup = inputs.setup
        schema = plan_json_schema(inputs.domain, setup.task)
        constrained_setup = dataclasses.replace(
            setup, generator_params=dataclasses.replace(setup.generator_params, json_schema=schema))
        prompts = inputs.prompts
        if not prompts.constrained:
            prompts = PromptBuilder(prompts.domain, prompts.encoding, constrained=True, templates=prompts.templates,
                                    allow_no_plan=prompts.allow_no_plan)
        episode = await self.inner.run(dataclasses.replace(inputs, setup=constrained_setup, prompts=prompts))
        inner = episode.strategy
        record = StrategyRecord(name=self.name, params={"strategy": inner.name, "params": inner.params},
                                budget=inner.budget)
        return dataclasses.replace(episode, strategy=record)
