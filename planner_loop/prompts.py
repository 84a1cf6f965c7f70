"""Prompts for the generator and the critic, built from YAML templates and the domain's renderings.

The wording lives in ``planner_loop/prompt_templates/*.yaml`` (``$name`` placeholders); a domain may
override any template by shipping a ``prompts.yaml`` (same layout, keys ``generator``, ``critic``,
``feedback``) beside its ``domain.pddl``. Few-shot examples are chosen by a recorded rule
(``next-by-id``) and solved once per run by the planner (:class:`ExampleBank`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

import yaml

from planner_loop.errors import ConfigError
from planner_loop.llm.protocol import ChatMessage

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain
    from planner_loop.experiment import Instance
    from planner_loop.planning.plan import Plan
    from planner_loop.planning.task import Task

TEMPLATE_DIR = Path(__file__).resolve().parent / "prompt_templates"
TEMPLATE_KINDS = ("generator", "critic", "feedback")
CONTEXT_POLICIES = ("last", "conversation", "history")


def load_templates(domain_file: Path | None = None) -> dict[str, dict[str, Any]]:
    """The built-in templates, overlaid with ``prompts.yaml`` beside ``domain_file`` when present."""
    templates: dict[str, dict[str, Any]] = {}
    for kind in TEMPLATE_KINDS:
        source = TEMPLATE_DIR / f"{kind}.yaml"
        templates[kind] = yaml.safe_load(source.read_text(encoding="utf-8"))
    if domain_file is not None:
        override = Path(domain_file).parent / "prompts.yaml"
        if override.is_file():
            data = yaml.safe_load(override.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict) or set(data) - set(TEMPLATE_KINDS):
                raise ConfigError(f"prompts.yaml may only hold {', '.join(TEMPLATE_KINDS)}", source=override)
            for kind, blocks in data.items():
                templates[kind] = _merge(templates[kind], blocks)
    return templates


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def fill(template: str, **values: str) -> str:
    """Substitute ``$name`` placeholders; a missing value is a bug in the caller, so it raises."""
    return Template(template).substitute(values)


@dataclass(frozen=True)
class SolvedExample:
    """A few-shot example: an instance of the set with an optimal plan from the planner."""

    instance_id: str
    task: Task
    plan: Plan


@dataclass
class ExampleBank:
    """Few-shot examples and optimal plans of one instance set, each solved at most once per run.

    Rule ``next-by-id``: the examples for a query are the ``k`` instances following it in the
    set's id order, wrapping around, never the query itself nor an instance recorded as unsolvable.
    """

    domain: Domain
    pool: Sequence[Instance]
    rule: str = "next-by-id"
    _plans: dict[str, Plan | None] = field(default_factory=dict)
    _tasks: dict[str, Task] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def example_ids(self, instance_id: str, k: int) -> list[str]:
        """The ids of the ``k`` examples for ``instance_id`` under the rule."""
        if self.rule != "next-by-id":
            raise ConfigError(f"unknown example rule {self.rule!r}")
        ids = [inst.id for inst in self.pool if getattr(inst, "solvable", None) is not False or inst.id == instance_id]
        if k == 0:
            return []
        if instance_id not in ids:
            raise ConfigError(f"instance {instance_id!r} is not in the example pool")
        if k > len(ids) - 1:
            raise ConfigError(f"prompt.shots: {k} examples asked but the set has only {len(ids) - 1} others")
        start = ids.index(instance_id)
        return [ids[(start + offset) % len(ids)] for offset in range(1, k + 1)]

    def solved(self) -> dict[str, Plan | None]:
        """The optimal plans solved (or preloaded) so far, by instance id."""
        return dict(self._plans)

    def preload(self, plans: Mapping[str, Plan | None]) -> None:
        """Adopt plans solved earlier (e.g. stored in the run directory)."""
        self._plans.update(plans)

    def task(self, instance_id: str) -> Task:
        """The grounded task of an instance (loaded once)."""
        if instance_id not in self._tasks:
            instance = next(inst for inst in self.pool if inst.id == instance_id)
            self._tasks[instance_id] = self.domain.load_task(instance.problem)
        return self._tasks[instance_id]

    async def optimal_plan(self, instance_id: str) -> Plan | None:
        """An optimal plan of the instance (solved in a worker thread, cached)."""
        from planner_loop.planning.search import solve

        lock = self._locks.setdefault(instance_id, asyncio.Lock())
        async with lock:
            if instance_id not in self._plans:
                task = self.task(instance_id)
                self._plans[instance_id] = await asyncio.to_thread(solve, task, optimal=True)
            return self._plans[instance_id]

    async def examples(self, instance_id: str, k: int) -> list[SolvedExample]:
        """The solved examples for a query (unsolvable examples are an error: the set is broken)."""
        solved = []
        for example_id in self.example_ids(instance_id, k):
            plan = await self.optimal_plan(example_id)
            if plan is None:
                raise ConfigError(f"example instance {example_id} has no plan; choose another set")
            solved.append(SolvedExample(example_id, self.task(example_id), plan))
        return solved


def _problem_pddl(task: Task) -> str:
    if task.problem_file is not None and Path(task.problem_file).is_file():
        return Path(task.problem_file).read_text(encoding="utf-8").strip()
    raise ConfigError(f"task {task.name} has no problem file to show in a PDDL prompt")


def _sentence(text: str) -> str:
    return text.strip().rstrip(".")


@dataclass(frozen=True)
class ProblemText:
    """The pieces of one problem statement in one encoding."""

    init: str
    goal: str
    problem: str


class PromptBuilder:
    """Builds generator chats for one domain and encoding from the templates."""

    def __init__(self, domain: Domain, encoding: str, *, constrained: bool = False,
                 templates: Mapping[str, Any] | None = None, allow_no_plan: bool = False) -> None:
        if encoding not in ("nl", "pddl"):
            raise ConfigError(f"prompt.encoding must be nl or pddl, not {encoding!r}")
        self.domain = domain
        self.encoding = encoding
        self.constrained = constrained
        # offer the "NO PLAN EXISTS" reply form (sets that may hold unsolvable instances)
        self.allow_no_plan = allow_no_plan
        self.templates = dict(templates) if templates is not None else load_templates(domain.domain_file)
        self._gen: Mapping[str, str] = self.templates["generator"][encoding]

    def problem_text(self, task: Task) -> ProblemText:
        """Initial state, goal and (pddl) problem text of a task."""
        style = self.encoding
        init = _sentence(self.domain.render_state(sorted(task.init), style))
        goal = _sentence(self.domain.render_goal(task, style))
        problem = _problem_pddl(task) if style == "pddl" else ""
        return ProblemText(init=init, goal=goal, problem=problem)

    def statement(self, task: Task) -> str:
        """The problem statement up to where the plan starts."""
        text = self.problem_text(task)
        return fill(self._gen["problem"], init=text.init, goal=text.goal, problem=text.problem)

    def render_plan(self, plan: Plan) -> str:
        """A plan in this encoding, one step per line."""
        return self.domain.render_plan(plan, self.encoding).strip()

    def first_prompt(self, task: Task, examples: Sequence[SolvedExample], *,
                     earlier: Sequence[str] = ()) -> list[ChatMessage]:
        """The first generator chat: rules, solved examples, then the query.

        ``earlier`` (the ``history`` policy) goes just before the query's problem statement.
        """
        parts = [fill(self._gen["domain"], domain=self.domain.describe(self.encoding).strip())]
        for example in examples:
            parts.append(self._gen["example_heading"])
            parts.append(self.statement(example.task) + "\n"
                         + fill(self._gen["solved"], plan=self.render_plan(example.plan)))
        parts.append(self._gen["query_heading"] if examples else self._gen["query_heading_zero_shot"])
        if self.constrained:
            parts.append(self._gen["json_format"])
        if self.allow_no_plan:
            parts.append(self._gen["no_plan_option"])
        parts.extend(earlier)
        parts.append(self.statement(task))
        return [ChatMessage("system", self._gen["system"].strip()),
                ChatMessage("user", "\n\n".join(p.strip("\n") for p in parts))]

    def retry_message(self, feedback: str) -> str:
        """The user turn that hands feedback back to the generator."""
        text = fill(self._gen["retry"], feedback=feedback.strip())
        if self.constrained:
            text += "\n" + self._gen["json_format"]
        return text

    def generator_messages(
        self,
        task: Task,
        examples: Sequence[SolvedExample],
        attempts: Sequence[tuple[str, str]],
        context: str,
    ) -> list[ChatMessage]:
        """The chat for the next round given earlier ``(reply, feedback)`` attempts.

        ``"last"``: the first prompt, the last reply and its feedback. ``"conversation"``: one
        growing chat, each earlier reply an assistant turn and each feedback a new user turn (the
        reference loop). ``"history"``: one user prompt that restates every attempt and its feedback.
        """
        if context not in CONTEXT_POLICIES:
            raise ConfigError(f"context must be one of {', '.join(CONTEXT_POLICIES)}, not {context!r}")
        if context == "history":
            return self.first_prompt(task, examples, earlier=self._restated(attempts))
        messages = self.first_prompt(task, examples)
        kept = attempts[-1:] if context == "last" else attempts
        for reply, feedback in kept:
            messages.append(ChatMessage("assistant", reply))
            messages.append(ChatMessage("user", self.retry_message(feedback)))
        return messages

    def _restated(self, attempts: Sequence[tuple[str, str]]) -> list[str]:
        if not attempts:
            return []
        parts = [self._gen["history_heading"]]
        parts += [fill(self._gen["history_attempt"], number=str(number), reply=reply.strip() or "(empty reply)",
                       feedback=feedback.strip())
                  for number, (reply, feedback) in enumerate(attempts, start=1)]
        request = self._gen["history_request"]
        if self.constrained:
            request += "\n" + self._gen["json_format"]
        parts.append(request)
        return parts
