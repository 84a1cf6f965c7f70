"""CLI commands: ``planner-loop problems generate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

problems_app = typer.Typer(help="Generate problem sets.", no_args_is_help=True)


@problems_app.command("generate")
def generate(
    count: Annotated[int, typer.Option("--count", help="Number of instances to write.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed; the same arguments give byte-identical files.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for <id>.pddl files and manifest.jsonl.")],
    domain: Annotated[str, typer.Option("--domain", help="Domain whose generator to use.")] = "blocksworld",
    blocks: Annotated[
        str | None,
        typer.Option("--blocks", help="Blocks World size: a number or a range a-b (drawn uniformly per instance)."),
    ] = None,
    size: Annotated[
        list[str] | None,
        typer.Option("--size", help="NAME=RANGE for a generator's size parameter (other domains); repeatable."),
    ] = None,
    goal: Annotated[
        str | None, typer.Option("--goal", help="Goal style, e.g. on-only (default) or full for blocksworld.")
    ] = None,
    allow_duplicates: Annotated[bool, typer.Option("--allow-duplicates", help="Keep repeated instances.")] = False,
    keep_trivial: Annotated[
        bool, typer.Option("--keep-trivial", help="Keep instances whose goal holds initially.")
    ] = False,
    optimal: Annotated[
        bool | None,
        typer.Option(
            "--optimal/--no-optimal",
            help="Record optimal plan lengths (Fast Downward). Default: on, except off when both "
            "--allow-duplicates and --keep-trivial make this a plain uniform sampler.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a set already in --out.")] = False,
) -> None:
    """Generate a problem set: DIR/<id>.pddl and DIR/manifest.jsonl."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from planner_loop.errors import ConfigError
    from planner_loop.generation import GenerationRequest, SizeRange, generate_problem_set, get_generator

    generator = get_generator(domain)
    sizes: dict[str, SizeRange] = {}
    if blocks is not None:
        sizes["blocks"] = SizeRange.parse(blocks, name="blocks")
    for item in size or []:
        name, separator, text = item.partition("=")
        name = name.strip()
        if not separator or not name:
            raise ConfigError(f"--size must look like NAME=RANGE (e.g. packages=2-4), got {item!r}")
        if name in sizes:
            raise ConfigError(f"size {name!r} given twice")
        sizes[name] = SizeRange.parse(text, name=f"size {name}")
    request = GenerationRequest(
        count=count,
        seed=seed,
        sizes=sizes,
        goal_style=goal,
        allow_duplicates=allow_duplicates,
        keep_trivial=keep_trivial,
    )
    solve = optimal if optimal is not None else not (allow_duplicates and keep_trivial)
    console = Console(stderr=True)
    with Progress(
        TextColumn("solving optimally"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not solve,
    ) as progress:
        task_id = progress.add_task("solve", total=count)
        instances = generate_problem_set(
            generator,
            request,
            out,
            optimal=solve,
            overwrite=force,
            on_solved=lambda _instance: progress.advance(task_id),
        )
    solved = "" if solve else " (optimal lengths not computed)"
    console.print(f"wrote {len(instances)} instances and manifest.jsonl to {out}{solved}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(problems_app, name="problems")
