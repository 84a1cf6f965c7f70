"""``cot``: reasoning first, then the plan after an answer marker; the plan is read from the answer only.

``style: free`` asks for free step-by-step reasoning, ``state-tracking`` for the state after every
action. With a verifier the episode refines like ``refine`` (feedback, up to ``max_rounds``); with
none it is one call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from planner_loop.llm.protocol import ChatMessage
from planner_loop.loop import Episode
from planner_loop.strategies.ledger import Ledger, answer_after, proposal_of
from planner_loop.strategies.params import StrategyParams, parse_params, refuse_schema
from planner_loop.strategies.bounds import BoundedCondition, EpisodeBound, max_calls, refinement_bound
from planner_loop.strategies.protocol import EpisodeInputs
from planner_loop.strategies.steps import calls_per_verdict, judge
from planner_loop.strategies.texts import text, texts_size


class CotParams(StrategyParams):
    style: Literal["free", "state-tracking"] = "free"


def with_instruction(messages: Sequence[ChatMessage], instruction: str) -> list[ChatMessage]:
    """``messages`` with ``instruction`` added to the last (user) turn."""
    last = messages[-1]
    return [*messages[:-1], ChatMessage(last.role, f"{last.content.rstrip()}\n\n{instruction}")]


class ChainOfThought:
    """Reason, then answer; refined with the condition's verifier when it has one."""

    name = "cot"

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        self.options = parse_params(CotParams, params, self.name)
        self.params: Mapping[str, Any] = self.options.model_dump()

    def episode_bound(self, condition: BoundedCondition) -> EpisodeBound:
        """Like ``refine``, each prompt with the reasoning instruction added."""
        return refinement_bound(condition, texts_size(self.name))

    def max_calls(self, condition: BoundedCondition, verifier_calls_per_verdict: int) -> int:
        """Most model calls of one episode (critic votes included), capped by the condition's budget."""
        return max_calls(self.episode_bound(condition), condition, verifier_calls_per_verdict)

    async def run(self, inputs: EpisodeInputs) -> Episode:
        setup = inputs.setup
        condition = setup.condition
        encoding = inputs.prompts.encoding
        max_rounds = condition.max_rounds or 1
        ledger = Ledger(inputs, self.name, {**self.params, "max_rounds": max_rounds})
        refuse_schema(self.name, inputs.setup.generator_params.json_schema)
        instruction = text("cot", self.options.style, encoding)
        read = answer_after(text("cot", "answer_marker"))
        examples = setup.examples[: setup.shots]
        attempts: list[tuple[str, str]] = []
        for number in range(1, max_rounds + 1):
            if not ledger.allows(1 + calls_per_verdict(inputs.verifier)):
                return ledger.finish("budget")
            messages = with_instruction(
                inputs.prompts.generator_messages(setup.task, examples, attempts, condition.context), instruction)
            completion = await ledger.ask(messages)
            proposal = proposal_of(inputs, completion, read(completion.text),
                                   missing="no final answer after the marker")
            verdict, error = await judge(inputs, proposal, number)
            ledger.add(messages, proposal, verdict, error=error)
            if error is not None:
                return ledger.finish("error", error=error)
            if verdict.valid is True:
                return ledger.finish("accepted")
            attempts.append((completion.text, verdict.feedback))
        return ledger.finish("max_rounds")
