"""Replay each recorded plan through the sound validator to get the state after every step.

The record holds the validator's judgement but not the states; the viewer recomputes them at build
time with ``validate(task, plan, trace=True)`` on the episode's problem file. States are shipped as
the initial state plus per-step (added, deleted) atoms, which keeps chunk files small.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner_loop.domains import get_domain
from planner_loop.domains.protocol import Domain
from planner_loop.errors import PlannerLoopError
from planner_loop.planning.plan import parse_plan
from planner_loop.planning.task import Task, atom_to_pddl
from planner_loop.planning.validator import validate
from planner_loop.resources import builtin_dir

_NUMBERING = re.compile(r"^\s*(?:[-*•]|\d+[.):]|step\s*\d+[.):]?)\s*", re.I)


@dataclass
class TaskResolver:
    """Finds and parses (once) the task of each episode of one run; ``None`` when it cannot."""

    run_dir: Path
    domain_name: str
    _domain: Domain | None = None
    _domain_failed: bool = False
    _tasks: dict[str, Task | None] = field(default_factory=dict)

    @classmethod
    def for_run(cls, run_dir: Path, manifest: Mapping[str, Any]) -> TaskResolver:
        config = manifest.get("config") or {}
        return cls(run_dir=run_dir, domain_name=str(config.get("domain") or "blocksworld"))

    def domain(self) -> Domain | None:
        if self._domain is None and not self._domain_failed:
            try:
                self._domain = get_domain(self.domain_name)
            except PlannerLoopError:
                self._domain_failed = True
        return self._domain

    def task(self, instance: Mapping[str, Any]) -> Task | None:
        label = str(instance.get("problem") or "")
        if label in self._tasks:
            return self._tasks[label]
        domain = self.domain()
        path = self._problem_path(label, str(instance.get("set") or ""))
        task: Task | None = None
        if domain is not None and path is not None:
            try:
                task = domain.load_task(path)
            except PlannerLoopError:
                task = None
        self._tasks[label] = task
        return task

    def _problem_path(self, label: str, instance_set: str) -> Path | None:
        if not label:
            return None
        candidates = []
        if label.startswith("problems/"):
            candidates.append(builtin_dir("problems") / label.removeprefix("problems/"))
        candidates += [Path(label), self.run_dir / label]
        if instance_set:
            candidates += [builtin_dir("problems") / instance_set / Path(label).name, Path(instance_set) / Path(label).name]
        return next((c for c in candidates if c.is_file()), None)


def initial_state(task: Task) -> list[str]:
    return sorted(atom_to_pddl(atom) for atom in task.init)


def goal_literals(task: Task) -> list[str]:
    return [literal.to_pddl() for literal in task.goal]


def plan_trace(task: Task, steps: Sequence[str]) -> dict[str, Any]:
    """Per executed step the atoms it added and deleted, and the validator's failing step."""
    plan = parse_plan("\n".join(steps))
    report = validate(task, plan, trace=True)
    states = report.states or ()
    deltas = []
    for before, after in zip(states, states[1:]):
        deltas.append([sorted(atom_to_pddl(a) for a in after - before), sorted(atom_to_pddl(a) for a in before - after)])
    return {"deltas": deltas, "failed_step": report.failed_step, "valid": report.valid,
            "unmet": list(report.unmet_preconditions), "unmet_goals": list(report.unmet_goals)}


def highlight_spans(reply: str, extraction: Mapping[str, Any] | None, steps: Sequence[str] | None,
                    domain: Domain | None) -> list[list[int]]:
    """Character spans of ``reply`` holding the extracted plan: the extraction's block when recorded,
    else the lines that name a plan step (PDDL or the domain's wording)."""
    block = (extraction or {}).get("block")
    if isinstance(block, str) and block.strip():
        start = reply.find(block.strip())
        if start >= 0:
            return [[start, start + len(block.strip())]]
    if not steps:
        return []
    wanted: set[str] = set()
    plan = parse_plan("\n".join(steps))
    for step in plan.steps:
        wanted.add(" ".join(step.to_pddl().lower().split()))
        if domain is not None:
            try:
                wanted.add(" ".join(domain.render_action(step, "nl").lower().split()))
            except PlannerLoopError:
                pass
    spans: list[list[int]] = []
    offset = 0
    for line in reply.splitlines(keepends=True):
        text = " ".join(_NUMBERING.sub("", line).lower().strip().rstrip(".;,").split())
        if text and any(text == w or (len(w) > 6 and w in text) for w in wanted):
            end = offset + len(line.rstrip("\r\n"))
            if spans and spans[-1][1] >= offset - 1:
                spans[-1][1] = end
            else:
                spans.append([offset, end])
        offset += len(line)
    return spans
