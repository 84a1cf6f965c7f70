"""``tree-search``: breadth-limited search over plan prefixes (Tree of Thoughts).

Each expansion asks the generator for up to ``proposals`` next actions after a prefix (one round).
Candidates are scored by the ``simulator`` (inapplicable ones are dropped; the rest ranked by the
``heuristic`` distance to the goal: ``goal-count`` or ``h-add``; reaching the goal ends the search)
or by the ``critic`` (the condition's LLM critic judges prefix + action; an accepted one ends the
search). The best ``breadth`` candidates of a level are expanded, up to ``depth`` levels. A round's
plan is its best candidate; the episode's answer is the round of the goal-reaching (accepted)
prefix, else of the best-scored one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from planner_loop.domains.protocol import read_plan
from planner_loop.llm.protocol import ChatMessage
from planner_loop.loop import Episode, extraction_record, score_round
from planner_loop.planning.plan import Plan, PlanStep
from planner_loop.planning.strips import GroundingError
from planner_loop.planning.task import Atom, Task
from planner_loop.records import Extraction, Usage
from planner_loop.strategies.cot import with_instruction
from planner_loop.strategies.heuristics import HEURISTICS, Heuristic
from planner_loop.strategies.ledger import Ledger
from planner_loop.strategies.params import StrategyParams, parse_params, refuse_verifier, refuse_schema
from planner_loop.strategies.bounds import BoundedCondition, EpisodeBound, max_calls
from planner_loop.strategies.protocol import EpisodeInputs
from planner_loop.strategies.steps import Proposal, calls_per_verdict, judge
from planner_loop.strategies.texts import text, texts_size
from planner_loop.verifiers.protocol import Verdict


class TreeSearchParams(StrategyParams):
    breadth: int = Field(2, ge=1, le=16)
    proposals: int = Field(3, ge=1, le=16)
    depth: int = Field(12, ge=1, le=200)
    scorer: Literal["simulator", "critic"] = "simulator"
    heuristic: Literal["goal-count", "h-add"] = "goal-count"


@dataclass(frozen=True)
class Node:
    """A plan prefix, its state (simulator) and its score (lower is better), and the round that proposed it."""

    steps: tuple[PlanStep, ...]
    state: frozenset[Atom]
    score: float
    round: int = 0
    done: bool = False


def successor(task: Task, state: frozenset[Atom], step: PlanStep) -> frozenset[Atom] | None:
    """The state after ``step``, or ``None`` when it cannot be taken (unknown, badly typed, inapplicable)."""
    try:
        action = task.ground(step.name, step.args)
    except GroundingError:
        return None
    return action.apply(state) if action.applicable(state) else None


def reaches_goal(task: Task, state: frozenset[Atom]) -> bool:
    positive, negative = task.goal_sets()
    return positive <= state and negative.isdisjoint(state)


class TreeSearch:
    """Propose next actions, score them, expand the best ``breadth`` per level."""

    name = "tree-search"

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        self.options = parse_params(TreeSearchParams, params, self.name)
        self.params: Mapping[str, Any] = self.options.model_dump()

    def check_verifier(self, kind: str) -> None:
        allowed = ("llm",) if self.options.scorer == "critic" else ("none",)
        refuse_verifier(self.name, kind, allowed, f"with scorer: {self.options.scorer}")

    def episode_bound(self, condition: BoundedCondition) -> EpisodeBound:
        """One expansion at the root, then up to ``breadth`` per level for ``depth - 1`` levels; the
        critic judges each of an expansion's ``proposals``. A prefix holds an action of each earlier level."""
        options = self.options
        expansions = 1 + (options.depth - 1) * options.breadth
        judged = options.proposals if options.scorer == "critic" else 0
        return EpisodeBound(generator_calls=expansions, verdicts=expansions * judged, carried=options.depth - 1,
                            text_bytes=texts_size(self.name), plan_replies=options.depth,
                            carries_feedback=False, verdicts_per_step=judged, least_verdicts=0)

    def max_calls(self, condition: BoundedCondition, verifier_calls_per_verdict: int) -> int:
        """Most model calls of one episode (critic votes included), capped by the condition's budget."""
        return max_calls(self.episode_bound(condition), condition, verifier_calls_per_verdict)

    def _messages(self, inputs: EpisodeInputs, steps: tuple[PlanStep, ...]) -> list[ChatMessage]:
        prompts = inputs.prompts
        done = (text("tree-search", "prefix_empty") if not steps else
                text("tree-search", "prefix", steps=prompts.render_plan(Plan(steps))))
        base = inputs.prompts.generator_messages(inputs.setup.task, inputs.setup.examples[: inputs.setup.shots], [],
                                                 "last")
        return with_instruction(base, text("tree-search", "expand", prompts.encoding, prefix=done,
                                           count=str(self.options.proposals)))

    async def run(self, inputs: EpisodeInputs) -> Episode:
        task = inputs.setup.task
        options = self.options
        ledger = Ledger(inputs, self.name, self.params)
        refuse_schema(self.name, inputs.setup.generator_params.json_schema)
        critic = options.scorer == "critic"
        heuristic = HEURISTICS[options.heuristic](task)
        calls = 1 + (options.proposals * calls_per_verdict(inputs.verifier) if critic else 0)
        frontier = [Node((), frozenset(task.init), heuristic(frozenset(task.init)))]
        best: Node | None = None
        for _ in range(options.depth):
            level: list[Node] = []
            for node in frontier:
                if not ledger.allows(calls):
                    return ledger.finish("budget", chosen=best.round if best else None)
                found = await self._expand(inputs, ledger, node, heuristic, critic)
                for child in found:
                    if best is None or (child.done, -child.score) >= (best.done, -best.score):  # ties: the deeper
                        best = child
                    if child.done:
                        return ledger.finish("accepted", chosen=child.round)
                level.extend(found)
            if not level:
                break
            frontier = sorted(level, key=lambda n: n.score)[: options.breadth]
        return ledger.finish("max_rounds", chosen=best.round if best else None)

    async def _expand(self, inputs: EpisodeInputs, ledger: Ledger, node: Node, heuristic: Heuristic,
                      critic: bool) -> list[Node]:
        """One generator call: candidates after ``node``, scored, recorded as one round."""
        setup = inputs.setup
        task = setup.task
        messages = self._messages(inputs, node.steps)
        completion = await ledger.ask(messages)
        extraction = read_plan(inputs.domain, completion.text, task)
        proposed: list[PlanStep] = []
        for step in extraction.plan.steps if extraction.plan is not None else ():
            if step.to_pddl() not in {s.to_pddl() for s in proposed}:
                proposed.append(step)
        proposed = proposed[: self.options.proposals]
        number = len(ledger.rounds) + 1
        children: list[Node] = []
        detail: list[dict[str, Any]] = []
        verdicts: list[Verdict] = []
        for step in proposed:
            steps = (*node.steps, step)
            if critic:
                plan = Plan(steps)
                truth = score_round(task, plan, None, solvable=setup.instance_solvable())
                candidate = Proposal(completion, plan, None, Extraction(method="prefix"), truth, Usage.zero())
                verdict, error = await judge(inputs, candidate, number)
                verdicts.append(verdict)
                accepted = error is None and verdict.valid is True
                children.append(Node(steps, node.state, 0.0 if accepted else 1.0, number, accepted))
                detail.append({"action": step.to_pddl(), "critic_valid": verdict.valid})
                continue
            state = successor(task, node.state, step)
            score = math.inf if state is None else heuristic(state)
            detail.append({"action": step.to_pddl(), "applicable": state is not None,
                           "h": None if math.isinf(score) else score})
            if state is not None and not math.isinf(score):
                children.append(Node(steps, state, score, number, reaches_goal(task, state)))
        ranked = sorted(range(len(children)), key=lambda i: (not children[i].done, children[i].score))
        head = children[ranked[0]] if ranked else None
        plan = Plan(head.steps) if head else (Plan((*node.steps, proposed[0])) if proposed else None)
        parse_error = None if plan is not None else (extraction.error or "no action proposed")
        truth = score_round(task, plan, parse_error, solvable=setup.instance_solvable())
        critic_usage = Usage.total(v.usage for v in verdicts) if verdicts else None
        verdict = Verdict(head.done if head else False, "", {"kind": "critic" if critic else "simulator",
                                                            "candidates": detail},
                          tuple(cid for v in verdicts for cid in v.call_ids), critic_usage)
        proposal = Proposal(completion, plan, parse_error, extraction_record(extraction), truth,
                            Usage.of_completion(completion))
        ledger.add(messages, proposal, verdict)
        return children

