"""Selecting the rows a table cell is computed from: conditions in run order, refs, verifier labels."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from planner_loop.analysis.records import RunRecords

LLM_CRITIC = "llm"
SOUND_KINDS: frozenset[str] = frozenset({"none", "symbolic", "val"})


def refs(frame: pd.DataFrame) -> tuple[str, ...]:
    """The record references (``ref`` column) of ``frame``'s rows."""
    return tuple(frame["ref"]) if not frame.empty else ()


def instance_count(group: pd.DataFrame) -> int:
    """Distinct instances a condition ran (a published figure is only beside a run of its size)."""
    return len(group[["instance_set", "instance_id"]].drop_duplicates())


def said_valid(rounds: pd.DataFrame) -> pd.Series:
    """Rounds whose verdict was *valid* (an unreadable verdict is not)."""
    return rounds["verdict_valid"].astype("boolean").eq(True).fillna(False).astype(bool)


def describe_verifier(row: pd.Series) -> str:
    """A condition's verifier in words (``llm critic (default), step-wise``)."""
    kind = row["verifier_kind"]
    if kind == LLM_CRITIC:
        mode = row["critic_mode"]
        parts = [f"llm critic ({mode if isinstance(mode, str) and mode else 'default'})"]
        if row["stepwise"]:
            parts.append("step-wise")
        if row["votes"] > 1:
            parts.append(f"{row['votes']} votes")
        return ", ".join(parts)
    return str(kind)


def conditions(records: RunRecords, frame: pd.DataFrame) -> Iterable[tuple[str, pd.DataFrame]]:
    """``(condition, rows)`` in the run's condition order, skipping conditions with no rows."""
    for condition in records.condition_order:
        group = frame[frame["condition"] == condition]
        if not group.empty:
            yield condition, group
