"""CLI commands ``report`` (tables, plots and a report from run directories) and ``demo`` (run a study, then report)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from planner_loop.analysis.report import Report

DEMO_OUT = Path("planner-loop-demo")
# The study each name runs; `demo` is the small offline reproduction for the embedded model.
STUDIES: dict[str, tuple[str, ...]] = {
    "demo": ("demo.yaml",),
    "valmeekam2023": ("valmeekam2023.yaml", "valmeekam2023-feedback.yaml"),
    "bohnet2025": ("bohnet2025.yaml",),
}
# What the terminal shows of each table (the files hold every column).
SUMMARY_COLUMNS: dict[str, tuple[str, ...]] = {
    "accuracy": ("condition", "n", "correct", "accuracy %", "CI low %", "CI high %", "mean rounds",
                 "paper accuracy %", "paper mean rounds"),
    "critic_final": ("condition", "valid plans", "invalid plans", "TP", "FP", "TN", "FN", "unreadable",
                     "FP rate %", "paper FP/invalid"),
    "feedback": ("feedback", "condition", "n", "correct", "accuracy %", "CI low %", "CI high %", "mean rounds",
                 "paper accuracy %", "paper mean rounds"),
    "soundness": ("condition", "n", "accepted", "accepted invalid", "gave up (solvable)", "valid plan lost", "errors"),
}


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``demo`` to the main app."""
    app.command("report")(report_command)
    app.command("demo")(demo_command)


def report_command(
    run_dirs: Annotated[list[Path], typer.Argument(help="one or more run directories")],
    out: Annotated[Path, typer.Option("--out", help="where to write report.md/html, tables/ and plots/")] = Path("report"),
) -> None:
    """Write the study's tables (Markdown, CSV, LaTeX), plots and a report from run directories."""
    from planner_loop.analysis.report import write_report
    from planner_loop.errors import writing_into

    with writing_into(out):
        report = write_report(run_dirs, out)
    _print_locations(report)


def demo_command(
    model: Annotated[Optional[str], typer.Option(
        "--model", help="run the full study against this model spec instead of the offline demo")] = None,
    out: Annotated[Path, typer.Option("--out", help="folder for the runs, the shared cache and the report")] = DEMO_OUT,
    study: Annotated[Optional[str], typer.Option(
        "--study", help="demo (default without --model), valmeekam2023 (default with --model) or bohnet2025")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="first N instances only")] = None,
    concurrency: Annotated[Optional[int], typer.Option("--concurrency", min=1, help="episodes in flight")] = None,
    max_rounds: Annotated[Optional[int], typer.Option(
        "--max-rounds", min=1, help="cap every condition's round limit (a quicker, smaller study)")] = None,
) -> None:
    """Reproduce the self-critique study: run it (offline with the embedded model by default), then report."""
    from planner_loop.errors import ConfigError

    chosen = study or ("valmeekam2023" if model is not None else "demo")
    if chosen not in STUDIES:
        raise ConfigError(f"unknown study {chosen!r}; choose one of {', '.join(STUDIES)}")
    run_dirs = run_study(chosen, out, model=model, limit=limit, concurrency=concurrency, max_rounds=max_rounds)
    from planner_loop.analysis.report import write_report

    report = write_report(run_dirs, out / "report")
    _print_tables(report)
    _print_published(chosen, report)
    _print_locations(report)
    typer.echo("runs:    " + "\n         ".join(str(path.resolve()) for path in run_dirs))


def run_study(name: str, out: Path, *, model: str | None, limit: int | None, concurrency: int | None,
              max_rounds: int | None = None) -> list[Path]:
    """Run (or resume) every config of study ``name`` into ``out/runs/<config name>``; one shared cache."""
    import asyncio

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from planner_loop.experiment import load_experiment
    from planner_loop.resources import builtin_dir
    from planner_loop.runs import RunProgress, run_experiment

    console = Console(stderr=True)
    cache = (out / "cache.sqlite").resolve()
    run_dirs: list[Path] = []
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("valid {task.fields[valid]}  calls {task.fields[calls]}  tokens {task.fields[tokens]}"),
               TimeElapsedColumn())
    for filename in STUDIES[name]:
        config_file = builtin_dir("experiments") / filename
        experiment = load_experiment(config_file).with_overrides(model=model, limit=limit, concurrency=concurrency)
        data = experiment.model_dump(mode="json")
        data["cache"]["path"] = str(cache)   # the study's runs share first rounds and other identical calls
        if max_rounds is not None:
            for condition in data["conditions"]:
                if condition["system"] != "llm-only":
                    condition["max_rounds"] = min(condition["max_rounds"], max_rounds)
        experiment = type(experiment).model_validate(data)
        run_dir = out / "runs" / experiment.name
        with Progress(*columns, console=console, transient=False) as bar:
            task_id = bar.add_task(experiment.name, total=None, valid=0, calls=0, tokens=0)

            def update(state: RunProgress, bar: Progress = bar, task_id: int = task_id) -> None:
                bar.update(task_id, total=state.total, completed=state.done, valid=state.valid,  # type: ignore[arg-type]
                           calls=state.calls, tokens=state.tokens)

            asyncio.run(run_experiment(experiment, run_dir, config_file=config_file, progress=update))
        run_dirs.append(run_dir)
    return run_dirs


def _print_tables(report: Report) -> None:
    from planner_loop.analysis.tables import to_markdown

    for table in report.tables:
        if table.name in SUMMARY_COLUMNS and table.rows:
            typer.echo(f"\n## {table.title}\n")
            typer.echo(to_markdown(table.select(SUMMARY_COLUMNS[table.name])).rstrip("\n"))


def _print_published(study: str, report: Report) -> None:
    """The paper's headline figures, when none of them could stand beside ours (another protocol)."""
    from planner_loop.analysis.reference import published_summary

    beside = any(cell not in (None, "", "—") for table in report.tables for row in table.rows
                 for column, cell in zip(table.columns, row) if column.name.startswith("paper"))
    lines = published_summary(study)
    if lines and not beside:
        typer.echo("\n## Published figures (another protocol than this run's, so not beside its numbers)\n")
        typer.echo("\n".join(lines))


def _print_locations(report: Report) -> None:
    typer.echo("")
    typer.echo(f"report:  {report.markdown}")
    typer.echo(f"         {report.html}  (self-contained page, plots embedded)")
    typer.echo(f"tables:  {report.out_dir / 'tables'}  (.md .csv .tex, .sources.json traces every cell)")
    if report.plots:
        typer.echo("plots:   " + "\n         ".join(str(path) for path in report.plots))
