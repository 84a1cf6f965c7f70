"""The ``episodes.jsonl`` record, schema version 2: one episode (condition × instance × seed) per line.

These models are the only description of a record: the loop writes them, the analysis, ``show`` and
exporters read them (through :func:`planner_loop.records.load_episode_record`, which also reads
records of version 1), and ``docs/record-schema.json`` is generated from them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from planner_loop.records.base import RecordModel
from planner_loop.records.strategy import StrategyRecord
from planner_loop.records.usage import Usage

SCHEMA_VERSION = 2
Termination = Literal["accepted", "max_rounds", "error", "budget"]
TERMINATIONS: tuple[str, ...] = ("accepted", "max_rounds", "error", "budget")


class Message(RecordModel):
    """One chat turn the generator read (OpenAI wire form; tool-call keys pass through as they are)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    role: str = Field(description="system, user, assistant (or tool).")
    content: str | None = Field(description="The text of the turn.")


class Extraction(RecordModel):
    """How the plan was read from the generator's reply."""

    method: str = Field(description="The reading that succeeded (json, pddl, nl, keyword, a '+'-joined mix) or none.")
    block: str | None = Field(None, description="Which part of the reply the plan was read from; null when not told.")
    reason: str | None = Field(None, description="Why that part was chosen, or why no plan could be read.")
    ambiguous: list[str] = Field(default_factory=list,
                                 description="Phrases that could be read more than one way (recorded, not guessed).")
    no_plan_claim: bool = Field(False, description="The reply states that no plan exists.")


class GroundTruthError(RecordModel):
    """One error the sound validator found."""

    step: int | None = Field(description="1-based plan step, null for errors of the whole plan.")
    kind: str = Field(description="syntax, unknown-action, arity, unknown-object, type-mismatch, no-plan, "
                                  "no-plan-claim, ...")
    message: str = Field(description="The validator's message.")


class GroundTruth(RecordModel):
    """The sound validator's judgement of a round's plan (every round gets one, whoever drives the loop).

    On an instance known to be unsolvable, a round is valid exactly when the reply claims that no
    plan exists; a no-plan claim on a solvable instance is invalid.
    """

    valid: bool = Field(description="The plan reaches the goal from the initial state (or: a correct no-plan claim).")
    failed_step: int | None = Field(None, description="First failing step, 1-based.")
    action: str | None = Field(None, description="PDDL text of the failing step.")
    unmet_preconditions: list[str] = Field(default_factory=list,
                                           description="Preconditions false at the failing step, as PDDL.")
    unmet_goals: list[str] = Field(default_factory=list,
                                   description="Goal literals false after the last step (when the plan ran to its end).")
    errors: list[GroundTruthError] = Field(default_factory=list, description="Every error found.")


class VerdictRecord(RecordModel):
    """The verifier's judgement of a round's plan: what drove the loop."""

    valid: bool | None = Field(description="Accepted (true), rejected (false) or no verdict (null: an unreadable "
                                           "critic reply, or no verifier).")
    feedback: str = Field(description="The text the generator gets back in the next round.")
    detail: dict[str, Any] = Field(default_factory=dict,
                                   description="Verifier-specific detail (kind, votes, exit code, ...).")
    usage: Usage | None = Field(None, description="The verifier's model calls (an LLM critic); null when it used none.")


class RoundRecord(RecordModel):
    """One generator call and its judgement."""

    round: int = Field(ge=1, description="1-based round number.")
    messages: list[Message] = Field(description="The chat the generator read this round.")
    reply: str = Field(description="The generator's reply.")
    plan: list[str] | None = Field(description="The plan read from the reply, one PDDL action per step; null when none.")
    parse_error: str | None = Field(None, description="Why no plan could be read (null when a plan was read).")
    extraction: Extraction | None = Field(None, description="How the plan was read; null in version-1 records.")
    verdict: VerdictRecord = Field(description="The verifier's judgement.")
    ground_truth: GroundTruth = Field(description="The sound validator's judgement.")
    call_ids: list[str] = Field(default_factory=list,
                                description="Ids of the model calls of this round (generator first), see calls.jsonl.")
    usage: Usage = Field(default_factory=Usage.zero, description="Calls and tokens of this round, critic included.")


class VerifierInfo(RecordModel):
    """Which verifier drove the loop."""

    kind: str = Field(description="none, symbolic, val, llm (or a plugin's kind); unknown in version-1 records "
                                  "that did not say.")
    feedback: str = Field("none", description="Feedback level: none, binary, first-error, all-errors.")
    critic_model: str | None = Field(None, description="The critic's model spec (LLM critic only).")
    critic_mode: str | None = Field(None, description="binary or detailed (LLM critic only).")
    stepwise: bool = Field(False, description="The critic was asked to track the state step by step.")
    votes: int = Field(1, ge=1, description="Critic samples per verdict (majority vote).")


class PromptInfo(RecordModel):
    """How the generator was prompted."""

    encoding: str = Field(description="nl or pddl.")
    shots: int = Field(ge=0, description="Solved examples in the prompt.")
    example_rule: str = Field(description="How examples were chosen (e.g. next-by-id).")
    example_ids: list[str] = Field(default_factory=list, description="The example instances, in prompt order.")
    constrained: bool = Field(False, description="The generator's output was constrained to a JSON schema.")


class InstanceRecord(RecordModel):
    """The problem of the episode."""

    id: str = Field(description="Instance id within its set.")
    set: str = Field(description="Instance set (built-in name or folder as given).")
    problem: str | None = Field(None, description="The problem file, relative to the built-in problems or the set.")
    sizes: dict[str, int] = Field(default_factory=dict,
                                  description="Problem size by the set manifest's size fields (blocks; packages, "
                                              "cities, ...); else the object count under 'objects'.")
    solvable: bool | None = Field(None, description="Whether a plan exists; null when the set does not say.")
    optimal_length: int | None = Field(None, description="Length of an optimal plan, when known.")


class FinalRecord(RecordModel):
    """The outcome: the last round's judgements."""

    round: int = Field(ge=0, description="The last round (0 when none ran).")
    valid: bool = Field(description="The last round's ground truth.")
    accepted: bool = Field(description="The verifier accepted the last round's plan.")
    critic_valid: bool | None = Field(None, description="The verifier's last verdict (null: none or unreadable).")


class EpisodeRecord(RecordModel):
    """One finished episode: a line of ``episodes.jsonl``."""

    schema_version: Literal[2] = Field(SCHEMA_VERSION, description="Record format version (absent = version 1).")
    key: str = Field(description="<condition>/<instance id>/seed<seed>, unique in a run.")
    condition: str = Field(description="Condition name from the experiment config.")
    system: str = Field(description="llm-only, llm+llm, llm+sound, llm+val.")
    verifier: VerifierInfo = Field(description="The verifier that drove the loop.")
    generator_model: str | None = Field(None, description="The generator's model spec.")
    context_policy: str | None = Field(None, description="What earlier rounds the generator sees: last or history.")
    prompt: PromptInfo | None = Field(None, description="How the generator was prompted (absent in some version-1 "
                                                        "records).")
    instance: InstanceRecord = Field(description="The problem.")
    seed: int = Field(0, description="The episode's seed (sampling seed of its calls).")
    max_rounds: int | None = Field(None, description="The round limit.")
    strategy: StrategyRecord = Field(default_factory=StrategyRecord,
                                     description="How the episode spent its compute (version-1 records: refine).")
    rounds: list[RoundRecord] = Field(description="Every round, in order.")
    termination: Termination = Field(description="accepted, max_rounds, error (a verifier error) or budget.")
    error: str | None = Field(None, description="The verifier error that ended the episode.")
    final: FinalRecord = Field(description="The outcome.")
    usage: Usage = Field(default_factory=Usage.zero, description="Calls and tokens of the whole episode.")

    def to_json(self) -> dict[str, Any]:
        """The JSON object appended to ``episodes.jsonl``."""
        return self.model_dump(mode="json")
