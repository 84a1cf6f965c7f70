"""An episode in the making: its rounds, what they spent against the budget, and the finished episode.

Every generator call is one round (scored by the sound validator, whatever the strategy does with
it). A strategy that picks its answer among the rounds (self-consistency, tree search) names the
chosen round; the record's ``final`` is that round's judgement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planner_loop.domains.protocol import read_plan
from planner_loop.loop import Episode, extraction_record, make_round, score_round
from planner_loop.records import Extraction, FinalRecord, RoundRecord, StrategyRecord, Usage
from planner_loop.strategies.steps import Proposal
from planner_loop.verifiers.protocol import Verdict

if TYPE_CHECKING:
    from planner_loop.llm.protocol import ChatMessage, Completion, SamplingParams
    from planner_loop.planning.plan import Plan
    from planner_loop.strategies.protocol import EpisodeInputs

NO_VERDICT = Verdict(None, "", {"kind": "none"})


@dataclass(frozen=True)
class ChosenEpisode(Episode):
    """An episode whose answer is round ``chosen`` rather than the last one."""

    chosen: int | None = None

    @property
    def final(self) -> FinalRecord:
        picked = next((r for r in self.rounds if r.round == self.chosen), None)
        if picked is None:
            return super().final
        return FinalRecord(round=picked.round, valid=picked.ground_truth.valid,
                           accepted=picked.verdict.valid is True, critic_valid=picked.verdict.valid)


def proposal_of(inputs: EpisodeInputs, completion: Completion, answer: str | None = None, *,
                missing: str = "no plan found") -> Proposal:
    """A reply read and scored; the plan is read from ``answer`` (default: the whole reply).

    ``answer=""`` means the reply has no answer part: no plan, ``missing`` is the reason.
    """
    setup = inputs.setup
    part = completion.text if answer is None else answer
    if answer == "":
        recorded = Extraction(method="none", reason=missing)
        plan, parse_error = None, missing
    else:
        extraction = read_plan(inputs.domain, part, setup.task)
        recorded = extraction_record(extraction)
        plan = extraction.plan
        parse_error = None if plan is not None else (extraction.error or missing)
    truth = score_round(setup.task, plan, parse_error, solvable=setup.instance_solvable(),
                        no_plan_claim=recorded.no_plan_claim)
    return Proposal(completion, plan, parse_error, recorded, truth, Usage.of_completion(completion))


def kept_proposal(inputs: EpisodeInputs, completion: Completion, plan: Plan | None, reason: str) -> Proposal:
    """A reply that keeps an earlier plan (a review that confirms it): that plan, scored again."""
    setup = inputs.setup
    parse_error = None if plan is not None else "no earlier plan to keep"
    truth = score_round(setup.task, plan, parse_error, solvable=setup.instance_solvable())
    return Proposal(completion, plan, parse_error, Extraction(method="kept", reason=reason), truth,
                    Usage.of_completion(completion))


class Ledger:
    """The rounds of one episode and their usage; ``allows`` asks the budget before a call starts."""

    def __init__(self, inputs: EpisodeInputs, name: str, params: Mapping[str, Any]) -> None:
        self.inputs = inputs
        self.record = StrategyRecord(name=name, params=dict(params), budget=inputs.budget)
        self.rounds: list[RoundRecord] = []

    @property
    def used(self) -> Usage:
        return Usage.total(r.usage for r in self.rounds)

    def allows(self, calls: int = 1) -> bool:
        """Whether ``calls`` more model calls may start."""
        return self.inputs.budget.allows(self.used, calls)

    def affordable(self, wanted: int, calls_each: int = 1) -> int:
        """How many of ``wanted`` steps of ``calls_each`` calls may start now (tokens checked once)."""
        if not self.allows(calls_each):
            return 0
        limit = self.inputs.budget.max_calls
        if limit is None:
            return wanted
        return min(wanted, (limit - self.used.calls) // max(calls_each, 1))

    async def ask(self, messages: Sequence[ChatMessage], params: SamplingParams | None = None) -> Completion:
        """One generator call (the caller checked the budget)."""
        return (await self.inputs.generator.complete(messages, params or self.inputs.setup.generator_params))[0]

    def add(self, messages: Sequence[ChatMessage], proposal: Proposal, verdict: Verdict = NO_VERDICT,
            *, error: str | None = None, reply: str | None = None) -> RoundRecord:
        """Record a round: the proposal and its verdict (``error``: the verifier failed)."""
        completion = proposal.completion
        call_ids = (completion.call_id,) if error else (completion.call_id, *verdict.call_ids)
        record = make_round(len(self.rounds) + 1, messages, completion.text if reply is None else reply,
                            proposal.plan, proposal.parse_error, verdict, proposal.truth, call_ids,
                            extraction=proposal.extraction, generator_usage=proposal.usage)
        self.rounds.append(record)
        return record

    def finish(self, termination: str, *, error: str | None = None, chosen: int | None = None) -> Episode:
        """The finished episode (``chosen``: the round that is the answer; default the last)."""
        return ChosenEpisode(self.inputs.setup, tuple(self.rounds), termination, error, self.record, chosen)


def answer_after(marker: str) -> Callable[[str], str]:
    """A reader of the text after the last ``marker`` line (case-insensitive); ``""`` when absent."""
    def read(text: str) -> str:
        index = text.lower().rfind(marker.lower())
        return "" if index < 0 else text[index + len(marker):].strip()
    return read
