"""``planner-loop export``: inspect_ai logs that ``read_eval_log`` loads, with scores equal to the
report's tables; CSV and Parquet with one row per round."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner_loop.analysis import all_tables, load_runs
from planner_loop.cli.main import app
from planner_loop.export import export_run
from planner_loop.runs import RunStore

FIXTURE_RUN = Path(__file__).parent / "fixtures" / "runs" / "v1" / "run"


def test_inspect_logs_load_and_match_the_report(tmp_path: Path) -> None:
    log_module = pytest.importorskip("inspect_ai.log", reason="the inspect extra is not installed")
    paths = export_run(FIXTURE_RUN, "inspect", tmp_path / "logs")
    tables = {t.name: t for t in all_tables(load_runs([FIXTURE_RUN]))}
    accuracy = {tables["accuracy"].cell(i, "condition"): i for i in range(len(tables["accuracy"].rows))}
    critic = {tables["critic_final"].cell(i, "condition"): i for i in range(len(tables["critic_final"].rows))}
    records = RunStore(FIXTURE_RUN).episodes()
    assert len(paths) == len(accuracy)
    seen = set()
    for path in paths:
        log = log_module.read_eval_log(str(path))
        assert log.status == "success"
        condition = log.eval.metadata["condition"]
        seen.add(condition)
        row = accuracy[condition]
        assert len(log.samples) == tables["accuracy"].cell(row, "n")
        correct = sum(s.scores["ground_truth"].value == "C" for s in log.samples)
        assert correct == tables["accuracy"].cell(row, "correct")
        metric = log.results.scores[0].metrics["accuracy"].value
        assert metric == pytest.approx(tables["accuracy"].cell(row, "accuracy %") / 100)
        by_key = {r["key"]: r for r in records}
        for sample in log.samples:
            record = by_key[sample.id]
            # one assistant message per round, holding that round's reply
            replies = [m for m in sample.messages if m.role == "assistant" and (m.metadata or {}).get("round")]
            assert [m.text for m in replies] == [r["reply"] for r in record["rounds"]]
            assert [m.metadata["failed_step"] for m in replies] == [r["ground_truth"]["failed_step"] for r in record["rounds"]]
        if condition in critic:
            crow = critic[condition]
            fp = sum(s.scores["critic"].value == "C" and s.scores["ground_truth"].value == "I" for s in log.samples)
            tn = sum(s.scores["critic"].value == "I" and s.scores["ground_truth"].value == "I" for s in log.samples)
            unreadable = sum(s.scores["critic"].value == "N" for s in log.samples)
            assert (fp, tn, unreadable) == (tables["critic_final"].cell(crow, "FP"), tables["critic_final"].cell(crow, "TN"),
                                            tables["critic_final"].cell(crow, "unreadable"))
            rate = log.results.scores[1].metrics["false_positive_rate"].value
            assert rate == pytest.approx(tables["critic_final"].cell(crow, "FP rate %") / 100)
        else:
            assert all("critic" not in s.scores for s in log.samples)
    assert seen == set(accuracy)
    again = export_run(FIXTURE_RUN, "inspect", tmp_path / "again")
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
    assert digest == [hashlib.sha256(p.read_bytes()).hexdigest() for p in again]


def test_csv_and_parquet_one_row_per_round(tmp_path: Path) -> None:
    import pandas as pd

    records = RunStore(FIXTURE_RUN).episodes()
    rounds = sum(len(r["rounds"]) for r in records)
    (csv_path,) = export_run(FIXTURE_RUN, "csv", tmp_path)
    frame = pd.read_csv(csv_path)
    assert len(frame) == rounds
    first = next(r for r in records if r["key"] == "llm+llm/instance-3/seed0")
    rows = frame[frame["episode"] == first["key"]].sort_values("round")
    assert list(rows["gt_valid"]) == [r["ground_truth"]["valid"] for r in first["rounds"]]
    assert list(rows["failed_step"].fillna(-1).astype(int)) == [
        r["ground_truth"]["failed_step"] if r["ground_truth"]["failed_step"] is not None else -1 for r in first["rounds"]]
    pytest.importorskip("pyarrow", reason="the parquet extra is not installed")
    (parquet_path,) = export_run(FIXTURE_RUN, "parquet", tmp_path)
    table = pd.read_parquet(parquet_path)
    assert len(table) == rounds and str(table["verdict_valid"].dtype) == "boolean"


def test_export_cli_and_bad_format(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["export", str(FIXTURE_RUN), "--format", "csv", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(".rounds.csv")
    result = runner.invoke(app, ["export", str(FIXTURE_RUN), "--format", "xlsx", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "unknown format 'xlsx'" in str(result.exception)
