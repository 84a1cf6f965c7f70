"""Strategies compared at their cost: accuracy against calls and tokens per episode, the Pareto
frontier (table and plot), accuracy at matched budgets, paired exact McNemar tests, critic FPR.

Written into the report only when the runs hold a strategy other than ``refine``. Accuracy is the
sound validator's verdict on each episode's answer (``final.valid``), as everywhere in the report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import pandas as pd

from planner_loop.analysis.grouping import LLM_CRITIC, conditions, refs, said_valid
from planner_loop.analysis.intervals import mcnemar_exact, percent, wilson_interval
from planner_loop.analysis.records import RunRecords
from planner_loop.analysis.tables import Column, Table

Z95 = 1.959963984540054
CALL_BUDGETS = (1, 2, 4, 8, 12, 16, 32)


def _tokens(frame: pd.DataFrame) -> pd.Series:
    return frame["prompt_tokens"].fillna(0).astype(float) + frame["completion_tokens"].fillna(0).astype(float)


def mean_interval(values: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    """Mean and its normal-approximation 95% interval (``None`` parts when too few values)."""
    if not values:
        return None, None, None
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None, None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = Z95 * sd / math.sqrt(n)
    return mean, max(mean - half, 0.0), mean + half


def has_strategies(records: RunRecords) -> bool:
    """Whether any episode ran a strategy other than ``refine``."""
    return bool((records.episodes["strategy"] != "refine").any()) if not records.episodes.empty else False


COST_COLUMNS = (
    Column("condition", "text"), Column("strategy", "text"), Column("episodes", "int"),
    Column("correct", "int", "answer valid by the sound validator"), Column("accuracy %", "pct"),
    Column("CI low %", "pct"), Column("CI high %", "pct"),
    Column("mean calls", "mean", "model calls per episode, critic calls included"), Column("calls CI low", "mean"),
    Column("calls CI high", "mean"), Column("mean tokens", "mean", "prompt plus completion tokens per episode"),
    Column("tokens CI low", "mean"), Column("tokens CI high", "mean"),
    Column("mean cost USD", "mean", "dollars per episode; empty when a price is unknown"),
    Column("budget stops %", "pct", "episodes ended by their budget"),
)


def cost_table(records: RunRecords) -> Table:
    """Accuracy and mean calls, tokens and dollars per episode, per condition."""
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for condition, group in conditions(records, records.episodes):
        n = len(group)
        correct = int(group["final_valid"].astype(bool).sum())
        low, high = wilson_interval(correct, n)
        calls = mean_interval([float(c) for c in group["calls"]])
        tokens = mean_interval(list(_tokens(group)))
        costs = group["cost_usd"]
        cost = None if costs.isna().any() else float(costs.mean())
        budget = percent(int((group["termination"] == "budget").sum()), n)
        rows.append((condition, group.iloc[0]["strategy"], n, correct, percent(correct, n),
                     None if low is None else 100 * low, None if high is None else 100 * high,
                     *calls, *tokens, cost, budget))
        every = refs(group)
        sources.append({column.name: every for column in COST_COLUMNS})
    return Table(
        name="strategy_cost", title="Accuracy against cost, per strategy",
        description=("One row per condition: accuracy (95% Wilson interval) beside the mean model calls and "
                     "tokens an episode spent (95% normal intervals) and its mean dollars. *budget stops*: "
                     "episodes that ended because their budget was spent. self-consistency with select "
                     "oracle asks the sound validator: an upper bound, not a deployable system."),
        columns=COST_COLUMNS, rows=tuple(rows), sources=tuple(sources))


def frontier_table(cost: Table) -> Table:
    """The conditions no other beats on both accuracy and mean tokens (the Pareto frontier)."""
    points = [(i, float(cost.cell(i, "accuracy %") or 0.0), float(cost.cell(i, "mean tokens") or 0.0))
              for i in range(len(cost.rows))]
    on = [i for i, acc, tok in points
          if not any((a >= acc and t <= tok) and (a > acc or t < tok) for j, a, t in points if j != i)]
    on.sort(key=lambda i: points[i][2])
    names = ("condition", "strategy", "accuracy %", "mean tokens", "mean calls", "mean cost USD")
    picked = cost.select(names)
    return Table(
        name="strategy_frontier", title="Pareto frontier: accuracy against mean tokens",
        description=("The conditions for which no other condition is at least as accurate for fewer tokens "
                     "per episode (or more accurate for as many), cheapest first."),
        columns=picked.columns, rows=tuple(picked.rows[i] for i in on), sources=tuple(picked.sources[i] for i in on))


def matched_table(records: RunRecords) -> Table:
    """Accuracy when an episode may spend at most c calls: valid and within c, for each call budget c."""
    episodes = records.episodes
    budgets = [c for c in CALL_BUDGETS if c <= max(int(episodes["calls"].max()), 1)] or [1]
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for condition, group in conditions(records, episodes):
        for budget in budgets:
            within = group[group["final_valid"].astype(bool) & (group["calls"] <= budget)]
            n = len(group)
            low, high = wilson_interval(len(within), n)
            rows.append((condition, group.iloc[0]["strategy"], budget, n, len(within), percent(len(within), n),
                         None if low is None else 100 * low, None if high is None else 100 * high))
            sources.append({"condition": refs(group), "correct within": refs(within)})
    return Table(
        name="strategy_matched", title="Accuracy at matched call budgets",
        description=("For each call budget c, the share of episodes whose answer is valid *and* that spent at "
                     "most c model calls: every strategy held to the same spending. Conditions run under a "
                     "budget smaller than c are as they ran."),
        columns=(Column("condition", "text"), Column("strategy", "text"), Column("call budget", "int"),
                 Column("episodes", "int"), Column("correct within", "int"), Column("accuracy %", "pct"),
                 Column("CI low %", "pct"), Column("CI high %", "pct")),
        rows=tuple(rows), sources=tuple(sources))


def pairs_table(records: RunRecords) -> Table:
    """Exact McNemar test between every two conditions on the instances (and seeds) both ran."""
    episodes = records.episodes
    keyed = {condition: group.set_index(["instance_set", "instance_id", "seed"])
             for condition, group in conditions(records, episodes)}
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for a, b in combinations(keyed, 2):
        shared = keyed[a].index.intersection(keyed[b].index)
        if shared.empty:
            continue
        left = keyed[a].loc[shared, "final_valid"].astype(bool)
        right = keyed[b].loc[shared, "final_valid"].astype(bool)
        only_a, only_b = int((left & ~right).sum()), int((~left & right).sum())
        rows.append((a, b, len(shared), int((left & right).sum()), only_a, only_b, mcnemar_exact(only_a, only_b)))
        every = tuple(keyed[a].loc[shared, "ref"]) + tuple(keyed[b].loc[shared, "ref"])
        sources.append({"A": every, "B": every, "paired": every})
    return Table(
        name="strategy_pairs", title="Paired comparison of strategies (exact McNemar)",
        description=("Every two conditions on the episodes both ran (same instance and seed): both valid, "
                     "only A valid, only B valid, and the two-sided exact McNemar p-value."),
        columns=(Column("A", "text"), Column("B", "text"), Column("paired", "int"), Column("both", "int"),
                 Column("only A", "int"), Column("only B", "int"), Column("p", "pvalue")),
        rows=tuple(rows), sources=tuple(sources))


def critic_table(records: RunRecords) -> Table:
    """False-positive rate of the LLM critic over every round it judged, for conditions that use one."""
    rows_frame = records.rounds
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    critics = rows_frame[rows_frame["verifier_kind"] == LLM_CRITIC] if not rows_frame.empty else rows_frame
    strategy = dict(zip(records.episodes["condition"], records.episodes["strategy"], strict=False))
    for condition, group in conditions(records, critics):
        judged = group[group["verdict_valid"].notna()]
        invalid = judged[~judged["gt_valid"].astype(bool)]
        false_pos = invalid[said_valid(invalid)]
        low, high = wilson_interval(len(false_pos), len(invalid))
        rows.append((condition, strategy.get(condition), len(judged), len(invalid), len(false_pos),
                     percent(len(false_pos), len(invalid)), None if low is None else 100 * low,
                     None if high is None else 100 * high))
        sources.append({"judged": refs(judged), "invalid plans": refs(invalid), "false positives": refs(false_pos)})
    return Table(
        name="strategy_critic", title="LLM critic false-positive rate, per strategy",
        description=("For conditions whose strategy consults the LLM critic: of the judged rounds whose plan "
                     "is invalid by the sound validator, the share the critic called valid (95% Wilson "
                     "interval)."),
        columns=(Column("condition", "text"), Column("strategy", "text"), Column("judged", "int"),
                 Column("invalid plans", "int"), Column("false positives", "int"), Column("FP rate %", "pct"),
                 Column("FP rate CI low %", "pct"), Column("FP rate CI high %", "pct")),
        rows=tuple(rows), sources=tuple(sources))


def strategy_tables(records: RunRecords) -> list[Table]:
    """The strategy tables, or none when every episode ran ``refine``."""
    if not has_strategies(records):
        return []
    cost = cost_table(records)
    return [cost, frontier_table(cost), matched_table(records), pairs_table(records), critic_table(records)]


def plot_frontier(cost: Table, frontier: Table, path: Path) -> Path | None:
    """Accuracy against mean tokens per condition (with intervals), the frontier drawn through its points."""
    # plots sets the Agg backend and the byte-stable save settings every report figure uses
    from planner_loop.analysis.plots import _save as save_figure
    from matplotlib.figure import Figure
    from matplotlib.style import context as style_context

    if not cost.rows:
        return None
    with style_context("default"):
        figure = Figure(figsize=(6.4, 4.4), layout="constrained")
        axes = figure.add_subplot()
        for i in range(len(cost.rows)):
            x, y = float(cost.cell(i, "mean tokens") or 0.0), float(cost.cell(i, "accuracy %") or 0.0)
            xerr = [[x - (cost.cell(i, "tokens CI low") or x)], [(cost.cell(i, "tokens CI high") or x) - x]]
            yerr = [[y - (cost.cell(i, "CI low %") or y)], [(cost.cell(i, "CI high %") or y) - y]]
            axes.errorbar([x], [y], xerr=xerr, yerr=yerr, fmt="o", color="#4c72b0", ecolor="#999999", capsize=3)
            axes.annotate(str(cost.cell(i, "condition")), (x, y), textcoords="offset points", xytext=(4, 4),
                          fontsize=7)
        xs = [float(frontier.cell(i, "mean tokens") or 0.0) for i in range(len(frontier.rows))]
        ys = [float(frontier.cell(i, "accuracy %") or 0.0) for i in range(len(frontier.rows))]
        axes.step(xs, ys, where="post", color="#dd8452", label="Pareto frontier")
        axes.set_xlabel("mean tokens per episode (prompt + completion)")
        axes.set_ylabel("answer valid (%)")
        axes.set_ylim(-2, 105)
        axes.set_title("Accuracy against cost")
        axes.legend(loc="lower right", fontsize=8, frameon=False)
        axes.grid(alpha=0.3)
        return save_figure(figure, path)
