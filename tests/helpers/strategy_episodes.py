"""One strategy episode on problems/blocksworld/3-5/instance-1 through the fake OpenAI server (real HTTP).

``run_strategy(system, strategy, params, responder, budget)`` returns the record as read back and
the requests the server received. Plans of the instance (a red, b blue, c orange, d yellow, e white):
``GOOD`` is valid, ``BAD`` fails at step 2, ``OTHER_GOOD`` is a second valid plan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from planner_loop.domains import get_domain
from planner_loop.experiment import load_instances, parse_experiment
from planner_loop.llm import SamplingParams, open_model
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.llm.pricing import Price
from planner_loop.loop import Episode, EpisodeSetup, run_episode
from planner_loop.prompts import PromptBuilder
from planner_loop.records import Budget, EpisodeRecord, load_episode_record
from planner_loop.verifiers.llm_critic import LLMCritic
from planner_loop.verifiers.protocol import NoVerifier
from planner_loop.verifiers.symbolic import SymbolicVerifier

GOOD = ("unstack the orange block from on top of the blue block\nput down the orange block\n"
        "pick up the blue block\nstack the blue block on top of the white block\n"
        "unstack the red block from on top of the yellow block\nstack the red block on top of the blue block\n"
        "[PLAN END]")
GOOD_STEPS = ["(unstack c b)", "(put-down c)", "(pick-up b)", "(stack b e)", "(unstack a d)", "(stack a b)"]
BAD = "pick up the blue block\npick up the red block\n[PLAN END]"
BAD_STEPS = ["(pick-up b)", "(pick-up a)"]
PRICE = Price(input_per_mtok=2.0, output_per_mtok=8.0)
CRITIC_MARK = "plan checker"

Responder = Callable[[Mapping[str, Any]], Any]


def is_critic(request: Mapping[str, Any]) -> bool:
    return CRITIC_MARK in str(request["messages"][0].get("content") or "")


def last_user(request: Mapping[str, Any]) -> str:
    return next(str(m.get("content") or "") for m in reversed(request["messages"]) if m["role"] == "user")


def run_strategy(system: str, strategy: str, params: Mapping[str, Any] | None, responder: Responder,
                 budget: Budget = Budget(), *, max_rounds: int | None = None,
                 server_options: Mapping[str, Any] | None = None) -> tuple[EpisodeRecord, FakeOpenAIServer]:
    """Run one episode of ``strategy`` on a ``system`` condition; (record read back, the stopped server)."""
    condition: dict[str, Any] = {"name": "c", "system": system, "strategy": {"name": strategy,
                                                                              "params": dict(params or {})},
                                 "budget": budget.model_dump()}
    if max_rounds is not None:
        condition["max_rounds"] = max_rounds
    config = parse_experiment({"name": "t", "instances": {"set": "blocksworld/3-5", "ids": ["instance-1"]},
                               "generator": {"model": "openai:fake@http://127.0.0.1:1/v1"},
                               "conditions": [condition], "seeds": [0]})
    domain = get_domain("blocksworld")
    instance = load_instances(config.instances)[0]
    cond = config.conditions[0]

    async def go(base_url: str) -> Episode:
        spec = f"openai:fake@{base_url}"
        model = open_model(spec, cache=None, call_log=None, concurrency=4, timeout_s=20, prices={"fake": PRICE})
        try:
            verifier = {"llm+llm": lambda: LLMCritic(model, domain), "llm+sound": lambda: SymbolicVerifier(domain),
                        "llm-only": NoVerifier}[system]()
            setup = EpisodeSetup(
                key="c/instance-1/seed0", condition=cond, instance=instance, task=domain.load_task(instance.problem),
                seed=0, generator_model=spec, critic_model=spec if system == "llm+llm" else None,
                generator_params=SamplingParams(max_tokens=200), encoding="nl", shots=0, example_rule="next-by-id",
                sizes=instance.sizes, strategy=cond.strategy.name, strategy_params=cond.strategy.params,
                budget=cond.budget)
            return await run_episode(setup, domain=domain, prompts=PromptBuilder(domain, "nl"), generator=model,
                                     verifier=verifier)
        finally:
            await model.aclose()

    with FakeOpenAIServer(responder, **dict(server_options or {})) as server:
        episode = asyncio.run(go(server.base_url))
    return load_episode_record(episode.to_json()), server


def expected_cost(record: EpisodeRecord) -> float:
    """What the recorded tokens cost at ``PRICE``."""
    usage = record.usage
    return ((usage.prompt_tokens or 0) * PRICE.input_per_mtok + (usage.completion_tokens or 0) * PRICE.output_per_mtok) / 1e6
