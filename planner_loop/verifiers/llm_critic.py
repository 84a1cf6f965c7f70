"""An LLM critic as a verifier: binary or detailed, optionally step-wise, voted, few-shot, reference-guided.

The verdict is read by :mod:`planner_loop.verifiers.verdict_reader` (a constrained JSON reply, a
``Verdict: valid|invalid`` line, else plain phrases such as "the plan is not valid"); a reply that yields no verdict, or
contradictory ones, is ``valid=None`` — recorded, never guessed. With ``votes=k`` the critic is
sampled k times (seed ``episode_seed*1000 + i``, temperature > 0) and the majority of readable
votes decides; a tie is ``None``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from planner_loop.llm.protocol import ChatMessage, SamplingParams
from planner_loop.planning.plan import PlanLineError
from planner_loop.planning.validator import ValidationReport, numbered, validate
from planner_loop.prompts import SolvedExample, fill, load_templates
from planner_loop.records.usage import Usage
from planner_loop.verifiers.feedback import FeedbackRenderer
from planner_loop.verifiers.protocol import Verdict, VerifyContext
from planner_loop.verifiers.verdict_reader import CriticReading, read_critic_reply

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain
    from planner_loop.llm.protocol import ChatModel
    from planner_loop.planning.plan import Plan
    from planner_loop.planning.task import Task

CRITIC_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {"valid": {"type": "boolean"}, "feedback": {"type": "string"}},
    "required": ["valid", "feedback"],
}
CRITIC_SCHEMA_STEPWISE: Mapping[str, Any] = {
    "type": "object",
    "properties": {"analysis": {"type": "string"}, "valid": {"type": "boolean"},
                   "feedback": {"type": "string"}},
    "required": ["analysis", "valid", "feedback"],
}
CRITIC_SCHEMA_BINARY: Mapping[str, Any] = {
    "type": "object", "properties": {"valid": {"type": "boolean"}}, "required": ["valid"],
}

def broken_plan(task: Task, plan: Plan) -> Plan:
    """A deterministic invalid variant of a valid plan: without its first step (else its last)."""
    from planner_loop.planning.plan import Plan as PlanType

    for steps in (plan.steps[1:], plan.steps[:-1], plan.steps + plan.steps[:1]):
        candidate = PlanType(tuple(steps))
        if not validate(task, candidate).valid:
            return candidate
    return PlanType(())


class LLMCritic:
    """A model asked whether a plan is valid (the LLM+LLM system's verifier)."""

    kind = "llm"

    def __init__(
        self,
        model: ChatModel,
        domain: Domain,
        *,
        feedback: str = "first-error",
        style: str = "nl",
        stepwise: bool = False,
        votes: int = 1,
        temperature: float = 0.0,
        max_tokens: int = 512,
        shots: int = 0,
        reference_guided: bool = False,
        constrained: bool = False,
        templates: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.domain = domain
        self.feedback = feedback
        self.style = style
        self.stepwise = stepwise
        self.votes = votes
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.shots = shots
        self.reference_guided = reference_guided
        self.constrained = constrained
        all_templates = templates if templates is not None else load_templates(domain.domain_file)
        self._t: Mapping[str, str] = all_templates["critic"][style]
        self._instructions: Mapping[str, str] = all_templates["critic"]["instructions"]
        self._demo: Mapping[str, str] = all_templates["critic"]["demonstration"]
        self._fb: Mapping[str, Any] = all_templates["feedback"]
        self.renderer = FeedbackRenderer(domain, style, all_templates)

    # --- prompt ---------------------------------------------------------------------------------
    def _problem(self, task: Task) -> str:
        from planner_loop.prompts import _problem_pddl, _sentence

        if self.style == "pddl":
            return fill(self._t["problem"], problem=_problem_pddl(task))
        return fill(self._t["problem"], init=_sentence(self.domain.render_state(sorted(task.init), "nl")),
                    goal=_sentence(self.domain.render_goal(task, "nl")))

    def _plan_text(self, task: Task, plan: Plan | None, reply: str | None) -> str:
        if plan is None:
            return (reply or "").strip()
        return self.domain.render_plan(plan, self.style).strip()

    def _instruction(self, no_plan_claim: bool = False) -> str:
        """The question asked; for a reply claiming that no plan exists, whether that claim is right."""
        stepwise = self.stepwise and not no_plan_claim
        parts = [self._instructions["no_plan_claim" if no_plan_claim else self.feedback]]
        if stepwise:
            parts.append(self._instructions["stepwise"])
        if self.constrained:
            key = "answer_json_binary" if self.feedback == "binary" and not stepwise else "answer_json"
            parts.append(self._instructions[key])
        else:
            parts.append(self._instructions["answer_text"])
        return "\n".join(p.strip() for p in parts)

    def _demonstration(self, example: SolvedExample, plan: Plan) -> str:
        """A judged example plan; the judgement is written from the sound validator's trace."""
        report = validate(example.task, plan, all_errors=self.feedback == "all-errors", trace=True)
        analysis = self._trace_text(example.task, plan, report) if self.stepwise else ""
        feedback = "" if report.valid or self.feedback == "binary" else self.renderer.render(report, self.feedback)
        if feedback.startswith(self.renderer._t["invalid"]):
            feedback = feedback[len(self.renderer._t["invalid"]):].strip()
        if self.constrained:
            obj: dict[str, Any] = {"valid": report.valid}
            if self.stepwise:
                obj = {"analysis": analysis, "valid": report.valid, "feedback": feedback}
            elif self.feedback != "binary":
                obj["feedback"] = feedback
            answer = json.dumps(obj)
        else:
            verdict = self._demo["verdict_valid"] if report.valid else self._demo["verdict_invalid"]
            answer = "\n".join(part for part in (analysis, feedback, verdict) if part)
        return "\n\n".join([self._problem(example.task),
                            fill(self._t["plan"], plan=self.domain.render_plan(plan, self.style).strip()),
                            self._demo["answer_heading"] + "\n" + answer])

    def _trace_text(self, task: Task, plan: Plan, report: ValidationReport) -> str:
        """Step-wise state tracking read from the sound validator's trace (for judge demonstrations).

        States, unmet preconditions (equality ones included) and plan errors are the validator's own;
        the trace stops at the first failing step.
        """
        states = report.states if report.states is not None else validate(task, plan, trace=True).states
        assert states is not None
        unmet = {failure.step: failure.unmet_preconditions for failure in report.failures}
        errors = {error.step: error.message for error in report.errors}
        lines = []
        for number, entry in enumerate(numbered(plan), start=1):
            if number in errors or isinstance(entry, PlanLineError):
                text = entry.text if isinstance(entry, PlanLineError) else self.domain.render_action(entry, self.style)
                lines.append(fill(self._demo["step_failed"], step=str(number), action=text.strip(), needs="",
                                  unmet=errors.get(number, "")))
                return "\n".join(lines)
            name = self.domain.render_action(entry, self.style).strip()
            needs = self.renderer.literals(task.ground(entry.name, entry.args).preconditions())
            if number in unmet:
                lines.append(fill(self._demo["step_failed"], step=str(number), action=name, needs=needs,
                                  unmet=self.renderer.literals(unmet[number])))
                return "\n".join(lines)
            lines.append(fill(self._demo["step_ok"], step=str(number), action=name, needs=needs,
                              state=self.domain.render_state(sorted(states[number]), self.style).strip()))
        if report.unmet_goals:
            lines.append(fill(self._demo["goal_missing"], unmet=self.renderer.literals(report.unmet_goals)))
        else:
            lines.append(self._demo["goal_ok"])
        return "\n".join(lines)

    def messages(self, task: Task, plan: Plan | None, context: VerifyContext) -> list[ChatMessage]:
        """The critic's chat for one plan."""
        parts = [fill(self._t["domain"], domain=self.domain.describe(self.style).strip())]
        demos: list[tuple[SolvedExample, Plan]] = []
        for example in list(context.examples)[: self.shots]:
            demos += [(example, example.plan), (example, broken_plan(example.task, example.plan))]
        for number, (example, demo_plan) in enumerate(demos, start=1):
            parts.append(fill(self._t["example_heading"], number=str(number)))
            parts.append(self._demonstration(example, demo_plan))
        if demos:
            parts.append(self._t["examples_end"])
        parts.append(self._problem(task))
        if self.reference_guided and context.reference_plan is not None:
            parts.append(fill(self._t["reference"],
                              reference=self.domain.render_plan(context.reference_plan, self.style).strip()))
        parts.append(fill(self._t["plan"], plan=self._plan_text(task, plan, context.reply)))
        parts.append(self._instruction(context.no_plan_claim and plan is None))
        return [ChatMessage("system", self._t["system"].strip()),
                ChatMessage("user", "\n\n".join(p.strip("\n") for p in parts))]

    def _schema(self, no_plan_claim: bool = False) -> Mapping[str, Any] | None:
        if not self.constrained:
            return None
        if self.stepwise and not no_plan_claim:
            return CRITIC_SCHEMA_STEPWISE
        return CRITIC_SCHEMA_BINARY if self.feedback == "binary" else CRITIC_SCHEMA

    # --- verdict --------------------------------------------------------------------------------
    @property
    def calls_per_verdict(self) -> int:
        """Model calls one verdict makes (one per vote)."""
        return self.votes

    async def verify(self, task: Task, plan: Plan | None, context: VerifyContext) -> Verdict:
        messages = self.messages(task, plan, context)
        schema = self._schema(context.no_plan_claim and plan is None)

        usages: dict[int, Usage] = {}

        async def one_vote(index: int) -> tuple[CriticReading, str, str]:
            params = SamplingParams(temperature=self.temperature, max_tokens=self.max_tokens,
                                    seed=context.seed * 1000 + index, json_schema=schema)
            completion = (await self.model.complete(messages, params))[0]
            usages[index] = Usage.of_completion(completion)
            return read_critic_reply(completion.text), completion.text, completion.call_id

        results = await asyncio.gather(*(one_vote(i) for i in range(self.votes)))
        tally = {"valid": sum(r.valid is True for r, _, _ in results),
                 "invalid": sum(r.valid is False for r, _, _ in results),
                 "unreadable": sum(r.valid is None for r, _, _ in results)}
        valid: bool | None = None
        if tally["valid"] != tally["invalid"]:
            valid = tally["valid"] > tally["invalid"]
        detail = {
            "kind": self.kind,
            "reading": results[0][0].reading if self.votes == 1 else "vote",
            "tally": tally,
            "votes": [{"valid": r.valid, "reading": r.reading, "text": text, "call_id": call_id}
                      for r, text, call_id in results],
        }
        return Verdict(valid, self._feedback_text(valid, [r for r, _, _ in results]), detail,
                       tuple(call_id for _, _, call_id in results),
                       usage=Usage.total(usages[i] for i in sorted(usages)))

    def _feedback_text(self, valid: bool | None, readings: Sequence[CriticReading]) -> str:
        if valid is True:
            return ""
        if valid is None:
            critique = next((r.feedback for r in readings if r.feedback), "")
            if self.feedback == "binary" or not critique:
                return self._fb["undecided"]
            return f"{self._fb['undecided']}\n{critique}"
        invalid = self._fb[self.style]["invalid"]
        if self.feedback == "binary":
            return invalid
        critique = next((r.feedback for r in readings if r.valid is False and r.feedback), "")
        return f"{invalid}\n{critique}" if critique else invalid
