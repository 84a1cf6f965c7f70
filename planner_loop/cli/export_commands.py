"""CLI command ``export``: a run as inspect_ai eval logs, or one row per round as CSV or Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``export`` to the main app."""
    app.command("export")(export_command)


def export_command(
    run_dir: Annotated[Path, typer.Argument(help="a run directory")],
    format: Annotated[str, typer.Option("--format", help="inspect (eval logs for `inspect view`), csv or parquet")],  # noqa: A002
    out: Annotated[Path, typer.Option("--out", help="folder to write into")] = Path("export"),
) -> None:
    """Export a run for other tools: inspect_ai eval logs, or one row per round as CSV / Parquet."""
    from planner_loop.export import export_run

    for path in export_run(run_dir, format, out):
        typer.echo(str(path))
