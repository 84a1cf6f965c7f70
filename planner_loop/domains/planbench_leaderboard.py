"""``planbench leaderboard``: every result file under a PlanBench results folder, re-scored, in one table.

One row per (model, domain, prompt): ``n`` replies (rounds for back-prompting, judgements for task
3), PlanBench's count of correct ones, ours, the Wilson 95% interval of ours, the agreement of the
verdicts and the disagreement causes (``kind`` counts, see :mod:`planner_loop.domains.planbench_rescore`).
Written as Markdown, CSV and LaTeX.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from planner_loop.domains.planbench_formats import load_result_file, planner_domain
from planner_loop.domains.planbench_rescore import RescoreReport, VerdictReader, rescore
from planner_loop.errors import PlannerLoopError

COLUMNS = ("model", "domain", "prompt", "n", "planbench", "ours", "ours_95ci", "agreement", "causes")


def wilson(count: int, n: int) -> tuple[float, float] | None:
    """The Wilson 95% interval of ``count`` successes in ``n``, or None for ``n == 0``."""
    if n == 0:
        return None
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
    return float(low), float(high)


@dataclass(frozen=True)
class Row:
    """One line of the leaderboard."""

    model: str
    domain: str
    prompt: str
    n: int
    planbench: int
    ours: int
    interval: tuple[float, float] | None
    agreement: float
    causes: dict[str, int]
    results_file: str

    def cells(self) -> list[str]:
        ci = "" if self.interval is None else f"[{self.interval[0]:.3f}, {self.interval[1]:.3f}]"
        causes = ", ".join(f"{k} {v}" for k, v in self.causes.items()) or "-"
        return [self.model, self.domain, self.prompt, str(self.n), str(self.planbench), str(self.ours), ci,
                f"{100 * self.agreement:.1f}%", causes]


@dataclass(frozen=True)
class Leaderboard:
    """The rows, and the files that could not be re-scored with the reason."""

    rows: tuple[Row, ...]
    skipped: tuple[tuple[str, str], ...]


def _prompt(report: RescoreReport, path: Path) -> str:
    task = path.stem.removeprefix("task_")
    return f"{task} ({report.prompt_type})" if report.prompt_type else task


def build_leaderboard(folder: Path | str, instances: Path | str, *, read_verdict: VerdictReader,
                      progress: bool = False, registry: object = None) -> Leaderboard:
    """Re-score every ``*.json`` result file under ``folder`` (instances found under ``instances``)."""
    from planner_loop.domains.registry import DomainRegistry

    folder = Path(folder)
    registry = registry if isinstance(registry, DomainRegistry) else DomainRegistry.default()
    files = sorted(p for p in folder.rglob("*.json") if p.is_file())
    rows: list[Row] = []
    skipped: list[tuple[str, str]] = []
    advance: Callable[[], None] = lambda: None  # noqa: E731
    context = None
    if progress:
        from rich.progress import Progress

        context = Progress(transient=True)
        task_id = context.add_task("re-scoring", total=len(files))
        advance = lambda: context.advance(task_id)  # type: ignore[union-attr]  # noqa: E731
        context.start()
    try:
        for path in files:
            try:
                data = load_result_file(path)
                domain = registry.get(planner_domain(data.domain, path))
                report = rescore(path, instances, domain=domain, read_verdict=read_verdict)
            except PlannerLoopError as error:
                skipped.append((str(path), str(error)))
                advance()
                continue
            rows.append(Row(data.engine or path.parent.name, data.domain, _prompt(report, path), report.total,
                            report.recorded_correct, report.ours_correct, wilson(report.ours_correct, report.total),
                            report.agreement, report.by_kind(), str(path)))
            advance()
    finally:
        if context is not None:
            context.stop()
    rows.sort(key=lambda r: (r.model, r.domain, r.prompt))
    return Leaderboard(tuple(rows), tuple(skipped))


def _latex(text: str) -> str:
    for char, escaped in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#")):
        text = text.replace(char, escaped)
    return text


def markdown(table: Leaderboard) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row.cells()) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def latex(table: Leaderboard) -> str:
    lines = [r"\begin{tabular}{lll" + "r" * 5 + "l}", r"\hline", " & ".join(_latex(c) for c in COLUMNS) + r" \\", r"\hline"]
    lines += [" & ".join(_latex(cell) for cell in row.cells()) + r" \\" for row in table.rows]
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_leaderboard(table: Leaderboard, out: Path | str) -> Sequence[Path]:
    """Write ``leaderboard.md``, ``leaderboard.csv`` and ``leaderboard.tex`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    md, tex, comma = out / "leaderboard.md", out / "leaderboard.tex", out / "leaderboard.csv"
    md.write_text(markdown(table), encoding="utf-8")
    tex.write_text(latex(table), encoding="utf-8")
    with comma.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*COLUMNS, "results_file"])
        for row in table.rows:
            writer.writerow([*row.cells(), row.results_file])
    return (md, comma, tex)
