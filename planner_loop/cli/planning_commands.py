"""CLI commands: ``planner-loop validate`` and ``planner-loop solve``.

Exit codes: 0 every plan valid / plan found; 1 some plan invalid (malformed or unreadable plans
included) / no plan exists; 2 the domain or problem cannot be used (one line naming file and line).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from planner_loop.planning import Task
    from planner_loop.planning.validator import ValidationReport


def _load_task_or_exit(domain: Path, problem: Path) -> Task:
    from planner_loop.errors import PDDLError
    from planner_loop.planning import load_task

    try:
        return load_task(domain, problem)
    except PDDLError as error:
        print(f"planner-loop: error: {error.describe()}", file=sys.stderr)
        raise typer.Exit(2) from None


def _unreadable_record(path: str, message: str, all_errors: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "plan": path, "valid": False, "failed_step": None, "action": None, "unmet_preconditions": [],
        "unmet_goals": [], "errors": [{"step": None, "kind": "syntax", "message": message}], "steps": 0,
        "all_errors": all_errors,
    }
    if all_errors:
        record["failures"] = []
    return record


def _print_human(console: Any, record: dict[str, Any]) -> None:
    from rich.markup import escape

    name = escape(str(record["plan"]))
    if record["valid"]:
        console.print(f"[bold green]VALID[/]   {name} ({record['steps']} steps)")
        return
    console.print(f"[bold red]INVALID[/] {name} ({record['steps']} steps)")
    if record["failed_step"] is not None:
        console.print(f"  first failing step {record['failed_step']}: {escape(str(record['action']))}")
    for error in record["errors"]:
        where = f"step {error['step']}" if error["step"] is not None else "plan"
        console.print(f"  {where}: {error['kind']}: {escape(error['message'])}")
    failures = record.get("failures", [])
    if not failures and record["unmet_preconditions"]:
        failures = [{"step": record["failed_step"], "action": record["action"],
                     "unmet_preconditions": record["unmet_preconditions"]}]
    for failure in failures:
        unmet = " ".join(failure["unmet_preconditions"])
        console.print(f"  step {failure['step']}: {escape(failure['action'])} unmet preconditions: {escape(unmet)}")
    if record["unmet_goals"]:
        console.print(f"  goal not reached, unmet: {escape(' '.join(record['unmet_goals']))}")


_FLUSH_EVERY = 512  # JSON lines written per write call


VALIDATE_FLAGS = frozenset({"--json", "--all-errors"})
MORE_PLANS = "more_plans"


def split_validate_argv(argv: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """``argv`` for click, and the plan paths after the first one, for ``validate`` with many plans.

    click's parser takes its arguments off the front of a list one at a time, which is quadratic in
    their number (~9 µs an argument at 20,000 plan files, more than validating the plan), so plan paths
    past the first go around it, in order, through the context object. Anything else (another
    option, ``--``, help, few plans) leaves ``argv`` whole for click.
    """
    if not argv or argv[0] != "validate":
        return argv, ()
    rest = argv[1:]
    if any(arg.startswith("-") and arg not in VALIDATE_FLAGS for arg in rest):
        return argv, ()
    positional = [arg for arg in rest if not arg.startswith("-")]
    if len(positional) <= 3:
        return argv, ()
    return [argv[0], *(arg for arg in rest if arg in VALIDATE_FLAGS), *positional[:3]], tuple(positional[3:])


def validate_command(
    ctx: typer.Context,
    domain: Annotated[Path, typer.Argument(help="PDDL domain file.")],
    problem: Annotated[Path, typer.Argument(help="PDDL problem file.")],
    # Plain strings: typer's per-path coercion cost ~0.6 ms a plan, 100x the validation itself.
    plans: Annotated[list[str], typer.Argument(help="One or more plan files.", metavar="PLANS...")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per plan, one per line.")] = False,
    all_errors: Annotated[
        bool, typer.Option("--all-errors", help="Keep executing past failures and list every failing step.")
    ] = False,
) -> None:
    """Validate plans with the sound validator (exit 0 all valid, 1 any invalid, 2 unusable domain/problem)."""
    from planner_loop.errors import PlanSyntaxError
    from planner_loop.planning.plan import load_plan, path_text
    from planner_loop.planning.validator import validate

    task = _load_task_or_exit(domain, problem)
    if isinstance(ctx.obj, dict):
        plans = [*plans, *ctx.obj.get(MORE_PLANS, ())]
    all_valid = True
    console = None
    if not as_json:
        from rich.console import Console

        console = Console(highlight=False, soft_wrap=True)
    # Reports repeat across plan files (same verdict, same steps): the JSON after the leading "plan"
    # key is encoded once per distinct report.
    encoded: dict[ValidationReport, str] = {}
    pending: list[str] = []
    lines: dict[str, tuple[str, tuple[str, ...]]] = {}
    for raw in plans:
        path = path_text(raw)
        try:
            plan = load_plan(path, line_cache=lines)
        except PlanSyntaxError as error:
            record = _unreadable_record(path, error.describe(), all_errors)
            all_valid = False
            line = json.dumps(record)
        else:
            report = validate(task, plan, all_errors=all_errors)
            all_valid &= report.valid
            if console is not None:
                _print_human(console, report.to_json(path))
                continue
            rest = encoded.get(report)
            if rest is None:
                rest = encoded[report] = json.dumps(report.to_json(None))[len('{"plan": null'):]
            line = '{"plan": ' + json.dumps(path) + rest
        if console is not None:
            _print_human(console, record)
            continue
        pending.append(line)
        if len(pending) >= _FLUSH_EVERY:
            sys.stdout.write("\n".join(pending) + "\n")
            pending.clear()
    if pending:
        sys.stdout.write("\n".join(pending) + "\n")
    sys.stdout.flush()
    raise typer.Exit(0 if all_valid else 1)


def solve_command(
    domain: Annotated[Path, typer.Argument(help="PDDL domain file.")],
    problem: Annotated[Path, typer.Argument(help="PDDL problem file.")],
    optimal: Annotated[bool, typer.Option("--optimal", help="Find a shortest plan (A* with LM-cut).")] = False,
    planner: Annotated[
        str, typer.Option("--planner", help="auto, fast-downward, astar or bfs (own searches are optimal).")
    ] = "auto",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds before Fast Downward is stopped.")] = 300.0,
) -> None:
    """Print a plan in PDDL plan format (exit 1 when no plan exists, 2 on unusable input)."""
    from planner_loop.planning.search import solve

    task = _load_task_or_exit(domain, problem)
    plan = solve(task, optimal=optimal, planner=planner, timeout_s=timeout)
    if plan is None:
        print(f"planner-loop: {task.name} has no plan", file=sys.stderr)
        raise typer.Exit(1)
    sys.stdout.write(plan.to_pddl())
    print(f"; cost = {len(plan.steps)} (unit cost{', optimal' if optimal else ''})")


def register(app: typer.Typer) -> None:
    """Add ``validate`` and ``solve`` to the main app."""
    app.command("validate")(validate_command)
    app.command("solve")(solve_command)
