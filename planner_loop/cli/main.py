"""The ``planner-loop`` command: a thin typer front over the library.

Each command group lives in its own module with a ``register(app)`` function; heavy imports happen
inside the commands so ``planner-loop --help`` stays fast.
"""

from __future__ import annotations

import sys

import typer

from planner_loop.cli import (
    analysis_commands,
    domain_commands,
    model_commands,
    planning_commands,
    problem_commands,
    run_commands,
    show_commands,
    view_commands,
    export_commands,
)
from planner_loop.errors import PlannerLoopError, UserInputError

app = typer.Typer(
    name="planner-loop",
    help="Can a language model check its own plans? Generator-verifier experiments on PDDL planning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (
    planning_commands,
    problem_commands,
    model_commands,
    run_commands,
    show_commands,
    view_commands,
    export_commands,
    analysis_commands,
    domain_commands,
):
    _module.register(app)
__import__("planner_loop.cli.critic_bench_commands", fromlist=["register"]).register(app)


def run() -> None:
    """Console-script entry point: user errors become one line on stderr and exit code 2."""
    arguments, more_plans = planning_commands.split_validate_argv(sys.argv[1:])
    try:
        app(args=arguments, standalone_mode=True, obj={planning_commands.MORE_PLANS: more_plans})
    except PlannerLoopError as error:
        message = error.describe() if isinstance(error, UserInputError) else str(error)
        print(f"planner-loop: error: {message}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("planner-loop: interrupted", file=sys.stderr)
        sys.exit(130)
