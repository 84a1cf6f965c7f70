"""Steps strategies share: one generator call read and scored, one verdict, the budget check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner_loop.domains.protocol import read_plan
from planner_loop.loop import extraction_record, score_round
from planner_loop.records import Extraction, GroundTruth, Usage
from planner_loop.verifiers.protocol import Verdict, VerifierError, VerifyContext

if TYPE_CHECKING:
    from planner_loop.llm.protocol import ChatMessage, Completion, SamplingParams
    from planner_loop.planning.plan import Plan
    from planner_loop.strategies.protocol import EpisodeInputs
    from planner_loop.verifiers.protocol import Verifier


@dataclass(frozen=True)
class Proposal:
    """One generator reply, the plan read from it and its ground truth."""

    completion: Completion
    plan: Plan | None
    parse_error: str | None
    extraction: Extraction
    truth: GroundTruth
    usage: Usage


def calls_per_verdict(verifier: Verifier) -> int:
    """Model calls one verdict of ``verifier`` makes (0 for verifiers that call no model)."""
    return int(getattr(verifier, "calls_per_verdict", 0))


async def propose(inputs: EpisodeInputs, messages: Sequence[ChatMessage],
                  params: SamplingParams | None = None) -> Proposal:
    """Ask the generator once (``params`` default: the setup's), read the plan and score it."""
    setup = inputs.setup
    completion = (await inputs.generator.complete(messages, params or setup.generator_params))[0]
    extraction = read_plan(inputs.domain, completion.text, setup.task)
    plan = extraction.plan
    parse_error = None if plan is not None else (extraction.error or "no plan found")
    recorded = extraction_record(extraction)
    truth = score_round(setup.task, plan, parse_error, solvable=setup.instance_solvable(),
                        no_plan_claim=recorded.no_plan_claim)
    return Proposal(completion, plan, parse_error, recorded, truth, Usage.of_completion(completion))


async def judge(inputs: EpisodeInputs, proposal: Proposal, number: int) -> tuple[Verdict, str | None]:
    """The verifier's verdict on a proposal; a ``VerifierError`` becomes ``(no verdict, its message)``."""
    setup = inputs.setup
    context = VerifyContext(round=number, seed=setup.seed, parse_error=proposal.parse_error,
                            reply=proposal.completion.text, reference_plan=setup.reference_plan,
                            examples=setup.examples, no_plan_claim=proposal.extraction.no_plan_claim,
                            solvable=setup.instance_solvable())
    try:
        return await inputs.verifier.verify(setup.task, proposal.plan, context), None
    except VerifierError as error:
        return Verdict(None, "", {"kind": inputs.verifier.kind, "error": str(error)}), str(error)
