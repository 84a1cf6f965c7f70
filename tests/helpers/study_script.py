"""A scripted generator and critic for whole studies, served by the llm layer's fake OpenAI server.

Each instance gets a script of plan *kinds* per round; replies are chosen from the request's content
alone (which instance the prompt asks about, how many rounds came before, what the feedback said),
so they do not depend on request order or concurrency. Plan kinds:

- ``valid``: an optimal plan from the planner;
- ``short``: that plan without its last step (every action executes, the goal is not reached);
- ``bad``: the optimal plan behind an inexecutable first step;
- ``none``: prose with no plan in it;
- ``short?``: ``valid`` if the last feedback named the unmet goal, else ``short`` (so detailed
  feedback helps and binary feedback does not).

The critic answers per (instance, plan kind): ``valid``, ``invalid`` (naming the unmet goal) or
``unreadable``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from planner_loop.domains import get_domain
from planner_loop.planning.plan import Plan, PlanStep
from planner_loop.planning.search import solve
from planner_loop.resources import builtin_dir

NONSENSE = "I am not sure how to solve this one."
GOAL_HINT = "goal is not reached"
CRITIC_MARK = "plan checker"
PLAN_BLOCK = re.compile(r"The plan to check:\n(?:\[PLAN\]\n)?(.*?)(?:\n\[PLAN END\])?\n\n", re.S)


@dataclass(frozen=True)
class InstanceScript:
    """What the generator proposes each round and what the critic says about each kind of plan."""

    rounds: tuple[str, ...]
    critic: Mapping[str, str]


class StudyScript:
    """Responder for ``FakeOpenAIServer`` over instances of one problem set (nl encoding)."""

    def __init__(self, problem_set: str, scripts: Mapping[str, InstanceScript]) -> None:
        self.domain = get_domain("blocksworld")
        self.scripts = dict(scripts)
        self.plans: dict[str, dict[str, str]] = {}
        self.statements: dict[str, str] = {}
        folder = builtin_dir("problems") / problem_set
        for instance_id in scripts:
            task = self.domain.load_task(folder / f"{instance_id}.pddl")
            optimal = solve(task)
            if optimal is None or len(optimal.steps) < 2:
                raise ValueError(f"{instance_id}: need an instance with an optimal plan of 2+ steps")
            holding = sorted(task.objects)[0]
            bad = Plan((PlanStep("put-down", (holding,)), *optimal.steps))
            self.plans[instance_id] = {
                "valid": self._render(optimal),
                "short": self._render(Plan(optimal.steps[:-1])),
                "bad": self._render(bad),
            }
            init = self.domain.render_state(sorted(task.init), "nl").strip().rstrip(".")
            goal = self.domain.render_goal(task, "nl").strip().rstrip(".")
            self.statements[instance_id] = f"I have that, {init}.\nMy goal is to have that {goal}."

    def _render(self, plan: Plan) -> str:
        return self.domain.render_plan(plan, "nl").strip()

    def instance_of(self, text: str) -> str:
        """The instance whose statement comes last in ``text`` (the query follows any examples)."""
        found = [(text.rfind(statement), instance) for instance, statement in self.statements.items()]
        position, instance = max(found)
        if position < 0:
            raise ValueError("the prompt asks about none of the scripted instances")
        return instance

    def kind_at(self, instance: str, round_number: int, feedback: str) -> str:
        """The plan kind the generator proposes in ``round_number`` after ``feedback``."""
        script = self.scripts[instance].rounds
        kind = script[min(round_number, len(script)) - 1]
        if kind == "short?":
            return "valid" if GOAL_HINT in feedback.lower() else "short"
        return kind

    def reply_text(self, instance: str, kind: str) -> str:
        if kind == "none":
            return NONSENSE
        return self.plans[instance][kind] + "\n[PLAN END]"

    def critic_text(self, instance: str, kind: str) -> str:
        verdict = self.scripts[instance].critic.get(kind, "invalid")
        if verdict == "valid":
            return "Every action can be taken and the goal holds.\nVerdict: valid"
        if verdict == "unreadable":
            return "Hard to say without more information."
        return f"The {GOAL_HINT} at the end.\nVerdict: invalid"

    def kind_of_plan(self, instance: str, plan_text: str) -> str:
        for kind, text in self.plans[instance].items():
            if text == plan_text.strip():
                return kind
        return "none"

    def __call__(self, request: Mapping[str, Any]) -> str:
        messages: Sequence[Mapping[str, str]] = request["messages"]
        if CRITIC_MARK in messages[0]["content"]:
            prompt = "\n".join(m["content"] for m in messages if m["role"] == "user")
            instance = self.instance_of(prompt)
            blocks = PLAN_BLOCK.findall(prompt)
            return self.critic_text(instance, self.kind_of_plan(instance, blocks[-1] if blocks else ""))
        users = [m["content"] for m in messages if m["role"] == "user"]
        instance = self.instance_of(users[0])
        round_number = 1 + sum(1 for m in messages if m["role"] == "assistant")
        feedback = users[-1] if round_number > 1 else ""
        return self.reply_text(instance, self.kind_at(instance, round_number, feedback))

    def expected_rounds(self, instance: str, system: str, feedback: str, max_rounds: int
                        ) -> list[tuple[bool, bool | None]]:
        """(ground truth, verdict) per round that the loop must record, derived from the script."""
        rounds: list[tuple[bool, bool | None]] = []
        last_feedback = ""
        for number in range(1, max_rounds + 1):
            kind = self.kind_at(instance, number, last_feedback)
            truth = kind == "valid"
            if system == "llm-only":
                return [(truth, None)]
            if system == "llm+llm":
                said = self.scripts[instance].critic.get(kind, "invalid")
                verdict: bool | None = {"valid": True, "invalid": False, "unreadable": None}[said]
                last_feedback = self.critic_text(instance, kind) if said == "invalid" and feedback != "binary" else ""
            else:
                verdict = truth
                # a reply without a plan is fed back as the empty plan: its feedback names the unmet goals
                hint = kind in ("short", "none") and feedback in ("first-error", "all-errors")
                last_feedback = GOAL_HINT if hint else ""
            rounds.append((truth, verdict))
            if verdict is True:
                break
        return rounds


def study_scripts(ids: Iterable[str], patterns: Sequence[InstanceScript]) -> dict[str, InstanceScript]:
    """Assign ``patterns`` to instance ids in turn."""
    return {instance: patterns[index % len(patterns)] for index, instance in enumerate(ids)}
