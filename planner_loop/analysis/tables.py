"""Tables as values, and their Markdown, CSV, LaTeX and sources writers.

A ``Table`` holds typed cells plus, for every cell, the refs of the records it was computed from
(``"<run>:<episode key>"``, ``"<run>:<key>#<round>"``, or ``"paper:<citation>"`` for a published
number). Formatting is fixed per column kind, so the same table always gives the same bytes:

| kind   | Markdown / LaTeX | CSV     |
| ------ | ---------------- | ------- |
| int    | ``12``           | ``12``  |
| pct    | ``55.0``         | ``55.0000`` (percent, 4 decimals) |
| mean   | ``3.48``         | ``3.4800`` |
| pvalue | ``0.0313``       | ``0.03125`` (6 significant digits) |
| text   | as is            | as is   |

A missing value is an empty CSV field and ``—`` in Markdown and LaTeX.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

COLUMN_KINDS: frozenset[str] = frozenset({"int", "pct", "mean", "pvalue", "text"})
MISSING = "—"


@dataclass(frozen=True)
class Column:
    """One column: its header, its kind (see the module docstring) and a one-line meaning."""

    name: str
    kind: str
    meaning: str = ""

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass(frozen=True)
class Table:
    """A finished table: typed cells, and for each cell the refs of the records behind it."""

    name: str                                        # file stem, e.g. "accuracy"
    title: str
    description: str                                 # how to read it
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    sources: tuple[Mapping[str, tuple[str, ...]], ...]   # per row: column name -> refs
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        width = len(self.columns)
        if any(len(row) != width for row in self.rows):
            raise ValueError(f"table {self.name}: a row does not have {width} cells")
        if len(self.sources) != len(self.rows):
            raise ValueError(f"table {self.name}: sources must have one entry per row")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def cell(self, row: int, column: str) -> Any:
        """The typed value at ``row`` (0-based) and ``column`` (header)."""
        return self.rows[row][self.column_names.index(column)]

    def select(self, names: tuple[str, ...]) -> Table:
        """The same table restricted to the columns ``names`` (in that order)."""
        indices = [self.column_names.index(name) for name in names]
        return Table(
            name=self.name, title=self.title, description=self.description,
            columns=tuple(self.columns[i] for i in indices),
            rows=tuple(tuple(row[i] for i in indices) for row in self.rows),
            sources=tuple({name: refs for name, refs in sources.items() if name in names} for sources in self.sources),
            notes=self.notes,
        )

    def frame(self, style: str = "markdown") -> pd.DataFrame:
        """The table as a DataFrame of formatted strings (``style`` is ``markdown`` or ``csv``)."""
        data = [
            [format_cell(value, column.kind, style) for value, column in zip(row, self.columns, strict=True)]
            for row in self.rows
        ]
        return pd.DataFrame(data, columns=list(self.column_names), dtype=object)


def format_cell(value: Any, kind: str, style: str) -> str:
    """Format one cell; ``style`` is ``markdown`` (also used for LaTeX and HTML) or ``csv``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "" if style == "csv" else MISSING
    if kind == "text":
        return str(value)
    if kind == "int":
        return str(int(value))
    number = float(value)
    if kind == "pct":
        return f"{number:.4f}" if style == "csv" else f"{number:.1f}"
    if kind == "mean":
        return f"{number:.4f}" if style == "csv" else f"{number:.2f}"
    # p-values: keep small ones readable instead of rounding them to zero
    if style == "csv":
        return f"{number:.6g}"
    return f"{number:.4f}" if number >= 0.0001 else f"{number:.1e}"


def to_markdown(table: Table) -> str:
    """GitHub Markdown: a pipe table (numbers right-aligned), then the notes."""
    frame = table.frame("markdown")
    header = "| " + " | ".join(_md_escape(name) for name in table.column_names) + " |"
    align = "| " + " | ".join("---:" if column.kind != "text" else "---" for column in table.columns) + " |"
    lines = [header, align]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_md_escape(cell) for cell in row) + " |")
    if not table.rows:
        lines.append("| " + " | ".join("" for _ in table.columns) + " |")
    text = "\n".join(lines) + "\n"
    if table.notes:
        text += "\n" + "\n".join(f"- {note}" for note in table.notes) + "\n"
    return text


def to_csv(table: Table) -> str:
    """CSV with full-precision numbers (see the module docstring), ``\\n`` line ends."""
    return table.frame("csv").to_csv(index=False, lineterminator="\n")


# The columns a one-column (``\columnwidth``) version of each table keeps; others keep their text
# columns and the first few numbers.
NARROW_COLUMNS: dict[str, tuple[str, ...]] = {
    "accuracy": ("condition", "n", "accuracy %", "CI low %", "CI high %", "mean rounds", "paper accuracy %"),
    "critic_final": ("condition", "TP", "FP", "TN", "FN", "FP rate %", "paper FP rate %"),
    "critic_rounds": ("condition", "judged", "TP", "FP", "TN", "FN", "FP rate %"),
    "critic_by_round": ("condition", "round", "invalid plans", "FP", "FP rate %", "TP rate %"),
    "feedback": ("feedback", "condition", "n", "accuracy %", "paper accuracy %", "mean rounds"),
    "by_blocks": ("condition", "blocks", "n", "accuracy %", "CI low %", "CI high %"),
    "by_length": ("condition", "optimal length", "n", "accuracy %", "CI low %", "CI high %"),
    "by_solvable": ("condition", "instances", "n", "accuracy %", "CI low %", "CI high %"),
    "paired": ("A", "B", "paired", "only A", "only B", "B - A (points)", "McNemar p"),
    "soundness": ("condition", "n", "accepted", "accepted invalid", "gave up (solvable)", "valid plan lost"),
}
# short headers for the narrow form
NARROW_HEADERS: dict[str, str] = {
    "accuracy %": "acc.\\ \\%", "CI low %": "CI lo", "CI high %": "CI hi", "mean rounds": "rounds",
    "paper accuracy %": "paper \\%", "paper FP rate %": "paper FP \\%", "FP rate %": "FP \\%",
    "TP rate %": "TP \\%", "paper mean rounds": "paper rounds", "invalid plans": "invalid",
    "B - A (points)": "B$-$A", "McNemar p": "$p$", "gave up (solvable)": "gave up", "valid plan lost": "lost",
    "accepted invalid": "acc.\\ inv.", "optimal length": "opt.", "accepted": "acc.",
}


def narrow(table: Table) -> Table:
    """The table cut to the columns that fit one paper column (see ``NARROW_COLUMNS``)."""
    wanted = NARROW_COLUMNS.get(table.name)
    if wanted is None:
        texts = [c.name for c in table.columns if c.kind == "text"][:2]
        numbers = [c.name for c in table.columns if c.kind != "text"][:5]
        wanted = tuple(texts + numbers)
    return table.select(tuple(name for name in wanted if name in table.column_names))


def _tabular(table: Table, headers: dict[str, str] | None = None) -> str:
    frame = table.frame("markdown").map(latex_escape)
    names = [headers.get(name, latex_escape(name)) if headers else latex_escape(name) for name in table.column_names]
    align = "".join("r" if column.kind != "text" else "l" for column in table.columns)
    lines = [f"\\begin{{tabular}}{{@{{}}{align}@{{}}}}", "\\toprule", " & ".join(names) + " \\\\", "\\midrule"]
    lines += [" & ".join(str(cell) for cell in row) + " \\\\" for row in frame.itertuples(index=False)]
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines)


def latex_caption(table: Table) -> str:
    """The first sentence of the description (Markdown emphasis dropped), as caption text."""
    first = re.split(r"(?<!\bal)\.\s", table.description)[0].rstrip(".").replace("*", "").replace("`", "")
    return latex_escape(f"{table.title}. {first}.")


def to_latex(table: Table, *, form: str = "full") -> str:
    """A LaTeX ``table`` float with ``\\caption``, ``\\label{tab:<name>}`` and booktabs rules.

    ``form="full"``: every column, as a page-wide ``table*``; ``form="narrow"``: the columns of
    ``NARROW_COLUMNS`` in ``\\small`` type inside ``table``, scaled down only if it would still be
    wider than ``\\columnwidth``. Needs ``\\usepackage{booktabs,graphicx}``.
    """
    if form not in {"full", "narrow"}:
        raise ValueError(f"unknown LaTeX form {form!r}")
    label = f"tab:{table.name}" + ("" if form == "full" else "-narrow")
    header = "% planner-loop table; needs \\usepackage{booktabs,graphicx}\n"
    if form == "full":
        body = _tabular(table)
        return (header + "\\begin{table*}\n\\centering\n\\small\n" f"\\caption{{{latex_caption(table)}}}\n"
                f"\\label{{{label}}}\n" "\\resizebox{\\ifdim\\width>\\textwidth\\textwidth\\else\\width\\fi}{!}{%\n"
                f"{body}%\n}}\n\\end{{table*}}\n")
    body = _tabular(narrow(table), NARROW_HEADERS)
    return (header + "\\begin{table}\n\\centering\n\\small\n\\setlength{\\tabcolsep}{3pt}\n"
            f"\\caption{{{latex_caption(table)}}}\n\\label{{{label}}}\n"
            "\\resizebox{\\ifdim\\width>\\columnwidth\\columnwidth\\else\\width\\fi}{!}{%\n"
            f"{body}%\n}}\n\\end{{table}}\n")


def to_sources(table: Table) -> str:
    """JSON: for each row and column, the refs of the records that cell was computed from."""
    rows = []
    for index, (row, sources) in enumerate(zip(table.rows, table.sources, strict=True)):
        rows.append({
            "row": index,
            "label": " / ".join(
                format_cell(value, column.kind, "markdown")
                for value, column in zip(row, table.columns, strict=True)
                if column.kind == "text"
            ),
            "cells": {name: list(sources.get(name, ())) for name in table.column_names},
        })
    payload = {
        "table": table.name,
        "title": table.title,
        "ref_format": {
            "episode": "<run>:<episode key>",
            "round": "<run>:<episode key>#<round>",
            "published": "paper:<citation>",
        },
        "rows": rows,
    }
    return json.dumps(payload, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def to_html(table: Table) -> str:
    """An HTML ``<table>`` of the formatted cells (escaped)."""
    frame = table.frame("markdown")
    return frame.to_html(index=False, escape=True, border=0, classes="data", na_rep=MISSING)


def write_table(table: Table, directory: Path) -> list[Path]:
    """Write ``<name>.md``, ``.csv``, ``.tex`` (page-wide), ``.narrow.tex`` (one column) and
    ``.sources.json`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    outputs = {
        f"{table.name}.md": f"### {table.title}\n\n{table.description}\n\n{to_markdown(table)}",
        f"{table.name}.csv": to_csv(table),
        f"{table.name}.tex": to_latex(table),
        f"{table.name}.narrow.tex": to_latex(table, form="narrow"),
        f"{table.name}.sources.json": to_sources(table),
    }
    paths = []
    for filename, text in outputs.items():
        path = directory / filename
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    return paths


def read_csv_cells(path: Path) -> list[dict[str, str]]:
    """Read a table's CSV back as strings (for checking and tracing)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.to_dict("records")


def _md_escape(cell: str) -> str:
    return str(cell).replace("|", "\\|").replace("\n", " ")


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "—": "---",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text."""
    return "".join(_LATEX_SPECIALS.get(char, char) for char in text)
