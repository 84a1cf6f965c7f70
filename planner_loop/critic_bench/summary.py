"""Confusion counts of the critic benchmark, with Wilson intervals, as tables (md/csv), JSON lines and plots.

Positive = the critic says *valid*. On a valid plan: ``tp`` (said valid), ``fn`` (said invalid);
on an invalid plan: ``fp`` (said valid — the error the critic missed), ``tn`` (said invalid).
``unreadable`` verdicts are counted apart and as "not accepted": TPR = tp / valid plans, FPR =
fp / invalid plans, unreadable rate = unreadable / n, each with a 95% Wilson interval.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner_loop.analysis.metrics import wilson_interval
from planner_loop.critic_bench.plans import ERROR_TYPES, POSITIONS


@dataclass(frozen=True)
class Cell:
    """Counts of one (condition, error type[, position]) group."""

    condition: str
    error_type: str
    position: str | None
    n: int
    tp: int
    fp: int
    tn: int
    fn: int
    unreadable: int

    @property
    def valid_plans(self) -> int:
        return self.n if self.error_type == "valid" else 0

    @property
    def invalid_plans(self) -> int:
        return self.n - self.valid_plans

    def rates(self) -> dict[str, float | None]:
        tpr = _rate(self.tp, self.valid_plans)
        fpr = _rate(self.fp, self.invalid_plans)
        unread = _rate(self.unreadable, self.n)
        return {"tpr": tpr[0], "tpr_low": tpr[1], "tpr_high": tpr[2],
                "fpr": fpr[0], "fpr_low": fpr[1], "fpr_high": fpr[2],
                "unreadable_rate": unread[0], "unreadable_low": unread[1], "unreadable_high": unread[2]}

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"condition": self.condition, "error_type": self.error_type}
        if self.position is not None:
            data["position"] = self.position
        data |= {"n": self.n, "tp": self.tp, "fp": self.fp, "tn": self.tn, "fn": self.fn,
                 "unreadable": self.unreadable}
        return data | self.rates()


def _rate(count: int, n: int) -> tuple[float | None, float | None, float | None]:
    if n == 0:
        return None, None, None
    low, high = wilson_interval(count, n)
    return 100.0 * count / n, low, high


def outcome(truth: bool, said: bool | None) -> str:
    """``tp``/``fn``/``fp``/``tn``, or ``unreadable`` when the critic gave no verdict."""
    if said is None:
        return "unreadable"
    return ("tp" if said else "fn") if truth else ("fp" if said else "tn")


def cells(verdicts: Iterable[Mapping[str, Any]], conditions: Sequence[str], *, by_position: bool = False) -> list[Cell]:
    """Counts per (condition, error type) — and per failing-step position with ``by_position``."""
    groups: dict[tuple[str, str, str | None], dict[str, int]] = {}
    for verdict in verdicts:
        position = (verdict["position"] or "-") if by_position else None
        key = (verdict["condition"], verdict["error_type"], position)
        counts = groups.setdefault(key, {"tp": 0, "fp": 0, "tn": 0, "fn": 0, "unreadable": 0})
        counts[outcome(bool(verdict["valid"]), verdict["critic_valid"])] += 1
    order_type = {t: i for i, t in enumerate(ERROR_TYPES)}
    order_pos = {p: i for i, p in enumerate(("-", *POSITIONS))}
    order_cond = {c: i for i, c in enumerate(conditions)}
    result = [Cell(c, t, p, sum(v.values()), v["tp"], v["fp"], v["tn"], v["fn"], v["unreadable"])
              for (c, t, p), v in groups.items()]
    result.sort(key=lambda cell: (order_cond.get(cell.condition, len(order_cond)),
                                  order_type.get(cell.error_type, len(order_type)),
                                  order_pos.get(cell.position or "-", 0)))
    return result


COLUMNS = ("condition", "error_type", "position", "n", "tp", "fp", "tn", "fn", "unreadable",
           "tpr", "tpr_low", "tpr_high", "fpr", "fpr_low", "fpr_high",
           "unreadable_rate", "unreadable_low", "unreadable_high")


def to_csv(rows: Sequence[Cell]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        data = row.to_json()
        writer.writerow(["" if data.get(col) is None else data.get(col) for col in COLUMNS])
    return out.getvalue()


def _pct(value: float | None, low: float | None, high: float | None) -> str:
    return "–" if value is None else f"{value:.1f}% [{low:.1f}, {high:.1f}]"


def to_markdown(rows: Sequence[Cell], *, by_position: bool) -> str:
    head = ["condition", "error type", *(["position"] if by_position else []), "n", "TP", "FP", "TN", "FN",
            "unreadable", "TPR [95% CI]", "FPR [95% CI]", "unreadable rate"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        r = row.rates()
        cells_ = [row.condition, row.error_type, *([row.position or "-"] if by_position else []),
                  str(row.n), str(row.tp), str(row.fp), str(row.tn), str(row.fn), str(row.unreadable),
                  _pct(r["tpr"], r["tpr_low"], r["tpr_high"]), _pct(r["fpr"], r["fpr_low"], r["fpr_high"]),
                  _pct(r["unreadable_rate"], r["unreadable_low"], r["unreadable_high"])]
        lines.append("| " + " | ".join(cells_) + " |")
    return "\n".join(lines) + "\n"


def plot_miss_rates(rows: Sequence[Cell], path: Path, *, by: str) -> Path:
    """Grouped bars of the FPR (invalid plans called valid) per error type or position, per condition."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    invalid = [r for r in rows if r.error_type != "valid"]
    groups = list(dict.fromkeys((r.error_type if by == "error_type" else r.position or "-") for r in invalid))
    conditions = list(dict.fromkeys(r.condition for r in invalid))
    figure = Figure(figsize=(max(5.0, 1.2 * len(groups) + 2), 3.6))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    width = 0.8 / max(len(conditions), 1)
    for index, condition in enumerate(conditions):
        xs, ys, errs_low, errs_high = [], [], [], []
        for g, group in enumerate(groups):
            matching = [r for r in invalid if r.condition == condition
                        and (r.error_type if by == "error_type" else r.position or "-") == group]
            fp = sum(r.fp for r in matching)
            n = sum(r.invalid_plans for r in matching)
            if n == 0:
                continue
            value, low, high = _rate(fp, n)
            xs.append(g + (index - (len(conditions) - 1) / 2) * width)
            ys.append(value)
            errs_low.append(value - (low or 0.0))
            errs_high.append((high or 0.0) - value)
        axes.bar(xs, ys, width=width, yerr=[errs_low, errs_high], capsize=2, label=condition)
    axes.set_xticks(range(len(groups)), groups, rotation=20)
    axes.set_ylim(0, 100)
    axes.set_ylabel("invalid plans called valid (FPR, %)")
    axes.set_title(f"Where the critic misses errors: by {by.replace('_', ' ')}")
    axes.legend(fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150, metadata={"Software": None})
    return path
