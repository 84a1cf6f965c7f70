"""The tools a ``tool-use`` generator may call, answered by the sound validator.

``simulate(plan)``: the state after each action, or the first action that cannot be taken and why;
``validate(plan)``: whether the plan reaches the goal (with the first error when not).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from planner_loop.planning.plan import Plan
from planner_loop.planning.validator import validate
from planner_loop.verifiers.feedback import FeedbackRenderer

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain
    from planner_loop.planning.task import Task

TOOL_NAMES = ("simulate", "validate")

_DESCRIPTIONS = {
    "simulate": "Run a plan from the initial state: the state after each action, or the first action that "
                "cannot be taken and which of its conditions is false.",
    "validate": "Check a plan: whether it reaches the goal, and the first error when it does not.",
}


def function_specs(names: tuple[str, ...]) -> tuple[Mapping[str, Any], ...]:
    """The OpenAI ``tools`` entries: each tool takes ``plan``, one action per line."""
    return tuple({"type": "function", "function": {
        "name": name, "description": _DESCRIPTIONS[name],
        "parameters": {"type": "object", "properties": {"plan": {
            "type": "string", "description": "the plan, one action per line"}},
            "required": ["plan"], "additionalProperties": False}}} for name in names)


def answer(tool: str, plan: Plan | None, reason: str | None, task: Task, domain: Domain, style: str) -> str:
    """The tool's reply to ``plan`` (``None``: no plan could be read, ``reason`` says why)."""
    renderer = FeedbackRenderer(domain, style)
    if plan is None or not plan.steps:
        return f"No plan could be read from the call ({reason or 'no actions'})."
    report = validate(task, plan, trace=tool == "simulate")
    if tool == "validate":
        return "The plan is valid: it reaches the goal." if report.valid else renderer.render(report, "first-error")
    lines = []
    states = report.states or ()
    for index, step in enumerate(plan.steps[: max(len(states) - 1, 0)], start=1):
        state = domain.render_state(sorted(states[index]), style).strip()
        lines.append(f"After step {index} ({domain.render_action(step, style)}): {state}")
    if not report.valid:
        lines.append(renderer.render(report, "first-error"))
    else:
        lines.append("The goal holds after the last action.")
    return "\n".join(lines)
