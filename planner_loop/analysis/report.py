"""Write the report of one or more runs: Markdown and HTML pages, tables in three formats, PNG plots.

Layout of ``OUT``::

    report.md              tables inline, plots linked (plots/*.png)
    report.html            self-contained page, plots embedded as base64 PNG
    tables/<name>.md|csv|tex     (.tex: page-wide table*; .narrow.tex: fits one paper column)
    tables/<name>.sources.json   per cell: the episode (or round, or publication) refs behind it
    tables/episodes.csv    one line per episode ref: condition, instance, outcome (to look refs up)
    plots/accuracy.png|svg|pdf, plots/critic_fp_by_round.*, plots/accuracy_by_length.*  (PNG at 300 dpi)

Nothing time- or machine-dependent goes into any file, so the same runs give the same bytes.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from planner_loop.analysis.metrics import all_tables
from planner_loop.analysis.html_tables import to_html_footnoted
from planner_loop.analysis.plots import companions, plot_accuracy, plot_accuracy_by_length, plot_critic_fp_by_round
from planner_loop.analysis.records import RunRecords, load_runs
from planner_loop.analysis.reference import BOHNET_CITATION, VALMEEKAM_CITATION
from planner_loop.analysis.strategies import plot_frontier, strategy_tables
from planner_loop.analysis.tables import Table, to_markdown, write_table
from planner_loop.analysis.unpriced import unpriced_note

PLOT_FILES: dict[str, str] = {
    "accuracy": "accuracy.png",
    "critic_by_round": "critic_fp_by_round.png",
    "by_length": "accuracy_by_length.png",
    "strategy_frontier": "strategy_frontier.png",
}
PLOT_CAPTIONS: dict[str, str] = {
    "accuracy": "Accuracy by condition (bars: this run with 95% Wilson intervals; diamonds: published).",
    "critic_by_round": "LLM critic false-positive rate by round (95% Wilson intervals).",
    "by_length": "Accuracy against optimal plan length (95% Wilson intervals).",
    "strategy_frontier": "Accuracy against mean tokens per episode, per condition (95% intervals); the line is "
                         "the Pareto frontier.",
}


@dataclass(frozen=True)
class Report:
    """What ``write_report`` produced."""

    out_dir: Path
    markdown: Path
    html: Path
    tables: tuple[Table, ...]
    files: tuple[Path, ...]           # every file written, sorted
    plots: tuple[Path, ...]


def write_report(run_dirs: Sequence[Path | str], out_dir: Path | str) -> Report:
    """Analyse ``run_dirs`` and write the report into ``out_dir`` (created if needed)."""
    records = load_runs(run_dirs)
    out = Path(out_dir)
    tables_dir, plots_dir = out / "tables", out / "plots"
    tables = (*all_tables(records), *strategy_tables(records))
    files: list[Path] = []
    for table in tables:
        files.extend(write_table(table, tables_dir))
    episodes_index = tables_dir / "episodes.csv"
    _episode_index(records).to_csv(episodes_index, index=False, lineterminator="\n")
    files.append(episodes_index)

    by_name = {table.name: table for table in tables}
    drawers = {
        "accuracy": lambda path: plot_accuracy(by_name["accuracy"], path),
        "critic_by_round": lambda path: plot_critic_fp_by_round(by_name["critic_by_round"], path, by_name.get("critic_final")),
        "by_length": lambda path: plot_accuracy_by_length(by_name["by_length"], path),
        "strategy_frontier": lambda path: plot_frontier(by_name["strategy_cost"], by_name["strategy_frontier"], path)
        if "strategy_cost" in by_name else None,
    }
    plots: dict[str, Path] = {}
    for name, filename in PLOT_FILES.items():
        target = plots_dir / filename
        drawn = drawers[name](target)
        if drawn is None:
            for stale in (target, *companions(target)):   # a stale plot from an earlier report must not linger
                stale.unlink(missing_ok=True)
        else:
            plots[name] = drawn
            files.extend([drawn, *companions(drawn)])

    note = unpriced_note(records)
    markdown_path = out / "report.md"
    markdown_path.write_bytes(_markdown(records, tables, plots, out, note).encode("utf-8"))
    html_path = out / "report.html"
    html_path.write_bytes(_html(records, tables, plots, note).encode("utf-8"))
    files.extend([markdown_path, html_path])
    return Report(out_dir=out, markdown=markdown_path, html=html_path, tables=tables,
                  files=tuple(sorted(files)), plots=tuple(plots[name] for name in PLOT_FILES if name in plots))


def _episode_index(records: RunRecords):  # -> pd.DataFrame (pandas imported by records)
    columns = ["ref", "condition", "instance_set", "instance_id", "seed", "blocks", "optimal_length",
               "n_rounds", "termination", "final_valid", "final_accepted", "final_critic_valid"]
    frame = records.episodes[columns].copy()
    frame["final_critic_valid"] = frame["final_critic_valid"].astype(object).where(
        frame["final_critic_valid"].notna(), None)
    return frame


def _runs_summary(records: RunRecords) -> list[tuple[str, str, str, int, str, str]]:
    rows = []
    for label in records.runs:
        episodes = records.episodes[records.episodes["run"] == label]
        conditions = ", ".join(c for c in records.condition_order if c in set(episodes["condition"]))
        models = sorted({str(m) for m in episodes["generator_model"].dropna()})
        rows.append((label, records.run_paths[label], records.studies[label] or "unknown", len(episodes),
                     conditions, ", ".join(models) or "unknown"))
    return rows


INTRO = (
    "Every number below is computed from the runs' `episodes.jsonl` records. *Accuracy* is judged by the "
    "sound validator on each episode's final plan, whatever verifier drove the loop. Each table is also "
    "written as CSV (full precision) and LaTeX in `tables/`, and `tables/<name>.sources.json` lists, for "
    "every cell, the records it was computed from: `<run>:<episode key>` for an episode, "
    "`<run>:<episode key>#<round>` for one round, `paper:<citation>` for a published figure. "
    "`tables/episodes.csv` gives each episode ref's condition, instance and outcome; "
    "`planner-loop show RUN_DIR EPISODE` prints its full transcript, and `planner-loop view RUN_DIR` opens "
    "a page where every cell links to its episodes. Plots come as 300-dpi PNG, SVG and PDF; "
    "`tables/<name>.narrow.tex` fits one paper column."
)
REFERENCES = (
    f"- Valmeekam et al. 2023: {VALMEEKAM_CITATION} (GPT-4 generator and critic, temperature 0, "
    "Blocks World, 100 instances; feedback levels on 50).",
    f"- Bohnet et al. 2025: {BOHNET_CITATION} (Blocksworld 3-5; accuracies as published, counts not given).",
    "- Published figures are shown beside ours only where a table corresponds; they come from other "
    "models, so compare the direction of effects, not the absolute numbers.",
)


def _markdown(records: RunRecords, tables: Sequence[Table], plots: dict[str, Path], out: Path,
              note: str | None = None) -> str:
    lines = ["# planner-loop report", "", INTRO, "", "## Runs", "",
             "| run | directory | reproduces | episodes | conditions | generator |", "| --- | --- | --- | ---: | --- | --- |"]
    for row in _runs_summary(records):
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |")
    lines.append("")
    if note is not None:
        lines += [note, ""]
    for table in tables:
        lines += [f"## {table.title}", "", table.description, ""]
        if table.rows:
            lines.append(to_markdown(table).rstrip("\n"))
        else:
            lines.append("*No condition of this kind in these runs.*")
        lines += ["", f"Files: `tables/{table.name}.csv`, `tables/{table.name}.tex`, "
                      f"`tables/{table.name}.sources.json`.", ""]
        if table.name in plots:
            relative = plots[table.name].relative_to(out).as_posix()
            vector = " · ".join(f"[{path.suffix[1:].upper()}]({path.relative_to(out).as_posix()})"
                                for path in companions(plots[table.name]))
            lines += [f"![{PLOT_CAPTIONS[table.name]}]({relative})", "",
                      f"*{PLOT_CAPTIONS[table.name]}* (vector: {vector})", ""]
    lines += ["## References", "", *REFERENCES, ""]
    return "\n".join(lines)


_EMPHASIS = re.compile(r"\*([^*]+)\*")
_CODE = re.compile(r"`([^`]+)`")


def _inline(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    return _EMPHASIS.sub(r"<em>\1</em>", escaped)


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.78rem; margin: 0.6rem 0; width: 100%; }
th, td { border: 1px solid #d0d0d0; padding: 0.2rem 0.35rem; text-align: right; overflow-wrap: anywhere; }
th { background: #f3f3f5; vertical-align: bottom; } .text { text-align: left; }
th.paper, td.paper { background: #fff7ec; }
.footnotes { font-size: 0.8rem; color: #555; margin: 0.2rem 0 0.8rem; }
figure { margin: 1rem 0; } figure img { width: 100%; max-width: 44rem; border: 1px solid #eee; }
figcaption, .files { font-size: 0.85rem; color: #555; }
code { background: #f3f3f5; padding: 0 0.2rem; }
"""


def _html(records: RunRecords, tables: Sequence[Table], plots: dict[str, Path], note: str | None = None) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>planner-loop report</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
             "<h1>planner-loop report</h1>", f"<p>{_inline(INTRO)}</p>", "<h2>Runs</h2>",
             "<table><thead><tr><th>run</th><th>directory</th><th>reproduces</th><th>episodes</th>"
             "<th>conditions</th><th>generator</th></tr></thead><tbody>"]
    for row in _runs_summary(records):
        parts.append("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>")
    parts.append("</tbody></table>")
    if note is not None:
        parts.append(f'<p class="unpriced">{_inline(note)}</p>')
    for table in tables:
        parts += [f'<h2 id="{table.name}">{html.escape(table.title)}</h2>', f"<p>{_inline(table.description)}</p>"]
        parts.append(to_html_footnoted(table, table.name) if table.rows
                     else "<p><em>No condition of this kind in these runs.</em></p>")
        if table.notes:
            parts.append("<ul>" + "".join(f"<li>{_inline(note)}</li>" for note in table.notes) + "</ul>")
        parts.append(f'<p class="files">Files: <code>tables/{table.name}.csv</code>, <code>tables/{table.name}.tex</code>, '
                     f"<code>tables/{table.name}.narrow.tex</code>, <code>tables/{table.name}.sources.json</code></p>")
        if table.name in plots:
            encoded = base64.b64encode(plots[table.name].read_bytes()).decode("ascii")
            caption = html.escape(PLOT_CAPTIONS[table.name])
            parts.append(f'<figure><img alt="{caption}" src="data:image/png;base64,{encoded}">'
                         f"<figcaption>{caption}</figcaption></figure>")
    parts += ["<h2>References</h2>", "<ul>"]
    parts += [f"<li>{_inline(line[2:])}</li>" for line in REFERENCES]
    parts += ["</ul>", "</body>", "</html>", ""]
    return "\n".join(parts)
