"""Expected table cells computed independently (plain Python + statsmodels/scipy) from what each
episode's rounds were, and checks of a report's CSV files against them, cell by cell."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import pytest
from scipy.stats import binomtest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from planner_loop.analysis.tables import read_csv_cells

Rounds = list[tuple[bool | None, bool | None]]   # (ground truth; None = no plan, verdict) per round


@dataclass(frozen=True)
class Cond:
    """One condition: its settings and, per instance, the (truth, verdict) of every round."""

    system: str
    feedback: str
    instances: dict[str, Rounds]
    sizes: dict[str, tuple[int, int]]             # instance -> (blocks, optimal length)
    verifier: str = ""                            # the report's verifier column
    errors: frozenset[str] = field(default=frozenset())
    instance_set: str = "blocksworld/3-5"


def csv_rows(report_dir: Path, name: str) -> list[dict[str, str]]:
    return read_csv_cells(report_dir / "tables" / f"{name}.csv")


def wilson_pct(count: int, n: int) -> tuple[float, float]:
    low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
    return 100 * low, 100 * high


def assert_number(text: str, expected: float | None) -> None:
    if expected is None:
        assert text == "", f"expected an empty cell, got {text!r}"
    else:
        assert text != "", f"expected {expected}, got an empty cell"
        assert float(text) == pytest.approx(expected, abs=5e-5), (text, expected)


def final(rounds: Rounds) -> tuple[bool, bool | None]:
    truth, verdict = rounds[-1]
    return bool(truth), verdict


def accuracy_expectation(instances: dict[str, Rounds]) -> dict[str, float]:
    n = len(instances)
    correct = sum(final(r)[0] for r in instances.values())
    low, high = wilson_pct(correct, n)
    return {"n": n, "correct": correct, "accuracy %": 100 * correct / n, "CI low %": low, "CI high %": high,
            "mean rounds": sum(len(r) for r in instances.values()) / n}


def check_accuracy_cells(row: dict[str, str], expected: dict[str, float]) -> None:
    assert int(row["n"]) == expected["n"]
    assert int(row["correct"]) == expected["correct"]
    for column in ("accuracy %", "CI low %", "CI high %", "mean rounds"):
        assert_number(row[column], expected[column])


def confusion_expectation(pairs: list[tuple[bool | None, bool | None]]) -> dict[str, float | None]:
    tp = sum(1 for truth, said in pairs if truth and said is True)
    fp = sum(1 for truth, said in pairs if not truth and said is True)
    tn = sum(1 for truth, said in pairs if not truth and said is False)
    fn = sum(1 for truth, said in pairs if truth and said is False)
    unreadable = sum(1 for _, said in pairs if said is None)
    valid = sum(1 for truth, _ in pairs if truth)
    invalid = len(pairs) - valid
    low, high = wilson_pct(fp, invalid) if invalid else (None, None)
    return {
        "judged": len(pairs), "valid plans": valid, "invalid plans": invalid, "TP": tp, "FP": fp, "TN": tn,
        "FN": fn, "unreadable": unreadable,
        "TP rate %": 100 * tp / valid if valid else None, "FP rate %": 100 * fp / invalid if invalid else None,
        "FP rate CI low %": low, "FP rate CI high %": high,
        "TN rate %": 100 * tn / invalid if invalid else None, "FN rate %": 100 * fn / valid if valid else None,
        "critic accuracy %": 100 * (tp + tn) / len(pairs),
    }


def check_cells(row: dict[str, str], expected: dict[str, float | None]) -> None:
    for column, value in expected.items():
        assert_number(row[column], value)


def check_all_tables(report_dir: Path, runs: list[dict[str, Cond]]) -> None:
    """Check every non-published cell of every table; ``runs`` in the order given to the report."""
    conditions = [(name, cond) for run in runs for name, cond in run.items()]
    check_accuracy(report_dir, conditions)
    check_critic(report_dir, conditions)
    check_feedback(report_dir, conditions)
    check_breakdowns(report_dir, conditions)
    check_paired(report_dir, conditions)
    check_soundness(report_dir, conditions)


def check_accuracy(report_dir: Path, conditions: list[tuple[str, Cond]]) -> None:
    rows = csv_rows(report_dir, "accuracy")
    assert [r["condition"] for r in rows] == [name for name, _ in conditions]
    for row, (_, cond) in zip(rows, conditions, strict=True):
        assert (row["system"], row["feedback"]) == (cond.system, cond.feedback)
        if cond.verifier:
            assert row["verifier"] == cond.verifier
        check_accuracy_cells(row, accuracy_expectation(cond.instances))


def check_critic(report_dir: Path, conditions: list[tuple[str, Cond]]) -> None:
    critics = [(name, cond) for name, cond in conditions if cond.system == "llm+llm"]
    final_rows = csv_rows(report_dir, "critic_final")
    round_rows = csv_rows(report_dir, "critic_rounds")
    assert [r["condition"] for r in final_rows] == [name for name, _ in critics]
    assert [r["condition"] for r in round_rows] == [name for name, _ in critics]
    by_round = csv_rows(report_dir, "critic_by_round")
    expected_by_round: list[tuple[str, dict[str, float | None]]] = []
    for final_row, round_row, (name, cond) in zip(final_rows, round_rows, critics, strict=True):
        check_cells(final_row, confusion_expectation([final(r) for r in cond.instances.values()]))
        every = [(bool(truth), said) for r in cond.instances.values() for truth, said in r]
        check_cells(round_row, confusion_expectation(every))
        for number in range(1, max(len(r) for r in cond.instances.values()) + 1):
            at = [r[number - 1] for r in cond.instances.values() if len(r) >= number]
            invalid = [said for truth, said in at if not truth]
            valid = [said for truth, said in at if truth]
            fp = sum(1 for said in invalid if said is True)
            tp = sum(1 for said in valid if said is True)
            low, high = wilson_pct(fp, len(invalid)) if invalid else (None, None)
            expected_by_round.append((name, {
                "round": number, "judged": len(at), "invalid plans": len(invalid), "FP": fp,
                "FP rate %": 100 * fp / len(invalid) if invalid else None, "FP rate CI low %": low,
                "FP rate CI high %": high, "valid plans": len(valid), "TP": tp,
                "TP rate %": 100 * tp / len(valid) if valid else None,
            }))
    assert [r["condition"] for r in by_round] == [name for name, _ in expected_by_round]
    for row, (_, expected) in zip(by_round, expected_by_round, strict=True):
        check_cells(row, expected)


FEEDBACK_RANK = {"none": 0, "binary": 1, "first-error": 2, "all-errors": 3}


def check_feedback(report_dir: Path, conditions: list[tuple[str, Cond]]) -> None:
    sound = [(name, cond) for name, cond in conditions if cond.system in ("llm-only", "llm+sound", "llm+val")]
    ordered = sorted(sound, key=lambda item: FEEDBACK_RANK[item[1].feedback])   # stable: report order within a level
    rows = csv_rows(report_dir, "feedback")
    assert [(r["feedback"], r["condition"]) for r in rows] == [(c.feedback, n) for n, c in ordered]
    for row, (_, cond) in zip(rows, ordered, strict=True):
        check_accuracy_cells(row, accuracy_expectation(cond.instances))


def check_breakdowns(report_dir: Path, conditions: list[tuple[str, Cond]]) -> None:
    for table, column, index in (("by_blocks", "blocks", 0), ("by_length", "optimal length", 1)):
        expected = []
        for name, cond in conditions:
            for value in sorted({cond.sizes[i][index] for i in cond.instances}):
                part = {i: r for i, r in cond.instances.items() if cond.sizes[i][index] == value}
                expected.append((name, value, accuracy_expectation(part)))
        rows = csv_rows(report_dir, table)
        assert [(r["condition"], int(r[column])) for r in rows] == [(n, v) for n, v, _ in expected]
        for row, (_, _, cells) in zip(rows, expected, strict=True):
            check_accuracy_cells(row, cells)


def check_paired(report_dir: Path, conditions: list[tuple[str, Cond]]) -> None:
    expected = []
    for (a, cond_a), (b, cond_b) in combinations(conditions, 2):
        shared = sorted(set(cond_a.instances) & set(cond_b.instances)) if cond_a.instance_set == cond_b.instance_set else []
        if not shared:
            continue
        outcome = [(final(cond_a.instances[i])[0], final(cond_b.instances[i])[0]) for i in shared]
        both = sum(1 for x, y in outcome if x and y)
        only_a = sum(1 for x, y in outcome if x and not y)
        only_b = sum(1 for x, y in outcome if y and not x)
        neither = len(outcome) - both - only_a - only_b
        p_value = mcnemar([[both, only_a], [only_b, neither]], exact=True).pvalue
        if only_a + only_b:   # the exact McNemar test is a two-sided binomial test on the discordant pairs
            assert p_value == pytest.approx(binomtest(only_a, only_a + only_b, 0.5).pvalue)
        acc_a, acc_b = 100 * (both + only_a) / len(shared), 100 * (both + only_b) / len(shared)
        expected.append((a, b, [len(shared), both, only_a, only_b, neither, acc_a, acc_b, acc_b - acc_a], p_value))
    rows = csv_rows(report_dir, "paired")
    assert [(r["A"], r["B"]) for r in rows] == [(e[0], e[1]) for e in expected]
    columns = ("paired", "both", "only A", "only B", "neither", "accuracy A %", "accuracy B %", "B - A (points)")
    for row, (_, _, values, p_value) in zip(rows, expected, strict=True):
        for column, value in zip(columns, values, strict=True):
            assert_number(row[column], value)
        assert float(row["McNemar p"]) == pytest.approx(p_value, rel=1e-5)


def check_soundness(report_dir: Path, conditions: list[tuple[str, Cond]]) -> None:
    rows = csv_rows(report_dir, "soundness")
    assert [r["condition"] for r in rows] == [name for name, _ in conditions]
    for row, (_, cond) in zip(rows, conditions, strict=True):
        n = len(cond.instances)
        lost = sum(1 for r in cond.instances.values() if any(t for t, _ in r) and not final(r)[0])
        errors = len(cond.errors)
        if cond.system == "llm-only":
            expected: list[float | None] = [n, None, None, None, None, None, lost, errors]
        else:
            accepted = [i for i, r in cond.instances.items() if final(r)[1] is True and i not in cond.errors]
            unsound = [i for i in accepted if not final(cond.instances[i])[0]]
            gave_up = n - len(accepted) - errors
            expected = [n, len(accepted), len(unsound), 100 * len(unsound) / len(accepted) if accepted else None,
                        gave_up, 100 * gave_up / n, lost, errors]
        columns = ("n", "accepted", "accepted invalid", "unsound % of accepted", "gave up (solvable)", "gave up %",
                   "valid plan lost", "errors")
        for column, value in zip(columns, expected, strict=True):
            assert_number(row[column], value)
