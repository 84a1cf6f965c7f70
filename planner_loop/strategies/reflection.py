"""``reflection``: the model reviews its own plan in the same conversation and may revise it.

Round 1 is the generator's plan; each later round is a review turn ("did you meet every
precondition and the goal?"). A review that confirms keeps the plan (extraction method ``kept``)
and ends the episode (termination ``accepted``, the verdict the model's own, kind
``self-review``); one that revises gives the next plan. No external verdict is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from planner_loop.llm.protocol import ChatMessage
from planner_loop.loop import Episode
from planner_loop.strategies.ledger import Ledger, kept_proposal, proposal_of
from planner_loop.strategies.params import StrategyParams, parse_params, refuse_verifier
from planner_loop.strategies.bounds import BoundedCondition, EpisodeBound, max_calls
from planner_loop.strategies.protocol import EpisodeInputs
from planner_loop.strategies.texts import text, texts_size
from planner_loop.verifiers.protocol import Verdict


class ReflectionParams(StrategyParams):
    reviews: int = Field(2, ge=1, le=32, description="review turns at most")


class Reflection:
    """Plan, then self-review until the model confirms its plan or ``reviews`` run out."""

    name = "reflection"

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        self.options = parse_params(ReflectionParams, params, self.name)
        self.params: Mapping[str, Any] = self.options.model_dump()

    def check_verifier(self, kind: str) -> None:
        refuse_verifier(self.name, kind, ("none",), "uses no external verdict")

    def episode_bound(self, condition: BoundedCondition) -> EpisodeBound:
        """The plan and up to ``reviews`` review turns, each carrying the conversation so far."""
        reviews = self.options.reviews
        return EpisodeBound(generator_calls=1 + reviews, verdicts=0, carried=reviews, text_bytes=texts_size(self.name),
                            verdicts_per_step=0, least_generator_calls=2, least_verdicts=0)

    def max_calls(self, condition: BoundedCondition, verifier_calls_per_verdict: int) -> int:
        """Most model calls of one episode (critic votes included), capped by the condition's budget."""
        return max_calls(self.episode_bound(condition), condition, verifier_calls_per_verdict)

    async def run(self, inputs: EpisodeInputs) -> Episode:
        setup = inputs.setup
        ledger = Ledger(inputs, self.name, self.params)
        encoding = inputs.prompts.encoding
        marker = text("reflection", "confirm_marker")
        review = text("reflection", "review", encoding)
        messages = inputs.prompts.generator_messages(setup.task, setup.examples[: setup.shots], [], "last")
        if not ledger.allows():
            return ledger.finish("budget")
        completion = await ledger.ask(messages)
        current = proposal_of(inputs, completion)
        ledger.add(messages, current)
        for _ in range(self.options.reviews):
            if not ledger.allows():
                return ledger.finish("budget")
            messages = [*messages, ChatMessage("assistant", completion.text), ChatMessage("user", review)]
            completion = await ledger.ask(messages)
            revised = proposal_of(inputs, completion)
            confirmed = marker.lower() in completion.text.lower() and revised.plan is None
            if confirmed:
                kept = kept_proposal(inputs, completion, current.plan, "the review confirmed the earlier plan")
                ledger.add(messages, kept, Verdict(True, "", {"kind": "self-review", "confirmed": True}))
                return ledger.finish("accepted")
            current = revised
            # The review found fault with the earlier plan; the revision itself is not judged yet.
            ledger.add(messages, current, Verdict(None, "", {"kind": "self-review", "confirmed": False}))
        return ledger.finish("max_rounds")
