"""The example of docs/strategies.md: a strategy defined outside the package with only ``import
planner_loop as pl``, registered in a copy of the registry, run through the fake OpenAI server."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import planner_loop as pl
import pytest
from helpers.strategy_episodes import BAD, GOOD

from planner_loop.domains import get_domain
from planner_loop.experiment import load_instances, parse_experiment


class RetryOnce:
    """Propose; if the verifier rejects, propose once more with the same prompt at another seed."""

    name = "retry-once"

    def __init__(self, params: Mapping[str, Any]) -> None:
        unknown = set(params) - {"seed_offset"}
        if unknown:
            raise pl.ConfigError(f"strategy retry-once: unknown parameters {sorted(unknown)}")
        self.params = {"seed_offset": int(params.get("seed_offset", 1))}

    async def run(self, inputs: pl.EpisodeInputs) -> pl.Episode:
        import dataclasses

        setup = inputs.setup
        messages = inputs.prompts.generator_messages(setup.task, (), [], "last")
        rounds = []
        for attempt in range(2):
            if not inputs.budget.allows(pl.Usage.total(r.usage for r in rounds)):
                return pl.Episode(setup, tuple(rounds), "budget", None, self._record(inputs))
            params = dataclasses.replace(setup.generator_params, seed=setup.seed + attempt * self.params["seed_offset"])
            proposal = await pl.propose(inputs, messages, params)
            verdict, error = await pl.judge(inputs, proposal, attempt + 1)
            rounds.append(pl.make_round(attempt + 1, messages, proposal.completion.text, proposal.plan,
                                        proposal.parse_error, verdict, proposal.truth,
                                        (proposal.completion.call_id, *verdict.call_ids),
                                        extraction=proposal.extraction, generator_usage=proposal.usage))
            if verdict.valid is True:
                return pl.Episode(setup, tuple(rounds), "accepted", None, self._record(inputs))
        return pl.Episode(setup, tuple(rounds), "max_rounds", None, self._record(inputs))

    def _record(self, inputs: pl.EpisodeInputs) -> pl.StrategyRecord:
        return pl.StrategyRecord(name=self.name, params=self.params, budget=inputs.budget)


def test_a_strategy_from_outside_through_the_public_api() -> None:
    registry = pl.default_strategies(plugins=False).copy()
    registry.register("retry-once", RetryOnce)
    strategy = pl.build_strategy("retry-once", {"seed_offset": 5}, registry=registry)
    assert isinstance(strategy, pl.Strategy)
    with pytest.raises(pl.ConfigError, match="unknown parameters"):
        pl.build_strategy("retry-once", {"k": 2}, registry=registry)

    domain = get_domain("blocksworld")
    config = parse_experiment({"name": "t", "instances": {"set": "blocksworld/3-5", "ids": ["instance-1"]},
                               "conditions": [{"name": "c", "system": "llm+sound", "max_rounds": 2}]})
    instance = load_instances(config.instances)[0]

    def responder(request: Mapping[str, Any]) -> str:
        return BAD if request["seed"] == 0 else GOOD

    async def go(base_url: str) -> pl.Episode:
        model = pl.open_model(f"openai:fake@{base_url}", cache=None, call_log=None, concurrency=2, timeout_s=10)
        try:
            setup = pl.EpisodeSetup(key="c/instance-1/seed0", condition=config.conditions[0], instance=instance,
                                    task=domain.load_task(instance.problem), seed=0, generator_model="fake",
                                    critic_model=None, generator_params=pl.SamplingParams(max_tokens=100),
                                    encoding="nl", shots=0, example_rule="next-by-id")
            return await pl.run_episode(setup, domain=domain, prompts=pl.PromptBuilder(domain, "nl"),
                                        generator=model, verifier=pl.SymbolicVerifier(domain), strategy=strategy)
        finally:
            await model.aclose()

    with pl.FakeOpenAIServer(responder) as server:
        episode = asyncio.run(go(server.base_url))
        seeds = [r["seed"] for r in server.received]
    record = episode.record()
    assert seeds == [0, 5] and record.termination == "accepted" and record.final.valid is True
    assert record.strategy.name == "retry-once" and record.strategy.params == {"seed_offset": 5}
    assert record.usage.calls == 2
