"""CLI commands ``run`` (run or resume an experiment) and ``show`` (read a run's episodes)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``show`` to the main app."""
    app.command("run")(run_command)
    app.command("show")(show_command)


def run_command(
    config: Annotated[Path, typer.Argument(help="experiment config (YAML)")],
    out: Annotated[Optional[Path], typer.Option("--out", help="run directory (default runs/<name>)")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="first N instances only")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="point the generator and every critic at this model spec")] = None,
    concurrency: Annotated[Optional[int], typer.Option("--concurrency", min=1, help="episodes in flight")] = None,
) -> None:
    """Run an experiment (re-running on an existing run directory resumes it)."""
    import asyncio

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from planner_loop.experiment import load_experiment
    from planner_loop.runs import RunProgress, run_experiment

    experiment = load_experiment(config).with_overrides(model=model, limit=limit, concurrency=concurrency)
    run_dir = out if out is not None else Path("runs") / experiment.name
    console = Console(stderr=True)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("accepted {task.fields[accepted]}  valid {task.fields[valid]}  "
                          "calls {task.fields[calls]}  tokens {task.fields[tokens]}"), TimeElapsedColumn())
    bar = Progress(*columns, console=console, transient=False)
    task_ids: list[Any] = []

    def update(state: RunProgress) -> None:
        # The bar starts with the first report, after the config, run directory and instances checked out.
        if not task_ids:
            task_ids.append(bar.add_task(experiment.name, total=state.total, accepted=0, valid=0, calls=0,
                                         tokens=0))
            bar.start()
        bar.update(task_ids[0], total=state.total, completed=state.done, accepted=state.accepted,
                   valid=state.valid, calls=state.calls, tokens=state.tokens)

    try:
        result = asyncio.run(run_experiment(experiment, run_dir, config_file=config, progress=update))
    finally:
        bar.stop()
    resumed = f" ({result.skipped} already done)" if result.skipped else ""
    console.print(f"{result.total} episodes in {result.store.path}{resumed}", soft_wrap=True)


def show_command(
    run_dir: Annotated[Path, typer.Argument(help="a run directory")],
    episode: Annotated[Optional[str], typer.Argument(help="episode key (or a unique part of it)")] = None,
) -> None:
    """Summarise a run's episodes, or print one episode's transcript."""
    from rich.console import Console

    from planner_loop.errors import ConfigError
    from planner_loop.runs import RunStore

    store = RunStore(run_dir)
    manifest = store.manifest()
    records = store.episodes()
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 120))   # files and pipes: no squeezed columns
    if episode is None:
        _summary(console, manifest, records)
        return
    matches = [r for r in records if r["key"] == episode] or [r for r in records if episode in r["key"]]
    if not matches:
        raise ConfigError(f"no episode {episode!r} in {run_dir} ({len(records)} episodes)")
    if len(matches) > 1:
        keys = ", ".join(r["key"] for r in matches[:5])
        raise ConfigError(f"{episode!r} matches {len(matches)} episodes ({keys}, ...); give the full key")
    _transcript(console, matches[0])


def _mark(value: Any) -> str:
    return {True: "[green]yes[/]", False: "[red]no[/]", None: "[yellow]?[/]"}.get(value, str(value))


def _summary(console: Any, manifest: dict[str, Any], records: list[dict[str, Any]]) -> None:
    from rich.table import Table

    config = manifest.get("config", {})
    from rich import box

    table = Table(title=f"{manifest.get('name')}  ({len(records)} episodes, config {manifest.get('config_hash')})",
                  box=box.SIMPLE_HEAD)
    table.add_column("episode", no_wrap=True)
    for column in ("system", "rounds", "termination", "accepted", "valid", "critic"):
        table.add_column(column, no_wrap=True, min_width=len(column))
    for record in sorted(records, key=lambda r: r["key"]):
        final = record["final"]
        table.add_row(record["key"], record["system"], str(len(record["rounds"])), record["termination"],
                      _mark(final["accepted"]), _mark(final["valid"]), _mark(final["critic_valid"]))
    console.print(table)
    by_condition: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_condition.setdefault(record["condition"], []).append(record)
    for name in [c["name"] for c in config.get("conditions", [])]:
        group = by_condition.get(name, [])
        if group:
            valid = sum(r["final"]["valid"] for r in group)
            console.print(f"{name}: {valid}/{len(group)} valid final plans, "
                          f"mean rounds {sum(len(r['rounds']) for r in group) / len(group):.2f}")


def _transcript(console: Any, record: dict[str, Any]) -> None:
    from rich.panel import Panel
    from rich.text import Text

    instance = record["instance"]
    verifier = record["verifier"]
    console.print(f"[bold]{record['key']}[/]  system {record['system']}  verifier {verifier['kind']} "
                  f"(feedback {verifier['feedback']}"
                  + (f", critic {verifier['critic_model']} {verifier['critic_mode']}, stepwise "
                     f"{verifier['stepwise']}, votes {verifier['votes']}" if verifier["kind"] == "llm" else "")
                  + f")  generator {record['generator_model']}  context {record['context_policy']}")
    console.print(f"instance {instance['id']} ({instance['set']}, {instance['problem']}), blocks "
                  f"{instance['blocks']}, optimal length {instance['optimal_length']}; seed {record['seed']}")
    for item in record["rounds"]:
        truth = item["ground_truth"]
        verdict = item["verdict"]
        lines = Text()
        if item["round"] == 1 and item["messages"]:
            lines.append("prompt (last message):\n", style="bold")
            lines.append(item["messages"][-1]["content"].strip()[-1500:] + "\n\n")
        elif item["messages"]:
            lines.append("to the generator:\n", style="bold")
            lines.append(item["messages"][-1]["content"].strip() + "\n\n")
        lines.append("reply:\n", style="bold")
        lines.append(item["reply"].strip() + "\n\n")
        if item["plan"] is None:
            lines.append(f"no plan read: {item['parse_error']}\n", style="red")
        else:
            lines.append("plan: ", style="bold")
            lines.append(" ".join(item["plan"]) + "\n")
        lines.append("verdict: ", style="bold")
        lines.append({True: "valid", False: "invalid", None: "none / unreadable"}[verdict["valid"]] + "\n")
        votes = verdict.get("detail", {}).get("votes", [])
        for number, vote in enumerate(votes, start=1):
            label = f"critic reply {number} ({vote['reading']}, {vote['valid']})" if len(votes) > 1 else (
                f"critic reply ({vote['reading']})")
            lines.append(label + ":\n", style="bold")
            lines.append(vote["text"].strip()[-2000:] + "\n")
        if verdict.get("detail", {}).get("error"):
            lines.append(f"verifier error: {verdict['detail']['error']}\n", style="red")
        if verdict["feedback"]:
            lines.append("feedback: ", style="bold")
            lines.append(verdict["feedback"] + "\n")
        lines.append("ground truth: ", style="bold")
        if truth["valid"]:
            lines.append("valid\n", style="green")
        else:
            detail = []
            if truth["failed_step"] is not None:
                detail.append(f"step {truth['failed_step']} {truth['action']} unmet "
                              f"{' '.join(truth['unmet_preconditions']) or '-'}")
            if truth["unmet_goals"]:
                detail.append("unmet goals " + " ".join(truth["unmet_goals"]))
            detail += [f"{e['kind']}: {e['message']}" for e in truth["errors"]]
            lines.append("invalid (" + "; ".join(detail) + ")\n", style="red")
        console.print(Panel(lines, title=f"round {item['round']}", expand=True))
    final = record["final"]
    console.print(f"termination [bold]{record['termination']}[/]"
                  + (f" ({record['error']})" if record["error"] else "")
                  + f"; final plan valid {_mark(final['valid'])}, accepted {_mark(final['accepted'])}, "
                  f"critic {_mark(final['critic_valid'])}")
