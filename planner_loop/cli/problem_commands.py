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
    weights: Annotated[
        str | None,
        typer.Option("--weights", help="Split the instances between sizes by weight, e.g. 4=446,5=55 "
                     "(PlanBench's 4:5-block proportion); exact quotas of --count."),
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
    min_length: Annotated[
        int | None,
        typer.Option("--min-length", help="Hard set: keep only instances whose optimal plan has at least N steps "
                     "(candidates are drawn until --count are kept)."),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Hard set: seconds Fast Downward may spend on one candidate.")
    ] = 30.0,
) -> None:
    """Generate a problem set: DIR/<id>.pddl and DIR/manifest.jsonl."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from planner_loop.errors import ConfigError
    from planner_loop.generation import GenerationRequest, SizeRange, generate_problem_set, get_generator
    from planner_loop.generation.instances import parse_size_weights

    try:
        generator = get_generator(domain)
    except ConfigError as error:
        raise ConfigError(f"--domain: {error.message}") from None
    sizes: dict[str, SizeRange] = {}
    if blocks is not None:
        sizes["blocks"] = SizeRange.parse(blocks, name="blocks")
    for item in size or []:
        name, separator, text = item.partition("=")
        name = name.strip()
        if not separator or not name:
            raise ConfigError(f"--size must look like NAME=RANGE (e.g. packages=2-4), got {item!r}")
        if name in sizes:
            raise ConfigError(f"--size {name!r} given twice")
        sizes[name] = SizeRange.parse(text, name=f"size {name}")
    request = GenerationRequest(
        count=count,
        seed=seed,
        sizes=sizes,
        goal_style=goal,
        allow_duplicates=allow_duplicates,
        keep_trivial=keep_trivial,
        size_weights={generator.size_names[0]: parse_size_weights(weights)} if weights else {},
    )
    solve = optimal if optimal is not None else not (allow_duplicates and keep_trivial)
    console = Console(stderr=True)
    if min_length is not None:
        from planner_loop.generation.hard_set import select_hard, write_hard_set

        with console.status("solving candidates optimally"):
            selection = select_hard(generator, request, min_length=min_length, time_limit_s=time_limit)
        write_hard_set(out, selection, generator, request, overwrite=force)
        console.print(f"wrote {len(selection.instances)} instances (of {selection.candidates} candidates, "
                      f"{selection.solve_seconds:.0f} s) and manifest.jsonl to {out}")
        return
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


@problems_app.command("mystery")
def mystery(
    seed: Annotated[int, typer.Option("--seed", help="Run seed the renaming is drawn for (recorded).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the renamed domain, problems and manifest.")],
    set_name: Annotated[str, typer.Option("--set", help="Problem set to rename (built-in name or folder).")
                        ] = "blocksworld/planbench-4-5",
    domain: Annotated[str, typer.Option("--domain", help="Source domain.")] = "blocksworld",
) -> None:
    """Randomized Mystery: a problem set under a fresh random renaming drawn for --seed.

    DIR then serves as the experiment's `domain:` and `instances: {set: DIR}`; DIR/renaming.json records the names.
    """
    from planner_loop.domains import get_domain
    from planner_loop.domains.obfuscation import write_randomized_mystery
    from planner_loop.domains.templates import TemplateDomain
    from planner_loop.errors import ConfigError
    from planner_loop.experiment import resolve_instance_dir

    source = get_domain(domain)
    if not isinstance(source, TemplateDomain):
        raise ConfigError(f"--domain {domain}: only data-defined domains (domain.yaml) can be renamed")
    folder, _ = resolve_instance_dir(set_name)
    renaming = write_randomized_mystery(source, folder, seed, out)
    names = ", ".join(f"{a}→{b}" for a, b in sorted(renaming.actions.items()))
    typer.echo(f"wrote {out} (seed {seed}: {names})", err=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(problems_app, name="problems")
