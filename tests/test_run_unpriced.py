"""A model without a price: progress and the final summary say "cost unknown" (never $0.0000), and the
report names the models that lacked prices."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.loop_scripting import ScriptedReplies
from helpers.run_cli import CRITIC, GENERATOR, run_cli, write_config

from planner_loop.cli.run_display import cost_text, status_text
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.run_meter import RunProgress

NOTE = "no price for `fake`"


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(ScriptedReplies(GENERATOR, CRITIC), latency_s=0.05) as fake:
        yield fake


def test_cost_text_says_unknown_and_names_the_models() -> None:
    assert cost_text(None, ("m1", "m2")) == "cost unknown (no price for m1, m2: give one with --prices FILE)"
    assert cost_text(0.5, ("m1",)).startswith("cost unknown (no price for m1") and "$0.5000 for the priced" in \
        cost_text(0.5, ("m1",))
    assert cost_text(None, ()) == "$0.0000" and cost_text(1.25, ()) == "$1.2500"
    line = status_text(RunProgress(1, 2, 0, 0, 3, 40, 0, unpriced=("fake",)))
    assert "cost unknown (no price for fake" in line and "$" not in line


def test_an_unpriced_run_says_cost_unknown_and_its_report_names_the_model(tmp_path: Path,
                                                                         server: FakeOpenAIServer) -> None:
    config = write_config(tmp_path, server.base_url)
    run_dir = tmp_path / "run"
    done = run_cli("run", config, "--out", run_dir, "--progress-every", "0.1")
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if " episodes (" in line]
    assert progress and all("cost unknown (no price for fake" in line for line in progress)   # from the first line
    summary = next(line for line in done.stderr.splitlines() if line.startswith("8 episodes in"))
    assert "paid calls, cost unknown (no price for fake: give one with --prices FILE)" in summary
    assert "$0.0000" not in done.stderr

    report = run_cli("report", run_dir, "--out", tmp_path / "report", timeout=300)
    assert report.returncode == 0, report.stderr
    assert NOTE in (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "no price for <code>fake</code>" in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    # without calls.jsonl the episodes with no cost name their models
    (run_dir / "calls.jsonl").unlink()
    again = run_cli("report", run_dir, "--out", tmp_path / "again", timeout=300)
    assert again.returncode == 0, again.stderr
    assert NOTE in (tmp_path / "again" / "report.md").read_text(encoding="utf-8")


def test_a_priced_run_shows_dollars_and_its_report_no_unpriced_note(tmp_path: Path, server: FakeOpenAIServer) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  fake: {input: 1.0, output: 2.0}\n")
    config = write_config(tmp_path, server.base_url)
    run_dir = tmp_path / "run"
    done = run_cli("run", config, "--out", run_dir, "--prices", prices, "--progress-every", "0.1")
    assert done.returncode == 0, done.stderr
    assert "cost unknown" not in done.stderr and "paid calls, $" in done.stderr
    report = run_cli("report", run_dir, "--out", tmp_path / "report", timeout=300)
    assert report.returncode == 0, report.stderr
    assert "no price for" not in (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
