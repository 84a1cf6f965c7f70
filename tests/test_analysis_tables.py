"""Every cell of every table, on run directories of known episodes, against statsmodels/scipy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.analysis_expect import (
    Cond,
    accuracy_expectation,
    assert_number,
    check_accuracy_cells,
    check_all_tables,
    check_cells,
    confusion_expectation,
    csv_rows,
    final,
    wilson_pct,
)
from helpers.episode_builders import episode, write_run

from planner_loop.analysis.tables import read_csv_cells

from planner_loop.analysis.report import write_report

T, F, P = True, False, None   # ground truth valid / invalid / no parsable plan (invalid)

# instance -> (blocks, optimal length)
SIZES = {1: (3, 2), 2: (3, 4), 3: (3, 4), 4: (3, 6), 5: (4, 6), 6: (4, 8), 7: (4, 10), 8: (5, 12)}

# condition -> (system, feedback, max_rounds, {instance: [(truth, verdict), ...]})
VALMEEKAM: dict[str, tuple[str, str | None, int, dict[int, list[tuple[bool | None, bool | None]]]]] = {
    "llm-only": ("llm-only", None, 1, {
        1: [(T, None)], 2: [(T, None)], 3: [(F, None)], 4: [(F, None)],
        5: [(T, None)], 6: [(F, None)], 7: [(F, None)], 8: [(P, None)]}),
    "llm+llm": ("llm+llm", None, 3, {
        1: [(T, T)],
        2: [(F, F), (F, T)],
        3: [(F, T)],
        4: [(T, F), (F, T)],
        5: [(F, F), (F, F), (F, F)],
        6: [(F, None), (T, T)],
        7: [(T, F), (T, F), (T, F)],
        8: [(P, F), (F, None), (F, None)]}),
    "sound-binary": ("llm+sound", "binary", 3, {
        1: [(T, T)], 2: [(F, F), (T, T)], 3: [(F, F), (F, F), (F, F)], 4: [(T, T)],
        5: [(F, F), (F, F), (T, T)], 6: [(F, F), (F, F), (F, F)], 7: [(T, T)], 8: [(P, F), (T, T)]}),
    "sound-first-error": ("llm+sound", "first-error", 3, {
        1: [(T, T)], 2: [(T, T)], 3: [(F, F), (T, T)], 4: [(T, T)],
        5: [(T, T)], 6: [(F, F)], 7: [(F, F), (T, T)], 8: [(T, T)]}),
    "sound-all-errors": ("llm+sound", "all-errors", 3, {
        1: [(T, T)], 2: [(F, F), (T, T)], 3: [(F, F), (F, F), (F, F)], 4: [(T, T)],
        5: [(T, T)], 6: [(F, F), (T, T)], 7: [(T, T)], 8: [(F, F), (F, F), (T, T)]}),
}
ERROR_EPISODE = ("sound-first-error", 6)   # ends in an error, not by the round limit


def build_valmeekam_run(directory: Path) -> Path:
    records = []
    for condition, (system, feedback, max_rounds, instances) in VALMEEKAM.items():
        for number, rounds in instances.items():
            blocks, length = SIZES[number]
            kwargs: dict[str, Any] = {}
            if (condition, number) == ERROR_EPISODE:
                kwargs = {"termination": "error", "accepted": False}
            record = episode(condition, system, number, rounds, feedback=feedback, blocks=blocks,
                             optimal_length=length, max_rounds=max_rounds, **kwargs)
            if (condition, number) == ERROR_EPISODE:
                record["error"] = "VAL crashed"
            records.append(record)
    records.reverse()   # a concurrent run finishes episodes in any order; tables must not care
    return write_run(directory, records, name="valmeekam2023")


BOHNET: dict[str, tuple[str, bool, int, dict[int, list[tuple[bool | None, bool | None]]]]] = {
    "without-critique": ("llm-only", False, 1, {1: [(F, None)], 2: [(T, None)], 3: [(F, None)], 4: [(F, None)]}),
    "with-critique": ("llm+llm", True, 1, {1: [(F, F), (T, T)], 2: [(T, T)], 3: [(F, T)], 4: [(F, F), (F, F)]}),
    "with-voting": ("llm+llm", True, 5, {1: [(T, T)], 2: [(T, T)], 3: [(F, F), (T, T)], 4: [(F, F), (T, F)]}),
}


def build_bohnet_run(directory: Path) -> Path:
    records = []
    for condition, (system, stepwise, votes, instances) in BOHNET.items():
        for number, rounds in instances.items():
            blocks, length = SIZES[number]
            records.append(episode(condition, system, number, rounds, blocks=blocks, optimal_length=length,
                                   max_rounds=1 if system == "llm-only" else 2, stepwise=stepwise, votes=votes,
                                   instance_set="blocksworld/bohnet"))
    return write_run(directory, records, name="bohnet2025")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("analysis")
    build_valmeekam_run(root / "valmeekam")
    build_bohnet_run(root / "bohnet")
    out = root / "report"
    write_report([root / "valmeekam", root / "bohnet"], out)
    return out


def specs() -> list[dict[str, Cond]]:
    """The two runs as the shared checker describes them, in report order."""
    verifiers = {"llm-only": "none", "llm+llm": "llm critic (detailed)", "llm+sound": "symbolic"}
    valmeekam = {
        name: Cond(system, feedback or {"llm-only": "none", "llm+llm": "binary"}[system],
                   {f"instance-{i}": r for i, r in instances.items()},
                   {f"instance-{i}": SIZES[i] for i in instances}, verifiers[system],
                   frozenset({f"instance-{ERROR_EPISODE[1]}"}) if name == ERROR_EPISODE[0] else frozenset())
        for name, (system, feedback, _, instances) in VALMEEKAM.items()
    }
    bohnet = {
        name: Cond(system, "none" if system == "llm-only" else "binary", {f"instance-{i}": r for i, r in instances.items()},
                   {f"instance-{i}": SIZES[i] for i in instances},
                   "none" if system == "llm-only" else
                   "llm critic (detailed), step-wise" + (f", {votes} votes" if votes > 1 else ""),
                   instance_set="blocksworld/bohnet")
        for name, (system, _, votes, instances) in BOHNET.items()
    }
    return [valmeekam, bohnet]


def test_every_cell_of_every_table(report_dir: Path) -> None:
    check_all_tables(report_dir, specs())


def test_accuracy_table_every_cell(report_dir: Path) -> None:
    rows = csv_rows(report_dir, "accuracy")
    assert [r["condition"] for r in rows] == [
        "llm-only", "llm+llm", "sound-binary", "sound-first-error", "sound-all-errors",
        "without-critique", "with-critique", "with-voting",
    ]
    # 8 instances: not Table 1's protocol (100 instances), so no Valmeekam figure; Bohnet gives no count
    published = {
        "without-critique": ("Bohnet et al. 2025, Blocksworld 3-5: without critique", "49.8%", 49.8, None),
        "with-critique": ("Bohnet et al. 2025, Blocksworld 3-5: with self-critique", "85.5%", 85.5, None),
        "with-voting": ("Bohnet et al. 2025, Blocksworld 3-5: with 5-vote self-critique", "89.3%", 89.3, None),
    }
    verifiers = {"llm-only": "none", "llm+llm": "llm critic (detailed)", "without-critique": "none",
                 "with-critique": "llm critic (detailed), step-wise",
                 "with-voting": "llm critic (detailed), step-wise, 5 votes"}
    for row in rows:
        name = row["condition"]
        instances = VALMEEKAM[name][3] if name in VALMEEKAM else BOHNET[name][3]
        system = VALMEEKAM[name][0] if name in VALMEEKAM else BOHNET[name][0]
        assert row["system"] == system
        assert row["verifier"] == verifiers.get(name, "symbolic")
        expected_feedback = {"llm-only": "none", "without-critique": "none", "llm+llm": "binary",
                             "with-critique": "binary", "with-voting": "binary"}
        assert row["feedback"] == expected_feedback.get(name, VALMEEKAM.get(name, ("", ""))[1])
        check_accuracy_cells(row, accuracy_expectation(instances))
        paper = published.get(name)
        if paper is None:
            assert (row["paper"], row["paper correct"], row["paper accuracy %"], row["paper mean rounds"]) == ("", "", "", "")
        else:
            assert row["paper"] == paper[0]
            assert row["paper correct"] == paper[1]
            assert_number(row["paper accuracy %"], paper[2])
            assert_number(row["paper mean rounds"], paper[3])


def test_critic_final_table_every_cell(report_dir: Path) -> None:
    rows = csv_rows(report_dir, "critic_final")
    assert [r["condition"] for r in rows] == ["llm+llm", "with-critique", "with-voting"]
    by_name = {r["condition"]: r for r in rows}
    # hand count for the Valmeekam-style condition: TP {1,6}, FP {2,3,4}, TN {5}, FN {7}, unreadable {8}
    llm = by_name["llm+llm"]
    assert [llm[c] for c in ("TP", "FP", "TN", "FN", "unreadable", "valid plans", "invalid plans")] == \
        ["2", "3", "1", "1", "1", "3", "5"]
    for name, row in by_name.items():
        instances = VALMEEKAM[name][3] if name in VALMEEKAM else BOHNET[name][3]
        check_cells(row, confusion_expectation([final(r) for r in instances.values()]))
    # Table 2 judged the final plans of 100 instances: not beside an 8-instance run
    for name in ("llm+llm", "with-critique", "with-voting"):
        assert by_name[name]["paper TP/valid"] == "" and by_name[name]["paper FP rate %"] == ""


def test_critic_rounds_table_every_cell(report_dir: Path) -> None:
    rows = csv_rows(report_dir, "critic_rounds")
    assert [r["condition"] for r in rows] == ["llm+llm", "with-critique", "with-voting"]
    llm = rows[0]
    assert [llm[c] for c in ("judged", "TP", "FP", "TN", "FN", "unreadable")] == ["17", "2", "3", "5", "4", "3"]
    for row in rows:
        name = row["condition"]
        instances = VALMEEKAM[name][3] if name in VALMEEKAM else BOHNET[name][3]
        pairs = [(bool(truth), said) for r in instances.values() for truth, said in r]
        check_cells(row, confusion_expectation(pairs))


def test_feedback_table_every_cell(report_dir: Path) -> None:
    rows = csv_rows(report_dir, "feedback")
    assert [(r["feedback"], r["condition"]) for r in rows] == [
        ("none", "llm-only"), ("none", "without-critique"), ("binary", "sound-binary"),
        ("first-error", "sound-first-error"), ("all-errors", "sound-all-errors"),
    ]
    published: dict[str, tuple[str, str, float, float]] = {}   # 8 instances: not Table 3's 50 (or 100)
    for row in rows:
        name = row["condition"]
        instances = VALMEEKAM[name][3] if name in VALMEEKAM else BOHNET[name][3]
        assert row["verifier"] == ("none" if row["feedback"] == "none" else "symbolic")
        check_accuracy_cells(row, accuracy_expectation(instances))
        if name in published:
            label, fraction, accuracy, mean_rounds = published[name]
            assert row["paper"] == f"Valmeekam et al. 2023, Table 3: {label}"
            assert row["paper correct"] == fraction
            assert_number(row["paper accuracy %"], accuracy)
            assert_number(row["paper mean rounds"], mean_rounds)
        else:
            assert row["paper"] == ""


def test_soundness_table_every_cell(report_dir: Path) -> None:
    rows = {r["condition"]: r for r in csv_rows(report_dir, "soundness")}
    columns = ("n", "accepted", "accepted invalid", "unsound % of accepted", "gave up (solvable)", "gave up %",
               "valid plan lost", "errors")
    expected = {
        # llm-only has no verifier: no acceptance, no giving up; no valid plan was ever lost
        "llm-only": (8, None, None, None, None, None, 0, 0),
        # accepted {1,2,3,4,6}; invalid among them {2,3,4}; gave up {5,7,8}; valid plan lost {4}
        "llm+llm": (8, 5, 3, 60.0, 3, 37.5, 1, 0),
        "sound-binary": (8, 6, 0, 0.0, 2, 25.0, 0, 0),
        # instance 6 ended in an error: neither accepted nor a give-up
        "sound-first-error": (8, 7, 0, 0.0, 0, 0.0, 0, 1),
        "sound-all-errors": (8, 7, 0, 0.0, 1, 12.5, 0, 0),
        "without-critique": (4, None, None, None, None, None, 0, 0),
        "with-critique": (4, 3, 1, 100 / 3, 1, 25.0, 0, 0),
        # instance 4: the critic rejected a valid last plan; the episode gave up but its final plan is
        # valid, so no valid plan was lost
        "with-voting": (4, 3, 0, 0.0, 1, 25.0, 0, 0),
    }
    assert list(rows) == list(expected)
    for name, values in expected.items():
        for column, value in zip(columns, values, strict=True):
            assert_number(rows[name][column], value)


def test_markdown_and_latex_formatting(report_dir: Path) -> None:
    markdown = (report_dir / "tables" / "accuracy.md").read_text()
    low, high = wilson_pct(3, 8)
    assert f"| llm-only | llm-only | none | none | 8 | 3 | 37.5 | {low:.1f} | {high:.1f} | 1.00 |" in markdown
    latex = (report_dir / "tables" / "accuracy.tex").read_text()
    assert "\\begin{tabular}{@{}llllrrrrrrllrr@{}}\n\\toprule\n" in latex
    assert "\\caption{Accuracy by condition. One row per condition.}" in latex and "\\label{tab:accuracy}" in latex
    assert "accuracy \\% & CI low \\%" in latex
    assert "llm+llm & llm+llm & llm critic (detailed) & binary & 8 & 3 & 37.5 &" in latex
    assert "without-critique & llm-only & none & none & 4 & 1 & 25.0 &" in latex
    paired = (report_dir / "tables" / "paired.md").read_text()
    assert "| --- | --- | ---: |" in paired


def test_every_cell_traces_to_its_records(report_dir: Path) -> None:
    for name in ("accuracy", "critic_final", "critic_rounds", "critic_by_round", "feedback", "by_blocks",
                 "by_length", "paired", "soundness"):
        sources = json.loads((report_dir / "tables" / f"{name}.sources.json").read_text())
        rows = csv_rows(report_dir, name)
        assert len(sources["rows"]) == len(rows)
        for row, traced in zip(rows, sources["rows"], strict=True):
            assert set(traced["cells"]) == set(row)
            for column, value in row.items():
                if value not in ("", "0"):   # a count of zero has no records behind it
                    assert traced["cells"][column], f"{name}: cell {column!r} has no source"

    for name, columns in {"accuracy": ("n", "correct"), "critic_final": ("TP", "FP", "TN", "FN", "unreadable"),
                          "critic_rounds": ("judged", "TP", "FP", "TN", "FN", "unreadable"),
                          "soundness": ("accepted", "accepted invalid", "gave up (solvable)", "errors")}.items():
        traced_rows = json.loads((report_dir / "tables" / f"{name}.sources.json").read_text())["rows"]
        for row, traced in zip(csv_rows(report_dir, name), traced_rows, strict=True):
            for column in columns:
                if row[column] != "":
                    assert len(traced["cells"][column]) == int(row[column]), (name, column)

    final_sources = json.loads((report_dir / "tables" / "critic_final.sources.json").read_text())
    cells = final_sources["rows"][0]["cells"]
    assert cells["FP"] == [f"valmeekam:llm+llm/instance-{i}/seed0" for i in (2, 3, 4)]
    assert cells["FN"] == ["valmeekam:llm+llm/instance-7/seed0"]
    assert cells["unreadable"] == ["valmeekam:llm+llm/instance-8/seed0"]
    assert cells["paper FP/invalid"] == []   # no published figure beside an 8-instance run
    bohnet = json.loads((report_dir / "tables" / "accuracy.sources.json").read_text())["rows"][-1]["cells"]
    assert bohnet["paper accuracy %"] == ["paper:Bohnet et al. 2025, Blocksworld 3-5, with 5-vote self-critique"]
    rounds_cells = json.loads((report_dir / "tables" / "critic_rounds.sources.json").read_text())["rows"][0]["cells"]
    assert rounds_cells["unreadable"] == ["valmeekam:llm+llm/instance-6/seed0#1", "valmeekam:llm+llm/instance-8/seed0#2",
                                          "valmeekam:llm+llm/instance-8/seed0#3"]
    paired = json.loads((report_dir / "tables" / "paired.sources.json").read_text())["rows"][0]
    assert paired["label"] == "llm-only / llm+llm"
    assert paired["cells"]["only A"] == ["valmeekam:llm-only/instance-2/seed0", "valmeekam:llm+llm/instance-2/seed0",
                                         "valmeekam:llm-only/instance-5/seed0", "valmeekam:llm+llm/instance-5/seed0"]

    index = read_csv_cells(report_dir / "tables" / "episodes.csv")
    assert len(index) == 8 * 5 + 4 * 3
    refs = {row["ref"] for row in index}
    assert "bohnet:with-voting/instance-4/seed0" in refs
