"""The LLM critic's tables: confusion against ground truth (final plans, every round, by round) and soundness.

Definitions are in :mod:`planner_loop.analysis.metrics`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from planner_loop.analysis.grouping import LLM_CRITIC, conditions, describe_verifier, instance_count, refs, said_valid
from planner_loop.analysis.intervals import percent, wilson_interval
from planner_loop.analysis.records import RunRecords
from planner_loop.analysis.reference import VALMEEKAM_TABLE2_ACCURACY, critic_reference
from planner_loop.analysis.tables import Column, Table


CONFUSION_COLUMNS = (
    Column("judged", "int", "plans judged by the critic"),
    Column("valid plans", "int", "plans valid by ground truth"),
    Column("invalid plans", "int", "plans invalid by ground truth"),
    Column("TP", "int", "critic valid, plan valid"),
    Column("FP", "int", "critic valid, plan invalid"),
    Column("TN", "int", "critic invalid, plan invalid"),
    Column("FN", "int", "critic invalid, plan valid"),
    Column("unreadable", "int", "critic verdict could not be read"),
    Column("TP rate %", "pct", "TP / valid plans"),
    Column("FP rate %", "pct", "FP / invalid plans"),
    Column("FP rate CI low %", "pct", "95% Wilson interval of the FP rate"),
    Column("FP rate CI high %", "pct", "95% Wilson interval of the FP rate"),
    Column("TN rate %", "pct", "TN / invalid plans"),
    Column("FN rate %", "pct", "FN / valid plans"),
    Column("critic accuracy %", "pct", "(TP + TN) / judged"),
)


def confusion_cells(frame: pd.DataFrame, verdict: str, truth: str) -> tuple[list[Any], dict[str, tuple[str, ...]]]:
    """Confusion counts and rates of verdict column ``verdict`` against ground-truth column ``truth``."""
    said = frame[verdict].astype("boolean")
    valid = frame[truth].astype(bool)
    said_valid = said.eq(True).fillna(False).astype(bool)
    said_invalid = said.eq(False).fillna(False).astype(bool)
    unreadable = said.isna()
    parts = {
        "valid plans": frame[valid], "invalid plans": frame[~valid],
        "TP": frame[said_valid & valid], "FP": frame[said_valid & ~valid],
        "TN": frame[said_invalid & ~valid], "FN": frame[said_invalid & valid], "unreadable": frame[unreadable],
    }
    n_valid, n_invalid = len(parts["valid plans"]), len(parts["invalid plans"])
    tp, fp, tn, fn = (len(parts[name]) for name in ("TP", "FP", "TN", "FN"))
    fp_low, fp_high = wilson_interval(fp, n_invalid)
    values = [len(frame), n_valid, n_invalid, tp, fp, tn, fn, len(parts["unreadable"]),
              percent(tp, n_valid), percent(fp, n_invalid), fp_low, fp_high, percent(tn, n_invalid),
              percent(fn, n_valid), percent(tp + tn, len(frame))]
    every = refs(frame)
    sources = {name: refs(part) for name, part in parts.items()}
    sources.update({
        "judged": every,
        "TP rate %": sources["valid plans"], "FN rate %": sources["valid plans"],
        "FP rate %": sources["invalid plans"], "FP rate CI low %": sources["invalid plans"],
        "FP rate CI high %": sources["invalid plans"], "TN rate %": sources["invalid plans"],
        "critic accuracy %": every,
    })
    return values, sources


def critic_final_table(records: RunRecords) -> Table:
    """The LLM critic's verdict on each episode's final plan vs ground truth (Valmeekam Table 2)."""
    critics = records.episodes[records.episodes["verifier_kind"] == LLM_CRITIC]
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for condition, group in conditions(records, critics):
        first = group.iloc[0]
        values, cell_sources = confusion_cells(group, "final_critic_valid", "final_valid")
        published = critic_reference(first["study"], first["system"], stepwise=bool(first["stepwise"]),
                                     votes=int(first["votes"]), instances=instance_count(group))
        if published is None:
            paper: list[Any] = [None, None, None, None]
            paper_sources: dict[str, tuple[str, ...]] = {}
        else:
            correct, n = VALMEEKAM_TABLE2_ACCURACY
            paper = [
                f"{published.true_positive}/{published.valid_plans}",
                f"{published.false_positive}/{published.invalid_plans}",
                percent(published.false_positive, published.invalid_plans),
                percent(correct, n),
            ]
            paper_sources = {name: (published.ref,) for name in
                             ("paper TP/valid", "paper FP/invalid", "paper FP rate %", "paper critic accuracy %")}
        every = refs(group)
        rows.append((condition, describe_verifier(first), *values, *paper))
        sources.append({"condition": every, "verifier": every, **cell_sources, **paper_sources})
    return Table(
        name="critic_final",
        title="LLM critic on final plans",
        description=(
            "For each condition driven by an LLM critic, the critic's verdict on the plan the loop ended "
            "with, against the sound validator, exactly as Valmeekam et al. 2023 define Table 2: TP/FP/TN/FN "
            "by (critic verdict, ground truth); TP and FN rates are over valid plans, FP and TN rates over "
            "invalid plans. The FP rate is the share of wrong plans the critic let through: the number "
            "that decides whether self-critique can be trusted. Unreadable verdicts are counted apart."
        ),
        columns=(Column("condition", "text"), Column("verifier", "text"), *CONFUSION_COLUMNS,
                 Column("paper TP/valid", "text"), Column("paper FP/invalid", "text"),
                 Column("paper FP rate %", "pct"), Column("paper critic accuracy %", "pct")),
        rows=tuple(rows),
        sources=tuple(sources),
    )


def critic_rounds_table(records: RunRecords) -> Table:
    """The LLM critic's verdict on every round's plan vs ground truth."""
    critics = records.rounds[records.rounds["verifier_kind"] == LLM_CRITIC]
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for condition, group in conditions(records, critics):
        first = group.iloc[0]
        values, cell_sources = confusion_cells(group, "verdict_valid", "gt_valid")
        every = refs(group)
        rows.append((condition, describe_verifier(first), *values))
        sources.append({"condition": every, "verifier": every, **cell_sources})
    return Table(
        name="critic_rounds",
        title="LLM critic on every round's plan",
        description=(
            "The same confusion matrix over every verdict the critic gave, not only the last one: each "
            "round of each episode is one judged plan (plans that could not be parsed are invalid by "
            "ground truth). Differences from the final-plan table show how the loop's stopping rule "
            "selects which verdicts matter."
        ),
        columns=(Column("condition", "text"), Column("verifier", "text"), *CONFUSION_COLUMNS),
        rows=tuple(rows),
        sources=tuple(sources),
    )


def critic_by_round_table(records: RunRecords) -> Table:
    """False- and true-positive rate of the LLM critic at each round number."""
    critics = records.rounds[records.rounds["verifier_kind"] == LLM_CRITIC]
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for condition, group in conditions(records, critics):
        for number in sorted(set(group["round"])):
            at = group[group["round"] == number]
            invalid = at[~at["gt_valid"].astype(bool)]
            valid = at[at["gt_valid"].astype(bool)]
            false_pos = invalid[said_valid(invalid)]
            true_pos = valid[said_valid(valid)]
            low, high = wilson_interval(len(false_pos), len(invalid))
            every = refs(at)
            rows.append((condition, int(number), len(at), len(invalid), len(false_pos),
                         percent(len(false_pos), len(invalid)), low, high, len(valid), len(true_pos),
                         percent(len(true_pos), len(valid))))
            sources.append({
                "condition": every, "round": every, "judged": every, "invalid plans": refs(invalid),
                "FP": refs(false_pos), "FP rate %": refs(invalid), "FP rate CI low %": refs(invalid),
                "FP rate CI high %": refs(invalid), "valid plans": refs(valid), "TP": refs(true_pos),
                "TP rate %": refs(valid),
            })
    return Table(
        name="critic_by_round",
        title="LLM critic false-positive rate by round",
        description=(
            "For each LLM-critic condition and round number: how many invalid plans the critic saw in that "
            "round and how many of them it called valid (FP rate, Wilson 95% interval). Later rounds only "
            "contain episodes the critic had not yet accepted, so their denominators shrink."
        ),
        columns=(Column("condition", "text"), Column("round", "int"), Column("judged", "int"),
                 Column("invalid plans", "int"), Column("FP", "int"), Column("FP rate %", "pct"),
                 Column("FP rate CI low %", "pct"), Column("FP rate CI high %", "pct"),
                 Column("valid plans", "int"), Column("TP", "int"), Column("TP rate %", "pct")),
        rows=tuple(rows),
        sources=tuple(sources),
    )


def soundness_table(records: RunRecords) -> Table:
    """Unsound acceptance vs giving up, per condition with a verifier."""
    episodes = records.episodes
    rounds = records.rounds
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for condition, group in conditions(records, episodes):
        first = group.iloc[0]
        every = refs(group)
        has_verifier = first["verifier_kind"] != "none"
        accepted = group[group["final_accepted"]]
        unsound = accepted[~accepted["final_valid"]]
        gave_up = group[(~group["final_accepted"]) & (group["termination"] == "max_rounds")
                        & group["optimal_length"].notna()]
        errors = group[group["termination"] == "error"]
        valid_seen = set(rounds[(rounds["condition"] == condition) & rounds["gt_valid"].astype(bool)]["episode_ref"])
        lost = group[group["ref"].isin(valid_seen) & ~group["final_valid"]]
        if has_verifier:
            values: list[Any] = [len(group), len(accepted), len(unsound), percent(len(unsound), len(accepted)),
                                 len(gave_up), percent(len(gave_up), len(group)), len(lost), len(errors)]
            cell_sources = {"accepted": refs(accepted), "accepted invalid": refs(unsound),
                            "unsound % of accepted": refs(accepted), "gave up (solvable)": refs(gave_up),
                            "gave up %": every, "valid plan lost": refs(lost)}
        else:
            values = [len(group), None, None, None, None, None, len(lost), len(errors)]
            cell_sources = {"valid plan lost": refs(lost)}
        rows.append((condition, describe_verifier(first), *values))
        sources.append({"condition": every, "verifier": every, "n": every, "errors": refs(errors), **cell_sources})
    return Table(
        name="soundness",
        title="Unsound acceptance vs giving up",
        description=(
            "*accepted invalid*: the verifier driving the loop accepted a plan the sound validator rejects "
            "(an unsound acceptance: the system reports success and is wrong). *gave up (solvable)*: the loop "
            "hit its round limit without acceptance on an instance that has a plan. *valid plan lost*: some "
            "round proposed a valid plan but the episode ended on an invalid one (the verifier rejected a "
            "correct plan). *errors*: episodes that ended in an error. A sound verifier can only give up, "
            "never accept wrongly; a critic can do both."
        ),
        columns=(Column("condition", "text"), Column("verifier", "text"), Column("n", "int"),
                 Column("accepted", "int"), Column("accepted invalid", "int"),
                 Column("unsound % of accepted", "pct"), Column("gave up (solvable)", "int"),
                 Column("gave up %", "pct"), Column("valid plan lost", "int"), Column("errors", "int")),
        rows=tuple(rows),
        sources=tuple(sources),
    )
