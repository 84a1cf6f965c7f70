"""One episode: its setup, its rounds, and the record it writes; :func:`run_episode` hands it to a strategy.

Every system is a configuration of the ``refine`` strategy (propose → judge → feed back): LLM only
(no verifier, one round), LLM+LLM (an LLM critic), LLM+sound (the symbolic validator), LLM+VAL.
Whatever drives the loop, every round's plan is also judged by the sound validator (the ground
truth). The record written per episode is :class:`planner_loop.records.EpisodeRecord`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planner_loop.llm.protocol import SamplingParams
from planner_loop.planning.validator import validate
from planner_loop.records import (
    TERMINATIONS,
    Budget,
    EpisodeRecord,
    Extraction,
    FinalRecord,
    GroundTruth,
    GroundTruthError,
    InstanceRecord,
    PromptInfo,
    RoundRecord,
    StrategyRecord,
    Usage,
    VerifierInfo,
)
from planner_loop.verifiers.protocol import Verdict

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain, PlanExtraction
    from planner_loop.experiment import ConditionConfig, Instance
    from planner_loop.llm.protocol import ChatModel
    from planner_loop.planning.plan import Plan
    from planner_loop.planning.task import Task
    from planner_loop.prompts import PromptBuilder, SolvedExample
    from planner_loop.strategies.protocol import Strategy
    from planner_loop.verifiers.protocol import Verifier

__all__ = ["TERMINATIONS", "Episode", "EpisodeSetup", "Round", "ground_truth", "make_round", "run_episode",
           "score_round"]

Round = RoundRecord
"""One generator call and its judgement (the record model itself)."""


def score_round(task: Task, plan: Plan | None, parse_error: str | None, *, solvable: bool | None = None,
                no_plan_claim: bool = False) -> GroundTruth:
    """The sound validator's judgement of a round's plan (a missing plan is invalid).

    On an instance known to be unsolvable the round is valid exactly when the reply claims that no
    plan exists; a no-plan claim on any other instance is invalid.
    """
    if solvable is False and no_plan_claim:
        return GroundTruth(valid=True)
    claim = [GroundTruthError(step=None, kind="no-plan-claim", message="the reply claims that no plan exists")
             ] if no_plan_claim else []
    if plan is None:
        return GroundTruth(valid=False, errors=[GroundTruthError(step=None, kind="no-plan", message=parse_error or ""),
                                                *claim])
    report = validate(task, plan)
    errors = [GroundTruthError(step=e.step, kind=e.kind, message=e.message) for e in report.errors] + claim
    if solvable is False and report.valid:
        errors.append(GroundTruthError(step=None, kind="unsolvable",
                                       message="the instance is recorded as unsolvable; the answer is that no plan exists"))
    return GroundTruth(
        valid=report.valid and not no_plan_claim and solvable is not False,
        failed_step=report.failed_step,
        action=report.action,
        unmet_preconditions=list(report.unmet_preconditions),
        unmet_goals=list(report.unmet_goals),
        errors=errors,
    )


def ground_truth(task: Task, plan: Plan | None, parse_error: str | None, *, solvable: bool | None = None,
                 no_plan_claim: bool = False) -> dict[str, Any]:
    """:func:`score_round` as the JSON object recorded in a round's ``ground_truth``."""
    return score_round(task, plan, parse_error, solvable=solvable, no_plan_claim=no_plan_claim).model_dump(mode="json")


def extraction_record(extraction: PlanExtraction) -> Extraction:
    """The recorded account of how a reply was read (fields the domain does not report get defaults)."""
    block = getattr(extraction, "block", None)
    reason = getattr(extraction, "reason", None) or (extraction.error if extraction.plan is None else None)
    return Extraction(
        method=extraction.method,
        block=None if block is None else str(block),
        reason=str(reason) if reason else None,
        ambiguous=[str(item) for item in getattr(extraction, "ambiguous", ()) or ()],
        no_plan_claim=bool(getattr(extraction, "no_plan_claim", False)),
    )


def make_round(number: int, messages: Sequence[Any], reply: str, plan: Plan | None, parse_error: str | None,
               verdict: Verdict, truth: GroundTruth, call_ids: Sequence[str], *,
               extraction: Extraction | None, generator_usage: Usage) -> RoundRecord:
    """A round's record; its usage is the generator's plus the verdict's."""
    return RoundRecord(
        round=number,
        messages=[m.to_json() if hasattr(m, "to_json") else dict(m) for m in messages],
        reply=reply,
        plan=[step.to_pddl() for step in plan.steps] if plan is not None else None,
        parse_error=parse_error,
        extraction=extraction,
        verdict=verdict.to_json(),
        ground_truth=truth,
        call_ids=list(call_ids),
        usage=generator_usage + (verdict.usage or Usage.zero()),
    )


@dataclass(frozen=True)
class EpisodeSetup:
    """Everything that identifies one episode (condition × instance × seed) and how it may spend.

    ``sizes`` (the instance's size fields) defaults to the instance's own ``sizes``, else its
    ``blocks``, else the task's object count under ``objects``; ``solvable`` to the instance's.
    """

    key: str
    condition: ConditionConfig
    instance: Instance
    task: Task
    seed: int
    generator_model: str
    critic_model: str | None
    generator_params: SamplingParams
    encoding: str
    shots: int
    example_rule: str
    examples: tuple[SolvedExample, ...] = ()
    reference_plan: Plan | None = None
    blocks: int | None = None
    optimal_length: int | None = None
    sizes: Mapping[str, int] | None = None
    solvable: bool | None = None
    strategy: str = "refine"
    strategy_params: Mapping[str, Any] = field(default_factory=dict)
    budget: Budget = field(default_factory=Budget)

    def instance_sizes(self) -> dict[str, int]:
        if self.sizes is not None:
            return dict(self.sizes)
        own = getattr(self.instance, "sizes", None)
        if own:
            return dict(own)
        blocks = self.blocks if self.blocks is not None else getattr(self.instance, "blocks", None)
        if blocks is not None:
            return {"blocks": int(blocks)}
        return {"objects": len(self.task.objects)}

    def instance_solvable(self) -> bool | None:
        return self.solvable if self.solvable is not None else getattr(self.instance, "solvable", None)


@dataclass(frozen=True)
class Episode:
    """A finished episode; ``record()`` is its ``episodes.jsonl`` record, ``to_json()`` that as a dict."""

    setup: EpisodeSetup
    rounds: tuple[RoundRecord, ...]
    termination: str
    error: str | None
    strategy: StrategyRecord = field(default_factory=StrategyRecord)

    @property
    def final(self) -> FinalRecord:
        if not self.rounds:
            return FinalRecord(round=0, valid=False, accepted=False, critic_valid=None)
        last = self.rounds[-1]
        return FinalRecord(round=last.round, valid=last.ground_truth.valid, accepted=last.verdict.valid is True,
                           critic_valid=last.verdict.valid)

    def record(self) -> EpisodeRecord:
        s = self.setup
        c = s.condition
        llm = c.verifier == "llm"
        instance = s.instance.to_json()
        return EpisodeRecord(
            key=s.key,
            condition=c.name,
            system=c.system,
            verifier=VerifierInfo(kind=c.verifier, feedback=c.feedback or "none",
                                  critic_model=s.critic_model if llm else None,
                                  critic_mode=getattr(c, "critic_mode", None) if llm else None,
                                  stepwise=getattr(c, "stepwise", False), votes=getattr(c, "votes", 1)),
            generator_model=s.generator_model,
            context_policy=c.context,
            prompt=PromptInfo(encoding=s.encoding, shots=s.shots, example_rule=s.example_rule,
                              example_ids=[e.instance_id for e in s.examples[: s.shots]],
                              constrained=s.generator_params.json_schema is not None),
            instance=InstanceRecord(id=instance["id"], set=instance["set"], problem=instance.get("problem"),
                                    sizes=s.instance_sizes(), solvable=s.instance_solvable(),
                                    optimal_length=s.optimal_length),
            seed=s.seed,
            max_rounds=c.max_rounds,
            strategy=self.strategy,
            rounds=list(self.rounds),
            termination=self.termination,  # type: ignore[arg-type]
            error=self.error,
            final=self.final,
            usage=Usage.total(r.usage for r in self.rounds),
        )

    def to_json(self) -> dict[str, Any]:
        return self.record().to_json()


async def run_episode(
    setup: EpisodeSetup,
    *,
    domain: Domain,
    prompts: PromptBuilder,
    generator: ChatModel,
    verifier: Verifier,
    strategy: Strategy | None = None,
) -> Episode:
    """Run one episode with ``strategy`` (default: ``setup.strategy`` from the strategy registry).

    Endpoint failures (``ModelError``) propagate: they stop the run rather than being recorded.
    """
    from planner_loop.strategies.protocol import EpisodeInputs

    if strategy is None:
        from planner_loop.strategies.registry import build_strategy

        strategy = build_strategy(setup.strategy, setup.strategy_params)
    return await strategy.run(EpisodeInputs(setup=setup, domain=domain, prompts=prompts, generator=generator,
                                            verifier=verifier, budget=setup.budget))
