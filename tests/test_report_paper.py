"""Paper-ready output: published figures only beside runs of the same protocol (both directions),
plots as 300-dpi PNG, SVG and PDF with stable bytes, LaTeX tables that compile and fit a column,
and an HTML report that keeps the published numbers in view with citations as footnotes."""

from __future__ import annotations

import hashlib
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from helpers.analysis_expect import csv_rows
from helpers.episode_builders import episode, write_run

from planner_loop.analysis.report import write_report

T, F = True, False


def table1_run(directory: Path) -> Path:
    """Valmeekam Table 1's protocol: 100 instances, LLM only, LLM+LLM, LLM + sound (first-error)."""
    records = []
    for number in range(1, 101):
        records.append(episode("llm-only", "llm-only", number, [(number % 2 == 0, None)]))
        records.append(episode("llm+llm", "llm+llm", number, [(F, T)] if number % 3 == 0 else [(T, T)]))
        records.append(episode("llm+sound", "llm+sound", number, [(F, F), (T, T)], feedback="first-error"))
    return write_run(directory, records, name="valmeekam2023")


def feedback_run(directory: Path) -> Path:
    """Table 3's protocol: 50 instances, the sound verifier at three feedback levels."""
    records = []
    for number in range(1, 51):
        for level in ("binary", "first-error", "all-errors"):
            records.append(episode(f"sound-{level}", "llm+sound", number, [(F, F), (T, T)], feedback=level))
    return write_run(directory, records, name="valmeekam2023-feedback")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("paper")
    out = {}
    for name, build in (("table1", table1_run), ("feedback", feedback_run)):
        run = build(root / name)
        write_report([run], root / f"{name}-report")
        out[name] = root / f"{name}-report"
    return out


def test_table1_run_gets_table1_figures_not_table3_feedback_ones(reports: dict[str, Path]) -> None:
    accuracy = {r["condition"]: r for r in csv_rows(reports["table1"], "accuracy")}
    assert accuracy["llm-only"]["paper correct"] == "40/100"
    assert accuracy["llm+llm"]["paper correct"] == "55/100"
    assert accuracy["llm+sound"]["paper correct"] == "88/100"
    feedback = {r["condition"]: r for r in csv_rows(reports["table1"], "feedback")}
    assert feedback["llm-only"]["paper correct"] == "40/100"       # Table 3's no-feedback row is on 100
    assert feedback["llm+sound"]["paper"] == ""                    # Table 3's first-error row is on 50
    critic = csv_rows(reports["table1"], "critic_final")[0]
    assert critic["paper FP/invalid"] == "38/45"


def test_feedback_run_gets_table3_figures_not_table1_ones(reports: dict[str, Path]) -> None:
    accuracy = {r["condition"]: r for r in csv_rows(reports["feedback"], "accuracy")}
    assert accuracy["sound-first-error"]["paper"] == ""             # Table 1's LLM+VAL is on 100
    feedback = {r["condition"]: r for r in csv_rows(reports["feedback"], "feedback")}
    assert feedback["sound-binary"]["paper correct"] == "37/50"
    assert feedback["sound-first-error"]["paper correct"] == "43/50"
    assert feedback["sound-all-errors"]["paper correct"] == "43/50"


def png_dpi(path: Path) -> float:
    data = path.read_bytes()
    at = data.index(b"pHYs")
    per_metre = struct.unpack(">I", data[at + 4:at + 8])[0]
    return per_metre * 0.0254


def test_plots_in_three_formats_at_300_dpi_with_stable_bytes(reports: dict[str, Path], tmp_path: Path) -> None:
    plots = reports["table1"] / "plots"
    for stem in ("accuracy", "critic_fp_by_round", "accuracy_by_length"):
        for suffix in (".png", ".svg", ".pdf"):
            assert (plots / f"{stem}{suffix}").stat().st_size > 1000, (stem, suffix)
        assert round(png_dpi(plots / f"{stem}.png")) == 300
        assert (plots / f"{stem}.pdf").read_bytes().startswith(b"%PDF")
        assert b"CreationDate" not in (plots / f"{stem}.pdf").read_bytes()
    # the by-round plot draws the published FP rate (38/45) where the protocol matches
    from planner_loop.analysis import all_tables, load_runs
    from planner_loop.analysis.plots import published_fp_rates

    run = Path(str(reports["table1"]).removesuffix("-report"))
    critic_final = next(t for t in all_tables(load_runs([run])) if t.name == "critic_final")
    assert [round(value, 1) for _, value in published_fp_rates(critic_final)] == [84.4]
    assert "stroke-dasharray" in (plots / "critic_fp_by_round.svg").read_text()
    again = tmp_path / "again"
    write_report([Path(str(reports["table1"]).removesuffix("-report"))], again)
    for path in sorted(plots.iterdir()):
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256((again / "plots" / path.name).read_bytes()).digest(), path.name


def test_latex_tables_have_caption_label_booktabs(reports: dict[str, Path]) -> None:
    tables = reports["table1"] / "tables"
    for name in ("accuracy", "critic_final", "feedback", "soundness"):
        for suffix, environment in ((".tex", "table*"), (".narrow.tex", "table")):
            text = (tables / f"{name}{suffix}").read_text()
            assert f"\\begin{{{environment}}}" in text
            assert re.search(r"\\caption\{[^}]+\}", text)
            assert f"\\label{{tab:{name}" in text
            assert "\\toprule" in text and "\\midrule" in text and "\\bottomrule" in text


LATEX_DOC = r"""\documentclass[twocolumn]{article}
\usepackage{booktabs,graphicx}
\newlength\widest
\begin{document}
%s
\end{document}
"""
MEASURE = r"""\setbox0\hbox{\small\setlength{\tabcolsep}{3pt}\input{%s}}\typeout{NATURAL %s \the\wd0\space COLUMN \the\columnwidth}"""


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_tables_compile_and_the_narrow_form_fits_a_column(reports: dict[str, Path], tmp_path: Path) -> None:
    tables = reports["table1"] / "tables"
    narrow = sorted(tables.glob("*.narrow.tex"))
    full = sorted(set(tables.glob("*.tex")) - set(narrow))
    body = "\n".join(f"\\input{{{path}}}\n\\clearpage" for path in [*narrow, *full])
    # the tabular alone, outside its float, to read its natural width against \columnwidth
    measures = []
    for path in narrow:
        tabular = path.read_text().split("{%\n", 1)[1].rsplit("%\n}", 1)[0]
        piece = tmp_path / f"{path.stem}.tabular.tex"
        piece.write_text(tabular)
        measures.append(MEASURE % (piece, path.stem))
    (tmp_path / "doc.tex").write_text(LATEX_DOC % (body + "\n" + "\n".join(measures)))
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert result.returncode == 0, log[-3000:]
    assert "Overfull \\hbox" not in log
    widths = re.findall(r"NATURAL (\S+) ([\d.]+)pt\s*COLUMN ([\d.]+)pt", log)
    assert len(widths) == len(narrow)
    fitting = {name for name, natural, column in widths if float(natural) <= float(column)}
    # the narrow forms fit a column at their natural size (the scale-down guard is a safety net only)
    assert {"accuracy.narrow", "critic_final.narrow", "feedback.narrow", "soundness.narrow"} <= fitting, widths


def test_html_report_keeps_published_figures_in_view(reports: dict[str, Path]) -> None:
    page = (reports["table1"] / "report.html").read_text()
    assert "overflow-x" not in page and "white-space: nowrap" not in page
    accuracy = page.split('<h2 id="accuracy">', 1)[1].split("<h2", 1)[0]
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", accuracy)
    # each published column sits right after ours
    assert headers.index("paper accuracy %") == headers.index("accuracy %") + 1
    assert headers.index("paper mean rounds") == headers.index("mean rounds") + 1
    assert "paper" not in headers   # the long row name became a footnote mark
    assert 'href="#accuracy-fn-1"' in accuracy
    assert re.search(r'<li id="accuracy-fn-1">Valmeekam et al\. 2023, Table 1, LLM</li>', accuracy)
