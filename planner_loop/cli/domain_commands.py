"""CLI commands: ``domains list`` and ``planbench rescore``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``domains`` and ``planbench`` command groups to the main app."""
    domains_app = typer.Typer(help="Planning domains (built-in, plugins).", no_args_is_help=True)
    planbench_app = typer.Typer(help="PlanBench compatibility.", no_args_is_help=True)

    @domains_app.command("list")
    def list_domains(
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """List the registered domains with their PDDL file and generator."""
        from planner_loop.domains import DomainRegistry

        registry = DomainRegistry.default()
        rows = []
        for domain in registry:
            spec = getattr(domain, "spec", None)
            rows.append(
                {
                    "name": domain.name,
                    "domain_file": str(domain.domain_file),
                    "generator": getattr(spec, "generator", None),
                    "renamed_from": spec.renamed_from.domain if spec is not None and spec.renamed_from else None,
                }
            )
        if as_json:
            typer.echo(json.dumps({"domains": rows}, indent=2))
            return
        for row in rows:
            extra = f"  generator: {row['generator']}" if row["generator"] else ""
            if row["renamed_from"]:
                extra += f"  (renamed {row['renamed_from']})"
            typer.echo(f"{row['name']:<28} {row['domain_file']}{extra}")

    @planbench_app.command("rescore")
    def rescore(
        results: Annotated[Path, typer.Argument(help="A PlanBench result file (task 1, back-prompting or task 3).")],
        instances: Annotated[Path, typer.Option("--instances", help="Folder of PlanBench instance-N.pddl files, "
                                                "or a PlanBench tree holding it.")],
        domain: Annotated[
            str | None,
            typer.Option("--domain", help="Registered domain name (default: from the file's 'domain') or a PDDL domain file."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        whole_reply: Annotated[
            bool,
            typer.Option("--whole-reply", help="Read every line of each reply, as PlanBench's scorer does, "
                         "instead of the one plan block (plan-generation and back-prompting files)."),
        ] = False,
    ) -> None:
        """Re-score PlanBench replies with our readers and the sound validator; explain disagreements."""
        from planner_loop.domains.planbench import read_results, rescore_summary, resolve_domain
        from planner_loop.domains.planbench import rescore as run_rescore
        from planner_loop.verifiers.verdict_reader import read_verdict

        header = read_results(results)
        if whole_reply and header["kind"] == "plan-verification":
            raise typer.BadParameter("--whole-reply reads plans; a task-3 file holds verdicts", param_hint="--whole-reply")
        chosen, domain_file = resolve_domain(header.get("domain"), domain, results_path=results)
        report = run_rescore(results, instances, domain=chosen, domain_file=domain_file, whole_reply=whole_reply,
                             read_verdict=read_verdict)
        if as_json:
            typer.echo(json.dumps(report.to_json(), indent=2))
        else:
            for line in rescore_summary(report):
                typer.echo(line)

    @planbench_app.command("leaderboard")
    def leaderboard(
        folder: Annotated[Path, typer.Argument(help="A PlanBench results folder (searched recursively for *.json).")],
        instances: Annotated[Path, typer.Option("--instances", help="PlanBench tree holding the instance folders.")],
        out: Annotated[Path, typer.Option("--out", help="Output folder for leaderboard.md, .csv and .tex.")],
        progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    ) -> None:
        """Re-score every result file under FOLDER and write one model x domain x prompt table."""
        from planner_loop.domains.planbench_leaderboard import build_leaderboard, write_leaderboard
        from planner_loop.verifiers.verdict_reader import read_verdict

        table = build_leaderboard(folder, instances, read_verdict=read_verdict, progress=progress)
        for path in write_leaderboard(table, out):
            typer.echo(str(path))
        for skipped, why in table.skipped:
            typer.echo(f"skipped: {why}" if skipped in why else f"skipped {skipped}: {why}", err=True)

    app.add_typer(domains_app, name="domains")
    app.add_typer(planbench_app, name="planbench")
