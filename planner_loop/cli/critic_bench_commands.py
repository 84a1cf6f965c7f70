"""CLI command: ``planner-loop critic-bench`` (the critic benchmark, see planner_loop.critic_bench)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def critic_bench(
    set_spec: Annotated[str, typer.Option("--set", help="Instance set: built-in name (blocksworld/planbench-4-5) or folder.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder: plans, verdicts, tables, plots, report.md.")],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N instances by id.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Critic model spec (overrides the config's).")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML file: domain, seed, encoding, model, conditions.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per (condition, error type).")] = False,
) -> None:
    """Benchmark the critic alone on labelled plans: TPR/FPR per error type and failing-step position."""
    from planner_loop.critic_bench import load_bench_config, run_bench

    result = run_bench(set_spec, out, load_bench_config(config), limit=limit, model=model)
    if as_json:
        for cell in result.by_error_type:
            typer.echo(json.dumps(cell.to_json()))
    else:
        typer.echo((out / "tables" / "by_error_type.md").read_text(encoding="utf-8"))
        typer.echo(f"report: {out / 'report.md'}", err=True)


def register(app: typer.Typer) -> None:
    """Add this module's command to the main app."""
    app.command("critic-bench")(critic_bench)
