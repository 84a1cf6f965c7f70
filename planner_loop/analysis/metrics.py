"""The study's measures, each computed from the episode/round frames into a traceable ``Table``.

This module has the accuracy tables and the report's table order; the critic's tables are in
:mod:`~planner_loop.analysis.critic_tables`, the statistics in :mod:`~planner_loop.analysis.intervals`.

Definitions (the same wording appears in each table's description):

- *accuracy*: the final plan is valid by the sound validator (a parse failure or an error counts as
  invalid); 95% Wilson score intervals (``statsmodels`` ``proportion_confint(method="wilson")``).
- *mean rounds*: generator calls per episode (the paper's "average iterations").
- *critic confusion* (Valmeekam et al. 2023, Table 2): TP = critic said valid and the plan is valid;
  FP = critic said valid, plan invalid; TN = critic said invalid, plan invalid; FN = critic said
  invalid, plan valid. TP rate = TP / valid plans, FP rate = FP / invalid plans, TN rate = TN / invalid
  plans, FN rate = FN / valid plans. An unreadable verdict is neither "valid" nor "invalid": it is
  counted in its own column and stays in the denominators.
- *paired comparison*: two conditions on the same instances (instance set, id and seed); exact
  McNemar test on the discordant pairs (``statsmodels`` ``mcnemar(exact=True)``).
- *unsound acceptance*: the driving verifier accepted a plan that is invalid; *gave up*: the loop hit
  its round limit on an instance with a known (so existing) optimal plan.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from typing import Any

import pandas as pd

from planner_loop.analysis.critic_tables import (
    CONFUSION_COLUMNS,
    confusion_cells,
    critic_by_round_table,
    critic_final_table,
    critic_rounds_table,
    soundness_table,
)
from planner_loop.analysis.grouping import LLM_CRITIC, SOUND_KINDS, conditions, describe_verifier, instance_count, refs
from planner_loop.analysis.intervals import mcnemar_exact, percent, wilson_interval
from planner_loop.analysis.records import FEEDBACK_ORDER, RunRecords, natural_key
from planner_loop.analysis.reference import PublishedAccuracy, accuracy_reference, feedback_reference
from planner_loop.analysis.tables import Column, Table

__all__ = [
    "ACCURACY_COLUMNS",
    "CONFUSION_COLUMNS",
    "LLM_CRITIC",
    "PAPER_COLUMNS",
    "SOUND_KINDS",
    "TABLE_BUILDERS",
    "accuracy_table",
    "all_tables",
    "by_blocks_table",
    "by_length_table",
    "by_solvable_table",
    "confusion_cells",
    "critic_by_round_table",
    "critic_final_table",
    "critic_rounds_table",
    "feedback_table",
    "mcnemar_exact",
    "paired_table",
    "percent",
    "soundness_table",
    "wilson_interval",
]


def _group_accuracy_cells(group: pd.DataFrame) -> tuple[list[Any], dict[str, tuple[str, ...]]]:
    n = len(group)
    correct_rows = group[group["final_valid"]]
    correct = len(correct_rows)
    low, high = wilson_interval(correct, n)
    values = [n, correct, percent(correct, n), low, high, float(group["n_rounds"].mean())]
    every = refs(group)
    sources = {
        "n": every, "correct": refs(correct_rows), "accuracy %": every,
        "CI low %": every, "CI high %": every, "mean rounds": every,
    }
    return values, sources


ACCURACY_COLUMNS = (
    Column("n", "int", "episodes (instances x seeds)"),
    Column("correct", "int", "final plan valid by the sound validator"),
    Column("accuracy %", "pct", "correct / n"),
    Column("CI low %", "pct", "95% Wilson interval, lower bound"),
    Column("CI high %", "pct", "95% Wilson interval, upper bound"),
    Column("mean rounds", "mean", "generator calls per episode"),
)
PAPER_COLUMNS = (
    Column("paper", "text", "the published row this condition corresponds to"),
    Column("paper correct", "text", "published correct / n (or %)"),
    Column("paper accuracy %", "pct", "published accuracy"),
    Column("paper mean rounds", "mean", "published average iterations"),
)


def _paper_cells(published: PublishedAccuracy | None) -> tuple[list[Any], dict[str, tuple[str, ...]]]:
    if published is None:
        return [None, None, None, None], {}
    ref = (published.ref,)
    values = [f"{published.study}, {published.table}: {published.label}", published.fraction(),
              published.accuracy_pct, published.mean_rounds]
    return values, {column.name: ref for column in PAPER_COLUMNS}


def accuracy_table(records: RunRecords) -> Table:
    """Accuracy, Wilson interval and mean rounds per condition (cf. Valmeekam Table 1, Bohnet)."""
    episodes = records.episodes
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for condition, group in conditions(records, episodes):
        first = group.iloc[0]
        values, cell_sources = _group_accuracy_cells(group)
        published = accuracy_reference(
            first["study"], first["system"], first["feedback"], stepwise=bool(first["stepwise"]), votes=int(first["votes"]),
            instances=instance_count(group),
        )
        paper_values, paper_sources = _paper_cells(published)
        every = refs(group)
        rows.append((condition, first["system"], describe_verifier(first), first["feedback"], *values, *paper_values))
        sources.append({"condition": every, "system": every, "verifier": every, "feedback": every,
                        **cell_sources, **paper_sources})
    return Table(
        name="accuracy",
        title="Accuracy by condition",
        description=(
            "One row per condition. *correct*: the final plan is valid according to the sound validator "
            "(a reply with no readable plan counts as invalid). The 95% interval is Wilson's. *mean rounds* "
            "counts generator calls per episode. The *paper* columns give the published figure of the row "
            "this condition reproduces (Valmeekam et al. 2023 Table 1 with GPT-4; Bohnet et al. 2025 with "
            "their models): compare shapes, not absolute numbers, when the models differ."
        ),
        columns=(Column("condition", "text"), Column("system", "text"), Column("verifier", "text"),
                 Column("feedback", "text"), *ACCURACY_COLUMNS, *PAPER_COLUMNS),
        rows=tuple(rows),
        sources=tuple(sources),
    )


def feedback_table(records: RunRecords) -> Table:
    """Accuracy by feedback level of the sound verifier (cf. Valmeekam Table 3)."""
    episodes = records.episodes[records.episodes["verifier_kind"].isin(SOUND_KINDS)]
    ranked = sorted(
        conditions(records, episodes),
        key=lambda item: (
            FEEDBACK_ORDER.index(item[1].iloc[0]["feedback"]) if item[1].iloc[0]["feedback"] in FEEDBACK_ORDER
            else len(FEEDBACK_ORDER),
            records.condition_order.index(item[0]),
        ),
    )
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for condition, group in ranked:
        first = group.iloc[0]
        values, cell_sources = _group_accuracy_cells(group)
        paper_values, paper_sources = _paper_cells(feedback_reference(first["study"], first["system"], first["feedback"],
                                                                     instances=instance_count(group)))
        every = refs(group)
        rows.append((first["feedback"], condition, first["verifier_kind"], *values, *paper_values))
        sources.append({"feedback": every, "condition": every, "verifier": every, **cell_sources, **paper_sources})
    return Table(
        name="feedback",
        title="Accuracy by feedback level",
        description=(
            "Conditions driven by the sound validator (or VAL), ordered by how much the feedback says: "
            "*none* (LLM only: the first plan is final), *binary* (valid / invalid), *first-error* (the "
            "first inexecutable action and its unmet preconditions, or the unmet goals), *all-errors* "
            "(every failing action and the unmet goals). Compare with Valmeekam et al. 2023 Table 3, whose "
            "finding was that the detail of the feedback matters little next to having a sound verifier."
        ),
        columns=(Column("feedback", "text"), Column("condition", "text"), Column("verifier", "text"),
                 *ACCURACY_COLUMNS, *PAPER_COLUMNS),
        rows=tuple(rows),
        sources=tuple(sources),
    )


def _breakdown_table(records: RunRecords, column: str, header: str, name: str, title: str, description: str) -> Table:
    episodes = records.episodes[records.episodes[column].notna()]
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for condition, group in conditions(records, episodes):
        for value in sorted(set(int(v) for v in group[column])):
            part = group[group[column].astype(int) == value]
            values, cell_sources = _group_accuracy_cells(part)
            every = refs(part)
            rows.append((condition, value, *values))
            sources.append({"condition": every, header: every, **cell_sources})
    return Table(
        name=name, title=title, description=description,
        columns=(Column("condition", "text"), Column(header, "int"), *ACCURACY_COLUMNS),
        rows=tuple(rows), sources=tuple(sources),
    )


def by_blocks_table(records: RunRecords) -> Table:
    """Accuracy per condition and number of blocks."""
    return _breakdown_table(
        records, "blocks", "blocks", "by_blocks", "Accuracy by problem size",
        "Accuracy per condition and number of blocks in the instance (Wilson 95% intervals). Small cells "
        "have wide intervals; read them as a trend, not a ranking.",
    )


def by_length_table(records: RunRecords) -> Table:
    """Accuracy per condition and optimal plan length."""
    return _breakdown_table(
        records, "optimal_length", "optimal length", "by_length", "Accuracy by optimal plan length",
        "Accuracy per condition and the instance's optimal plan length (from an optimal planner). Longer "
        "optimal plans leave more room for a wrong step.",
    )


SOLVABILITY = ((True, "solvable"), (False, "unsolvable"), (None, "not recorded"))


def by_solvable_table(records: RunRecords) -> Table:
    """Accuracy per condition on solvable and unsolvable instances apart."""
    episodes = records.episodes
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for condition, group in conditions(records, episodes):
        for value, label in SOLVABILITY:
            part = group[group["solvable"].isna()] if value is None else group[group["solvable"] == value]
            if part.empty:
                continue
            values, cell_sources = _group_accuracy_cells(part)
            every = refs(part)
            rows.append((condition, label, *values))
            sources.append({"condition": every, "instances": every, **cell_sources})
    return Table(
        name="by_solvable", title="Accuracy on solvable and unsolvable instances",
        description=(
            "Accuracy per condition, with the instances recorded as unsolvable (their manifest says "
            "`solvable: false`) apart from the others. On an unsolvable instance the answer is correct exactly "
            "when the final reply says that no plan exists; on a solvable one, that answer is wrong. A "
            "generator that always answers \"no plan\" scores 100% on the unsolvable rows and 0% on the others."
        ),
        columns=(Column("condition", "text"), Column("instances", "text"), *ACCURACY_COLUMNS),
        rows=tuple(rows), sources=tuple(sources),
    )


def paired_table(records: RunRecords) -> Table:
    """Exact McNemar test for each pair of conditions run on the same instances."""
    episodes = records.episodes
    by_condition = {
        condition: {
            (row.instance_set, row.instance_id, row.seed): row for row in group.itertuples(index=False)
        }
        for condition, group in conditions(records, episodes)
    }
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for first, second in combinations([c for c in records.condition_order if c in by_condition], 2):
        shared = sorted(set(by_condition[first]) & set(by_condition[second]),
                        key=lambda item: (item[0], natural_key(item[1]), item[2]))
        if not shared:
            continue
        cells: dict[str, list[str]] = {"both": [], "only A": [], "only B": [], "neither": []}
        for instance in shared:
            a, b = by_condition[first][instance], by_condition[second][instance]
            bucket = {(True, True): "both", (True, False): "only A", (False, True): "only B",
                      (False, False): "neither"}[(bool(a.final_valid), bool(b.final_valid))]
            cells[bucket].extend([a.ref, b.ref])
        n = len(shared)
        count = {name: len(refs) // 2 for name, refs in cells.items()}
        accuracy_a = 100.0 * (count["both"] + count["only A"]) / n
        accuracy_b = 100.0 * (count["both"] + count["only B"]) / n
        every = tuple(ref for instance in shared for ref in (by_condition[first][instance].ref,
                                                              by_condition[second][instance].ref))
        rows.append((first, second, n, count["both"], count["only A"], count["only B"], count["neither"],
                     accuracy_a, accuracy_b, accuracy_b - accuracy_a, mcnemar_exact(count["only A"], count["only B"])))
        sources.append({
            "A": every, "B": every, "paired": every, "both": tuple(cells["both"]), "only A": tuple(cells["only A"]),
            "only B": tuple(cells["only B"]), "neither": tuple(cells["neither"]), "accuracy A %": every,
            "accuracy B %": every, "B - A (points)": every,
            "McNemar p": tuple(cells["only A"]) + tuple(cells["only B"]),
        })
    return Table(
        name="paired",
        title="Paired comparisons (exact McNemar)",
        description=(
            "Every pair of conditions run on the same instances (same instance set, id and seed). *only A* "
            "counts instances solved by A and not by B, and so on. The exact McNemar test uses only the two "
            "discordant counts; a small p says the two systems really differ on these instances. With many "
            "pairs, some small p-values arise by chance: correct for multiple comparisons before claiming."
        ),
        columns=(Column("A", "text"), Column("B", "text"), Column("paired", "int"), Column("both", "int"),
                 Column("only A", "int"), Column("only B", "int"), Column("neither", "int"),
                 Column("accuracy A %", "pct"), Column("accuracy B %", "pct"), Column("B - A (points)", "pct"),
                 Column("McNemar p", "pvalue")),
        rows=tuple(rows),
        sources=tuple(sources),
    )


TABLE_BUILDERS: tuple[Callable[[RunRecords], Table], ...] = (
    accuracy_table,
    critic_final_table,
    critic_rounds_table,
    critic_by_round_table,
    feedback_table,
    by_blocks_table,
    by_length_table,
    paired_table,
    soundness_table,
)


def all_tables(records: RunRecords) -> list[Table]:
    """Every table of the report, in report order; ``by_solvable`` only when an instance is unsolvable."""
    builders = list(TABLE_BUILDERS)
    if bool(records.episodes["solvable"].eq(False).any()):
        builders.insert(builders.index(by_length_table) + 1, by_solvable_table)
    return [build(records) for build in builders]
