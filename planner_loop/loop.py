"""The generator–verifier loop: one episode of propose → judge → feed back, up to ``max_rounds``.

Every system is a configuration of :func:`run_episode`: LLM only (no verifier, one round), LLM+LLM
(an LLM critic), LLM+sound (the symbolic validator), LLM+VAL. Whatever drives the loop, every round's
plan is also judged by the sound validator (the ground truth). The record written per episode is
documented in ``docs/internals.md`` and ``docs/experiments.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planner_loop.llm.protocol import SamplingParams
from planner_loop.planning.validator import validate
from planner_loop.verifiers.protocol import Verdict, VerifierError, VerifyContext

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain
    from planner_loop.experiment import ConditionConfig, Instance
    from planner_loop.llm.protocol import ChatModel
    from planner_loop.planning.plan import Plan
    from planner_loop.planning.task import Task
    from planner_loop.prompts import PromptBuilder, SolvedExample
    from planner_loop.verifiers.protocol import Verifier

TERMINATIONS = ("accepted", "max_rounds", "error")


def ground_truth(task: Task, plan: Plan | None, parse_error: str | None) -> dict[str, Any]:
    """The sound validator's judgement of a round's plan (a missing plan is invalid)."""
    if plan is None:
        return {"valid": False, "failed_step": None, "action": None, "unmet_preconditions": [],
                "unmet_goals": [], "errors": [{"step": None, "kind": "no-plan", "message": parse_error or ""}]}
    report = validate(task, plan)
    return {
        "valid": report.valid,
        "failed_step": report.failed_step,
        "action": report.action,
        "unmet_preconditions": list(report.unmet_preconditions),
        "unmet_goals": list(report.unmet_goals),
        "errors": [{"step": e.step, "kind": e.kind, "message": e.message} for e in report.errors],
    }


@dataclass(frozen=True)
class Round:
    """One generator call and its judgement."""

    round: int
    messages: tuple[Mapping[str, str], ...]
    reply: str
    plan: tuple[str, ...] | None
    parse_error: str | None
    verdict: Verdict
    ground_truth: Mapping[str, Any]
    call_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "messages": [dict(m) for m in self.messages],
            "reply": self.reply,
            "plan": list(self.plan) if self.plan is not None else None,
            "parse_error": self.parse_error,
            "verdict": self.verdict.to_json(),
            "ground_truth": dict(self.ground_truth),
            "call_ids": list(self.call_ids),
        }


@dataclass(frozen=True)
class EpisodeSetup:
    """Everything that identifies one episode (condition × instance × seed)."""

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


@dataclass(frozen=True)
class Episode:
    """A finished episode; ``to_json()`` is its ``episodes.jsonl`` record."""

    setup: EpisodeSetup
    rounds: tuple[Round, ...]
    termination: str
    error: str | None

    @property
    def final(self) -> dict[str, Any]:
        if not self.rounds:
            return {"round": 0, "valid": False, "accepted": False, "critic_valid": None}
        last = self.rounds[-1]
        return {"round": last.round, "valid": bool(last.ground_truth["valid"]),
                "accepted": last.verdict.valid is True, "critic_valid": last.verdict.valid}

    def to_json(self) -> dict[str, Any]:
        s = self.setup
        c = s.condition
        llm = c.verifier == "llm"
        return {
            "key": s.key,
            "condition": c.name,
            "system": c.system,
            "verifier": {"kind": c.verifier, "feedback": c.feedback,
                         "critic_model": s.critic_model if llm else None,
                         "critic_mode": c.critic_mode if llm else None,
                         "stepwise": c.stepwise, "votes": c.votes},
            "generator_model": s.generator_model,
            "context_policy": c.context,
            "prompt": {"encoding": s.encoding, "shots": s.shots, "example_rule": s.example_rule,
                       "example_ids": [e.instance_id for e in s.examples[: s.shots]],
                       "constrained": s.generator_params.json_schema is not None},
            "instance": {**s.instance.to_json(), "blocks": s.blocks, "optimal_length": s.optimal_length},
            "seed": s.seed,
            "max_rounds": c.max_rounds,
            "rounds": [r.to_json() for r in self.rounds],
            "termination": self.termination,
            "error": self.error,
            "final": self.final,
        }


async def run_episode(
    setup: EpisodeSetup,
    *,
    domain: Domain,
    prompts: PromptBuilder,
    generator: ChatModel,
    verifier: Verifier,
) -> Episode:
    """Run one episode to acceptance, the round limit, or a verifier error.

    Endpoint failures (``ModelError``) propagate: they stop the run rather than being recorded.
    """
    condition = setup.condition
    max_rounds = condition.max_rounds or 1
    attempts: list[tuple[str, str]] = []
    rounds: list[Round] = []
    examples = setup.examples[: setup.shots]
    for number in range(1, max_rounds + 1):
        messages = prompts.generator_messages(setup.task, examples, attempts, condition.context)
        completion = (await generator.complete(messages, setup.generator_params))[0]
        extraction = domain.extract_plan(completion.text, setup.task)
        plan = extraction.plan
        parse_error = None if plan is not None else (extraction.error or "no plan found")
        context = VerifyContext(round=number, seed=setup.seed, parse_error=parse_error, reply=completion.text,
                                reference_plan=setup.reference_plan, examples=setup.examples)
        truth = ground_truth(setup.task, plan, parse_error)
        try:
            verdict = await verifier.verify(setup.task, plan, context)
        except VerifierError as error:
            verdict = Verdict(None, "", {"kind": verifier.kind, "error": str(error)})
            rounds.append(_round(number, messages, completion.text, plan, parse_error, verdict, truth,
                                 (completion.call_id,)))
            return Episode(setup, tuple(rounds), "error", str(error))
        rounds.append(_round(number, messages, completion.text, plan, parse_error, verdict, truth,
                             (completion.call_id, *verdict.call_ids)))
        if verdict.valid is True:
            return Episode(setup, tuple(rounds), "accepted", None)
        attempts.append((completion.text, verdict.feedback))
    return Episode(setup, tuple(rounds), "max_rounds", None)


def _round(number: int, messages: Sequence[Any], reply: str, plan: Plan | None, parse_error: str | None,
           verdict: Verdict, truth: Mapping[str, Any], call_ids: tuple[str, ...]) -> Round:
    return Round(
        round=number,
        messages=tuple(m.to_json() for m in messages),
        reply=reply,
        plan=tuple(step.to_pddl() for step in plan.steps) if plan is not None else None,
        parse_error=parse_error,
        verdict=verdict,
        ground_truth=truth,
        call_ids=call_ids,
    )
