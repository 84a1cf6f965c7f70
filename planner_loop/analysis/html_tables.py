"""Tables for the HTML report: published figures beside ours, citations as footnotes, no side scroll.

Each ``paper X`` column is moved next to our ``X`` column, the long ``paper`` text column (which
published row) becomes a footnote mark, and the page lets cells wrap instead of scrolling, so the
published numbers stay in view on a normal screen.
"""

from __future__ import annotations

import html

from planner_loop.analysis.tables import MISSING, Table, format_cell

PAPER = "paper"


def published_beside(table: Table) -> list[int]:
    """Column indices with every ``paper X`` right after ``X`` (unpaired ones keep their place)."""
    names = list(table.column_names)
    order: list[int] = []
    for index, name in enumerate(names):
        if name.startswith(PAPER + " ") and name[len(PAPER) + 1:] in names:
            continue
        order.append(index)
        partner = f"{PAPER} {name}"
        if partner in names:
            order.append(names.index(partner))
    return order


def to_html_footnoted(table: Table, anchor: str) -> str:
    """``<table>`` plus an ``<ol>`` of the publications its cells cite (ids ``<anchor>-fn-N``)."""
    order = [i for i in published_beside(table) if table.column_names[i] != PAPER]
    citations: list[str] = []

    def mark(refs: tuple[str, ...]) -> str:
        marks = []
        for ref in refs:
            if not ref.startswith("paper:"):
                continue
            text = ref.removeprefix("paper:")
            if text not in citations:
                citations.append(text)
            number = citations.index(text) + 1
            marks.append(f'<sup><a href="#{anchor}-fn-{number}">{number}</a></sup>')
        return "".join(dict.fromkeys(marks))

    head = "".join(
        f'<th class="{_classes(table, i)}">{html.escape(table.column_names[i])}</th>' for i in order)
    body = []
    for row, sources in zip(table.rows, table.sources, strict=True):
        cells = []
        for i in order:
            column = table.columns[i]
            text = html.escape(format_cell(row[i], column.kind, "markdown"))
            refs = tuple(sources.get(column.name, ()))
            if column.name.startswith(PAPER) and text != MISSING:
                text += mark(refs)
            cells.append(f'<td class="{_classes(table, i)}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    parts = [f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>']
    if citations:
        parts.append('<ol class="footnotes">' + "".join(
            f'<li id="{anchor}-fn-{n}">{html.escape(text)}</li>' for n, text in enumerate(citations, start=1)) + "</ol>")
    return "\n".join(parts)


def _classes(table: Table, index: int) -> str:
    column = table.columns[index]
    return " ".join(part for part in ("text" if column.kind == "text" else "num",
                                      PAPER if column.name.startswith(PAPER) else "") if part)
