"""``refine``: propose → judge → feed back, up to the condition's ``max_rounds`` (today's loop).

Round k's feedback is what the generator reads in round k+1 (``context`` decides how much of the
earlier rounds it sees). The episode ends when the verifier accepts, at the round limit, on a
verifier error, or when the budget does not allow another round (generator call plus the
verifier's calls).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planner_loop.errors import ConfigError
from planner_loop.loop import Episode, make_round
from planner_loop.records import RoundRecord, StrategyRecord, Usage
from planner_loop.strategies.bounds import BoundedCondition, EpisodeBound, max_calls, refinement_bound
from planner_loop.strategies.protocol import EpisodeInputs
from planner_loop.strategies.steps import calls_per_verdict, judge, propose


class Refine:
    """The generator–verifier loop; takes no parameters of its own (rounds and context are the condition's)."""

    name = "refine"

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        if params:
            raise ConfigError(f"strategy refine takes no parameters (got {', '.join(sorted(params))}); "
                              "set max_rounds and context on the condition")
        self.params: Mapping[str, Any] = {}

    def episode_bound(self, condition: BoundedCondition) -> EpisodeBound:
        """``max_rounds`` rounds of one generator call and one verdict."""
        return refinement_bound(condition)

    def max_calls(self, condition: BoundedCondition, verifier_calls_per_verdict: int) -> int:
        """Most model calls of one episode (critic votes included), capped by the condition's budget."""
        return max_calls(self.episode_bound(condition), condition, verifier_calls_per_verdict)

    async def run(self, inputs: EpisodeInputs) -> Episode:
        setup = inputs.setup
        condition = setup.condition
        max_rounds = condition.max_rounds or 1
        recorded = StrategyRecord(name=self.name, params={"max_rounds": max_rounds, "context": condition.context},
                                  budget=inputs.budget)
        round_calls = 1 + calls_per_verdict(inputs.verifier)
        examples = setup.examples[: setup.shots]
        attempts: list[tuple[str, str]] = []
        rounds: list[RoundRecord] = []
        used = Usage.zero()

        def finish(termination: str, error: str | None = None) -> Episode:
            return Episode(setup, tuple(rounds), termination, error, recorded)

        for number in range(1, max_rounds + 1):
            if not inputs.budget.allows(used, round_calls):
                return finish("budget")
            messages = inputs.prompts.generator_messages(setup.task, examples, attempts, condition.context)
            proposal = await propose(inputs, messages)
            verdict, error = await judge(inputs, proposal, number)
            call_ids = (proposal.completion.call_id,) if error else (proposal.completion.call_id, *verdict.call_ids)
            rounds.append(make_round(number, messages, proposal.completion.text, proposal.plan, proposal.parse_error,
                                     verdict, proposal.truth, call_ids, extraction=proposal.extraction,
                                     generator_usage=proposal.usage))
            used = used + rounds[-1].usage
            if error is not None:
                return finish("error", error)
            if verdict.valid is True:
                return finish("accepted")
            attempts.append((proposal.completion.text, verdict.feedback))
        return finish("max_rounds")
