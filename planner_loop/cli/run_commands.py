"""CLI command ``run`` (run or resume an experiment); ``show`` lives in ``show_commands``."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from planner_loop.experiment import ExperimentConfig
    from planner_loop.llm import PriceTable
    from planner_loop.llm.wrappers import Limits
    from planner_loop.orchestration import RunResult

EXIT_INTERRUPTED = 130
EXIT_LIMIT = 3


def register(app: typer.Typer) -> None:
    """Add ``run`` to the main app."""
    app.command("run")(run_command)


def run_command(
    config: Annotated[Path, typer.Argument(help="experiment config (YAML)")],
    out: Annotated[Optional[Path], typer.Option("--out", help="run directory (default runs/<name>)")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="first N instances only")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="point the generator and every critic at this model spec")] = None,
    critic_model: Annotated[Optional[str], typer.Option("--critic-model", help="point every critic at this model spec (after --model)")] = None,
    concurrency: Annotated[Optional[int], typer.Option("--concurrency", min=1, help="episodes in flight")] = None,
    prices: Annotated[Optional[Path], typer.Option("--prices", help="price file laid over the shipped price table")] = None,
    max_cost: Annotated[Optional[float], typer.Option("--max-cost", min=0.0, help="stop (resumably) once the run has spent this many USD")] = None,
    max_calls: Annotated[Optional[int], typer.Option("--max-calls", min=0, help="stop (resumably) after this many paid model calls")] = None,
    batch: Annotated[bool, typer.Option("--batch", help="send the calls through the OpenAI Batch API (half price, "
                                        "results within 24 h); the run goes round by round and resumes its batches")] = False,
    batch_poll: Annotated[Optional[float], typer.Option("--batch-poll", min=0.01, metavar="S", help="with --batch: seconds between polls of a running batch (default: the config's batch.poll_s, 30)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the calls, tokens and dollars the run needs; call no model, write nothing")] = False,
    progress_every: Annotated[float, typer.Option("--progress-every", min=0.1, help="seconds between progress lines when stderr is not a terminal")] = 30.0,
) -> None:
    """Run an experiment (re-running on an existing run directory resumes it).

    Ctrl-C (or SIGTERM) stops after the calls in flight are cached and prints how to resume (exit 130).

    A second Ctrl-C stops at once; in batch mode the batches keep running and a resume polls them.

    --max-cost counts this run's dollars (earlier sessions too) by the price table; calls in flight may overshoot it.

    --max-cost needs a price for every model: from the shipped table, or give one with --prices FILE.

    A --max-cost or --max-calls stop exits 3; re-run (with a higher limit) to resume.
    """
    import asyncio

    from rich.console import Console

    from planner_loop.experiment import load_experiment
    from planner_loop.llm.wrappers import Limits
    from planner_loop.orchestration import resolve_prices

    experiment = load_experiment(config).with_overrides(model=model, limit=limit, concurrency=concurrency)
    if critic_model is not None:
        experiment = _with_critic_model(experiment, critic_model)
    if batch or batch_poll is not None:
        experiment = _with_batch(experiment, enabled=batch or None, poll_s=batch_poll)
    run_dir = out if out is not None else Path("runs") / experiment.name
    table = resolve_prices(experiment, config_file=config, override=prices)
    console = Console(stderr=True)
    if dry_run:
        from planner_loop.run_estimate import describe, estimate_run

        estimate = asyncio.run(estimate_run(experiment, config_file=config, prices=table, run_dir=run_dir))
        for line in describe(estimate):
            typer.echo(line)
        return
    limits = Limits(max_calls=max_calls, max_cost_usd=max_cost)
    resume = _resume_command(config, run_dir, limit=limit, model=model, critic_model=critic_model,
                             concurrency=concurrency, prices=prices, max_cost=max_cost, max_calls=max_calls,
                             batch=batch, batch_poll=batch_poll)
    result = _run_with_signals(experiment, run_dir, config, limits, table, console, progress_every, resume)
    _finish(console, result, resume, limits)


def _with_critic_model(experiment: ExperimentConfig, spec: str) -> ExperimentConfig:
    data = experiment.model_dump(mode="json")
    for condition in data["conditions"]:
        if condition.get("system") == "llm+llm":
            condition["critic_model"] = spec
    return type(experiment).model_validate(data)


def _with_batch(experiment: ExperimentConfig, *, enabled: bool | None, poll_s: float | None) -> ExperimentConfig:
    data = experiment.model_dump(mode="json")
    if enabled is not None:
        data["batch"]["enabled"] = enabled
    if poll_s is not None:
        data["batch"]["poll_s"] = poll_s
    return type(experiment).model_validate(data)


def _resume_command(config: Path, run_dir: Path, **options: object) -> str:
    words = ["planner-loop", "run", str(config), "--out", str(run_dir)]
    for name, value in options.items():
        flag = f"--{name.replace('_', '-')}"
        if value is True:
            words.append(flag)
        elif value is not None and value is not False:
            words += [flag, str(value)]
    return shlex.join(words)


def _run_with_signals(experiment: ExperimentConfig, run_dir: Path, config: Path, limits: Limits, prices: PriceTable,
                      console: Console, progress_every: float, resume: str) -> RunResult:
    """Run the experiment; the first SIGINT/SIGTERM asks it to stop cleanly, the second cancels it."""
    import asyncio
    import signal

    from planner_loop.cli.run_display import RunDisplay
    from planner_loop.orchestration import run_experiment
    from planner_loop.run_store import RunStorageError, RunStore

    display = RunDisplay(console, experiment.name, every_s=progress_every)

    async def main() -> RunResult:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        current = asyncio.current_task()
        seen: list[int] = []

        def on_signal(number: int) -> None:
            seen.append(number)
            if len(seen) == 1:
                stop.set()
            elif current is not None:
                current.cancel()

        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, on_signal, number)
        try:
            return await run_experiment(experiment, run_dir, config_file=config, progress=display.update,
                                        limits=limits, prices=prices, stop=stop,
                                        progress_every_s=min(progress_every, 2.0))
        finally:
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(number)

    def saved() -> int:
        return len(RunStore(run_dir).episodes()) if run_dir.is_dir() else 0

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        display.stop()
        total = display.last.total if display.last is not None else "?"
        console.print(f"planner-loop: interrupted: {saved()} of {total} episodes saved in {run_dir}; "
                      f"resume with: {resume}", soft_wrap=True, highlight=False, markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except RunStorageError as error:
        if not (run_dir / "manifest.json").exists():
            raise
        raise RunStorageError(f"{error}; {saved()} finished episodes are kept in {run_dir}; "
                              f"make room and resume with: {resume}") from None
    finally:
        display.stop()


def _finish(console: Console, result: RunResult, resume: str, limits: Limits) -> None:
    from planner_loop.cli.run_display import cost_text

    print_line = console.print
    spend = result.spend
    spent = f"{spend.calls} paid calls, {cost_text(spend.cost_usd, result.unpriced)}"
    if result.stopped == "interrupted":
        print_line(f"planner-loop: interrupted: {result.saved} of {result.total} episodes saved in "
                   f"{result.store.path}; resume with: {resume}", soft_wrap=True, highlight=False, markup=False)
        raise typer.Exit(EXIT_INTERRUPTED)
    if result.stopped is not None:
        which = {"max-cost": f"--max-cost {limits.max_cost_usd}",
                 "max-calls": f"--max-calls {limits.max_calls}"}.get(result.stopped, result.stopped)
        print_line(f"planner-loop: stopped at {which}: spent {spent}; {result.saved} of {result.total} episodes "
                   f"saved in {result.store.path}; raise the limit and resume with: {resume}",
                   soft_wrap=True, highlight=False, markup=False)
        raise typer.Exit(EXIT_LIMIT)
    resumed = f" ({result.skipped} already done)" if result.skipped else ""
    repaired = f"; repaired a torn last line of {', '.join(result.repaired)}" if result.repaired else ""
    print_line(f"{result.total} episodes in {result.store.path}{resumed}; spent {spent}{repaired}",
               soft_wrap=True, highlight=False, markup=False)
    print_line(f"next: {shlex.join(['planner-loop', 'report', str(result.store.path), '--out', str(result.store.path / 'report')])}",
               soft_wrap=True, highlight=False, markup=False)
