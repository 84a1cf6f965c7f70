"""Figures drawn from the finished tables (so a plot shows exactly the numbers of its table).

Each figure is written three times: ``.png`` at 300 dpi, and ``.svg`` and ``.pdf`` (vector, for a
paper). Rendering uses matplotlib's Agg canvas on a fresh ``Figure`` (no pyplot state), the default
style (ignoring any user matplotlibrc), no date or software stamp in any file's metadata and a fixed
SVG id salt, so the same table gives the same bytes every time on the same installation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.style import context as style_context  # noqa: E402

from planner_loop.analysis.tables import Table  # noqa: E402

DPI = 300
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
METADATA: dict[str, dict[str, str | None]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}
STABLE_RC: dict[str, object] = {"svg.hashsalt": "planner-loop", "svg.fonttype": "path", "pdf.compression": 6}


def companions(png: Path) -> tuple[Path, ...]:
    """The vector versions written beside a plot's PNG."""
    return tuple(png.with_suffix(f".{fmt}") for fmt in FORMATS if fmt != "png")


def _save(figure: Figure, path: Path) -> Path:
    """Write ``path`` (PNG) and its SVG and PDF companions; returns the PNG path."""
    FigureCanvasAgg(figure)
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(STABLE_RC):
        for fmt in FORMATS:
            target = path.with_suffix(f".{fmt}")
            figure.savefig(target, format=fmt, dpi=DPI, metadata=METADATA[fmt])
    return path


def _error(value: float | None, low: float | None, high: float | None) -> tuple[float, float]:
    if value is None or low is None or high is None:
        return 0.0, 0.0
    return max(value - low, 0.0), max(high - value, 0.0)


def plot_accuracy(table: Table, path: Path) -> Path | None:
    """Bar per condition with its Wilson interval, and the published figure as a marker."""
    if not table.rows:
        return None
    names = [str(table.cell(i, "condition")) for i in range(len(table.rows))]
    values = [float(table.cell(i, "accuracy %")) for i in range(len(table.rows))]
    errors = [_error(values[i], table.cell(i, "CI low %"), table.cell(i, "CI high %")) for i in range(len(names))]
    papers = [table.cell(i, "paper accuracy %") for i in range(len(names))]
    with style_context("default"):
        figure = Figure(figsize=(max(5.0, 1.1 * len(names) + 2.0), 4.2), layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(len(names)))
        axes.bar(positions, values, color="#4c72b0", width=0.6, label="this run (95% Wilson CI)",
                 yerr=[[e[0] for e in errors], [e[1] for e in errors]], capsize=4, ecolor="#222222")
        marked = [(p, v) for p, v in zip(positions, papers, strict=True) if v is not None]
        if marked:
            axes.scatter([p for p, _ in marked], [float(v) for _, v in marked], marker="D", color="#dd8452",
                         zorder=3, label="published")
        for position, value in zip(positions, values, strict=True):
            axes.annotate(f"{value:.0f}%", (position, value), textcoords="offset points", xytext=(0, 3),
                          ha="center", fontsize=8)
        axes.set_xticks(positions, names, rotation=20, ha="right", fontsize=8)
        axes.set_ylim(0, 105)
        axes.set_ylabel("final plan valid (%)")
        axes.set_title("Accuracy by condition")
        axes.legend(loc="upper left", fontsize=8, frameon=False)
        axes.grid(axis="y", alpha=0.3)
        return _save(figure, path)


def _series(table: Table, x_column: str, y_column: str) -> dict[str, list[tuple[int, float | None, float | None, float | None]]]:
    series: dict[str, list[tuple[int, float | None, float | None, float | None]]] = {}
    for index in range(len(table.rows)):
        condition = str(table.cell(index, "condition"))
        low_column = "FP rate CI low %" if y_column == "FP rate %" else "CI low %"
        high_column = "FP rate CI high %" if y_column == "FP rate %" else "CI high %"
        series.setdefault(condition, []).append((
            int(table.cell(index, x_column)), table.cell(index, y_column),
            table.cell(index, low_column), table.cell(index, high_column),
        ))
    return series


def _line_plot(table: Table, x_column: str, y_column: str, path: Path, *, title: str, xlabel: str,
               ylabel: str, published: Sequence[tuple[str, float]] = ()) -> Path | None:
    series = _series(table, x_column, y_column)
    points = {name: [p for p in values if p[1] is not None] for name, values in series.items()}
    points = {name: values for name, values in points.items() if values}
    if not points:
        return None
    with style_context("default"):
        figure = Figure(figsize=(6.4, 4.2), layout="constrained")
        axes = figure.add_subplot()
        count = len(points)
        for offset_index, (name, values) in enumerate(points.items()):
            # small horizontal offsets keep overlapping interval bars apart
            shift = (offset_index - (count - 1) / 2) * 0.08
            xs = [p[0] + shift for p in values]
            ys = [float(p[1]) for p in values if p[1] is not None]
            errs = [_error(p[1], p[2], p[3]) for p in values]
            axes.errorbar(xs, ys, yerr=[[e[0] for e in errs], [e[1] for e in errs]], marker="o", capsize=3,
                          linewidth=1.2, markersize=4, label=name)
        for label, value in published:
            axes.axhline(value, color="#dd8452", linestyle="--", linewidth=1.2, label=label)
        xticks: Sequence[int] = sorted({p[0] for values in points.values() for p in values})
        axes.set_xticks(list(xticks))
        axes.set_ylim(-3, 105)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.set_title(title)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8, frameon=False)
        return _save(figure, path)


def published_fp_rates(critic_final: Table | None) -> list[tuple[str, float]]:
    """The published final-plan FP rate of each condition whose protocol matches one (``paper FP rate %``)."""
    if critic_final is None or "paper FP rate %" not in critic_final.column_names:
        return []
    lines: dict[float, list[str]] = {}
    for index in range(len(critic_final.rows)):
        value = critic_final.cell(index, "paper FP rate %")
        if value is not None:
            lines.setdefault(float(value), []).append(str(critic_final.cell(index, "condition")))
    return [(f"published, final plans ({', '.join(names)}): {value:.1f}%", value) for value, names in lines.items()]


def plot_critic_fp_by_round(table: Table, path: Path, critic_final: Table | None = None) -> Path | None:
    """LLM critic false-positive rate against round number, one line per condition, with the published
    final-plan FP rate (Valmeekam et al. 2023, Table 2) as a dashed line where the protocol matches."""
    return _line_plot(table, "round", "FP rate %", path, title="LLM critic false-positive rate by round",
                      xlabel="round", ylabel="invalid plans judged valid (%)",
                      published=published_fp_rates(critic_final))


def plot_accuracy_by_length(table: Table, path: Path) -> Path | None:
    """Accuracy against optimal plan length, one line per condition."""
    return _line_plot(table, "optimal length", "accuracy %", path, title="Accuracy by optimal plan length",
                      xlabel="optimal plan length (steps)", ylabel="final plan valid (%)")
