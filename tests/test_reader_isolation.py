"""A reply that breaks a reader fails that round (recorded with the exception), never the run."""

from __future__ import annotations

import asyncio
from typing import Any

from helpers.strategy_episodes import GOOD, GOOD_STEPS

from planner_loop.domains import get_domain
from planner_loop.domains.protocol import read_plan
from planner_loop.experiment import load_instances, parse_experiment
from planner_loop.llm import SamplingParams, open_model
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.loop import EpisodeSetup, run_episode
from planner_loop.prompts import PromptBuilder
from planner_loop.verifiers import verdict_reader
from planner_loop.verifiers.symbolic import SymbolicVerifier

POISON = "this reply breaks the reader"


class BrittleDomain:
    """Blocks World whose plan reader raises on one reply, as a buggy plugin reader would."""

    def __init__(self) -> None:
        self._inner = get_domain("blocksworld")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def extract_plan(self, text: str, task: Any) -> Any:
        if POISON in text:
            raise RecursionError("maximum recursion depth exceeded")
        return self._inner.extract_plan(text, task)


def test_read_plan_records_a_reader_failure_as_the_replys_parse_error() -> None:
    domain = BrittleDomain()
    task = domain.load_task(load_instances(parse_experiment(
        {"name": "t", "instances": {"set": "blocksworld/3-5", "ids": ["instance-1"]},
         "conditions": [{"name": "c", "system": "llm-only"}]}).instances)[0].problem)
    failed = read_plan(domain, POISON, task)  # type: ignore[arg-type]
    assert failed.plan is None and "RecursionError" in (failed.error or "") and failed.reason == "reader error"
    read = read_plan(domain, GOOD, task)  # type: ignore[arg-type]
    assert read.plan is not None and [s.to_pddl() for s in read.plan.steps] == GOOD_STEPS


def test_a_verdict_reader_failure_is_an_unreadable_vote(monkeypatch: Any) -> None:
    def broken(text: str) -> Any:
        raise ValueError("reader bug")

    monkeypatch.setattr(verdict_reader, "read_verdict", broken)
    reading = verdict_reader.read_critic_reply("Verdict: valid")
    assert reading.valid is None and reading.reading == "reader-error" and "ValueError" in reading.feedback


def test_the_loop_records_the_failed_round_and_goes_on() -> None:
    config = parse_experiment({"name": "t", "instances": {"set": "blocksworld/3-5", "ids": ["instance-1"]},
                               "conditions": [{"name": "c", "system": "llm+sound", "max_rounds": 3}], "seeds": [0]})
    domain = BrittleDomain()
    instance = load_instances(config.instances)[0]
    replies = iter([POISON, GOOD])

    async def go(base_url: str) -> Any:
        spec = f"openai:fake@{base_url}"
        model = open_model(spec, cache=None, call_log=None, concurrency=2, timeout_s=20)
        try:
            setup = EpisodeSetup(
                key="c/instance-1/seed0", condition=config.conditions[0], instance=instance,
                task=domain.load_task(instance.problem), seed=0, generator_model=spec, critic_model=None,
                generator_params=SamplingParams(max_tokens=200), encoding="nl", shots=0, example_rule="next-by-id",
                sizes=instance.sizes)
            return await run_episode(setup, domain=domain, prompts=PromptBuilder(domain, "nl"),  # type: ignore[arg-type]
                                     generator=model, verifier=SymbolicVerifier(domain))  # type: ignore[arg-type]
        finally:
            await model.aclose()

    with FakeOpenAIServer(lambda request: next(replies)) as server:
        record = asyncio.run(go(server.base_url)).record()
    first, second = record.rounds
    assert first.plan is None and "RecursionError" in (first.parse_error or "")
    assert first.ground_truth.valid is False and first.verdict.valid is False
    assert second.plan == GOOD_STEPS and record.termination == "accepted"
