"""The ``refine`` strategy through the fake OpenAI server (real HTTP): per-round usage and cost, the
budget (never exceeded, termination ``budget``), the strategy registry, and a strategy from outside
the package run through the public API."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
from helpers.loop_scripting import ScriptedReplies

from planner_loop.domains import get_domain
from planner_loop.errors import ConfigError
from planner_loop.experiment import load_instances, parse_experiment
from planner_loop.llm import SamplingParams, open_model
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.llm.pricing import Price
from planner_loop.loop import Episode, EpisodeSetup, run_episode
from planner_loop.prompts import PromptBuilder
from planner_loop.records import Budget, EpisodeRecord, StrategyRecord, load_episode_record
from planner_loop.registry import Registry
from planner_loop.strategies import EpisodeInputs, Strategy
from planner_loop.strategies.registry import build_strategy, default_strategies
from planner_loop.strategies.steps import propose
from planner_loop.verifiers.llm_critic import LLMCritic
from planner_loop.verifiers.symbolic import SymbolicVerifier

# problems/blocksworld/3-5/instance-1 (a red, b blue, c orange, d yellow, e white)
BAD = "pick up the blue block\npick up the red block\n[PLAN END]"
NONSENSE = "I am not sure how to do this."
GOOD = ("unstack the orange block from on top of the blue block\nput down the orange block\n"
        "pick up the blue block\nstack the blue block on top of the white block\n"
        "unstack the red block from on top of the yellow block\nstack the red block on top of the blue block\n"
        "[PLAN END]")
PRICE = Price(input_per_mtok=2.0, output_per_mtok=8.0)


def run_one(system: str, budget: Budget, *, votes: int = 1, strategy: Strategy | None = None,
            priced: bool = True) -> tuple[EpisodeRecord, int]:
    condition: dict[str, Any] = {"name": "c", "system": system, "max_rounds": 3}
    if votes > 1:
        condition["votes"] = votes
    config = parse_experiment({"name": "t", "instances": {"set": "blocksworld/3-5", "ids": ["instance-1"]},
                               "generator": {"model": "openai:fake@http://127.0.0.1:1/v1"},
                               "conditions": [condition], "seeds": [0]})
    domain = get_domain("blocksworld")
    instance = load_instances(config.instances)[0]
    script = ScriptedReplies([BAD, NONSENSE, GOOD], critic_default="Looks wrong.\nVerdict: invalid")

    async def go(base_url: str) -> Episode:
        spec = f"openai:fake@{base_url}"
        model = open_model(spec, cache=None, call_log=None, concurrency=4, timeout_s=20,
                           prices={"fake": PRICE} if priced else {})
        try:
            verifier = (LLMCritic(model, domain, votes=votes, temperature=0.7 if votes > 1 else 0.0)
                        if system == "llm+llm" else SymbolicVerifier(domain))
            setup = EpisodeSetup(
                key="c/instance-1/seed0", condition=config.conditions[0], instance=instance,
                task=domain.load_task(instance.problem), seed=0, generator_model=spec,
                critic_model=spec if system == "llm+llm" else None,
                generator_params=SamplingParams(max_tokens=200), encoding="nl", shots=0,
                example_rule="next-by-id", sizes=instance.sizes, budget=budget)
            return await run_episode(setup, domain=domain, prompts=PromptBuilder(domain, "nl"), generator=model,
                                     verifier=verifier, strategy=strategy)
        finally:
            await model.aclose()

    with FakeOpenAIServer(script) as server:
        episode = asyncio.run(go(server.base_url))
        requests = server.requests
    # what is written is what is read back
    return load_episode_record(episode.to_json()), requests


def test_unlimited_refine_records_usage_and_cost_per_round() -> None:
    record, requests = run_one("llm+sound", Budget())
    assert record.termination == "accepted" and len(record.rounds) == 3
    assert record.strategy == StrategyRecord(name="refine", params={"max_rounds": 3, "context": "last"})
    assert [r.usage.calls for r in record.rounds] == [1, 1, 1] and record.usage.calls == requests == 3
    for r in record.rounds:
        assert r.usage.prompt_tokens and r.usage.completion_tokens
        expected = (r.usage.prompt_tokens * PRICE.input_per_mtok + r.usage.completion_tokens * PRICE.output_per_mtok) / 1e6
        assert r.usage.cost_usd == pytest.approx(expected)
        assert r.verdict.usage is None      # the sound validator calls no model
    assert record.usage.prompt_tokens == sum(r.usage.prompt_tokens or 0 for r in record.rounds)
    assert record.usage.cost_usd == pytest.approx(sum(r.usage.cost_usd or 0 for r in record.rounds))
    assert [r.extraction.method if r.extraction else None for r in record.rounds][1] == "none"
    assert record.rounds[0].extraction is not None and record.rounds[0].extraction.method != "none"
    assert record.instance.sizes == {"blocks": 5}


def test_unknown_price_makes_cost_unknown_not_zero() -> None:
    record, _ = run_one("llm+sound", Budget(), priced=False)
    assert record.usage.cost_usd is None and record.usage.prompt_tokens


@pytest.mark.parametrize("max_calls", [0, 1, 2])
def test_call_budget_stops_cleanly_and_is_never_exceeded(max_calls: int) -> None:
    record, requests = run_one("llm+sound", Budget(max_calls=max_calls))
    assert record.termination == "budget"
    assert len(record.rounds) == max_calls and requests == record.usage.calls == max_calls
    assert record.strategy.budget.max_calls == max_calls
    assert record.final.valid is False and record.final.round == max_calls


@pytest.mark.parametrize(("votes", "max_calls", "rounds"), [(1, 5, 2), (2, 5, 1), (2, 6, 2), (3, 3, 0)])
def test_call_budget_counts_the_critics_votes(votes: int, max_calls: int, rounds: int) -> None:
    record, requests = run_one("llm+llm", Budget(max_calls=max_calls), votes=votes)
    assert record.termination == "budget" and len(record.rounds) == rounds
    assert requests == record.usage.calls == rounds * (1 + votes) <= max_calls
    for r in record.rounds:
        assert r.verdict.usage is not None and r.verdict.usage.calls == votes
        assert r.usage.calls == 1 + votes and len(r.call_ids) == 1 + votes


def test_token_budget_stops_once_reached() -> None:
    full, _ = run_one("llm+sound", Budget())
    first = full.rounds[0].usage.total_tokens
    record, requests = run_one("llm+sound", Budget(max_tokens=first))
    assert record.termination == "budget" and len(record.rounds) == 1 and requests == 1
    record, _ = run_one("llm+sound", Budget(max_tokens=first + 1))
    assert len(record.rounds) == 2      # checked between rounds: the round that crosses the line is kept


def test_registry_names_refine_and_hints_near_names() -> None:
    strategies = default_strategies(plugins=False)
    assert "refine" in strategies.names()
    assert build_strategy("refine").name == "refine"
    with pytest.raises(ConfigError, match=r"unknown strategy 'refin' \(did you mean 'refine'"):
        build_strategy("refin")
    with pytest.raises(ConfigError, match="refine takes no parameters"):
        build_strategy("refine", {"k": 3})


class FirstReply:
    """A strategy from outside the package: one generator call, no verifier, its own parameter."""

    name = "first-reply"

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)

    async def run(self, inputs: EpisodeInputs) -> Episode:
        from planner_loop.loop import make_round

        setup = inputs.setup
        messages = inputs.prompts.generator_messages(setup.task, (), [], "last")
        proposal = await propose(inputs, messages)
        from planner_loop.verifiers.protocol import Verdict

        round_ = make_round(1, messages, proposal.completion.text, proposal.plan, proposal.parse_error,
                            Verdict(None, ""), proposal.truth, (proposal.completion.call_id,),
                            extraction=proposal.extraction, generator_usage=proposal.usage)
        return Episode(setup, (round_,), "max_rounds", None,
                       StrategyRecord(name=self.name, params=self.params, budget=inputs.budget))


def test_a_strategy_from_outside_runs_through_the_public_api() -> None:
    registry: Registry[Any] = default_strategies(plugins=False).copy()
    registry.register("first-reply", FirstReply)
    strategy = build_strategy("first-reply", {"tag": "x"}, registry=registry)
    assert isinstance(strategy, Strategy)
    record, requests = run_one("llm+sound", Budget(), strategy=strategy)
    assert requests == 1 and record.strategy.name == "first-reply" and record.strategy.params == {"tag": "x"}
    assert record.rounds[0].plan == ["(pick-up b)", "(pick-up a)"] and record.final.valid is False
