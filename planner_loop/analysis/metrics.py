"""The study's measures, each computed from the episode/round frames into a traceable ``Table``.

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

from collections.abc import Callable, Iterable
from itertools import combinations
from typing import Any

import pandas as pd
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from planner_loop.analysis.records import FEEDBACK_ORDER, RunRecords, natural_key
from planner_loop.analysis.reference import (
    VALMEEKAM_TABLE2_ACCURACY,
    PublishedAccuracy,
    accuracy_reference,
    critic_reference,
    feedback_reference,
)
from planner_loop.analysis.tables import Column, Table

LLM_CRITIC = "llm"
SOUND_KINDS: frozenset[str] = frozenset({"none", "symbolic", "val"})


def wilson_interval(count: int, n: int) -> tuple[float | None, float | None]:
    """95% Wilson score interval of ``count / n`` as percentages; ``(None, None)`` when ``n == 0``."""
    if n == 0:
        return None, None
    low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
    return 100.0 * float(low), 100.0 * float(high)


def percent(count: int, n: int) -> float | None:
    """``100 * count / n``, or ``None`` for an empty denominator."""
    return None if n == 0 else 100.0 * count / n


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Exact (binomial) McNemar p-value from the two discordant counts."""
    result = mcnemar([[0, only_a], [only_b, 0]], exact=True)
    return float(result.pvalue)


def _refs(frame: pd.DataFrame) -> tuple[str, ...]:
    return tuple(frame["ref"]) if not frame.empty else ()


def _said_valid(rounds: pd.DataFrame) -> pd.Series:
    return rounds["verdict_valid"].astype("boolean").eq(True).fillna(False).astype(bool)


def _describe_verifier(row: pd.Series) -> str:
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


def _conditions(records: RunRecords, frame: pd.DataFrame) -> Iterable[tuple[str, pd.DataFrame]]:
    for condition in records.condition_order:
        group = frame[frame["condition"] == condition]
        if not group.empty:
            yield condition, group


def _group_accuracy_cells(group: pd.DataFrame) -> tuple[list[Any], dict[str, tuple[str, ...]]]:
    n = len(group)
    correct_rows = group[group["final_valid"]]
    correct = len(correct_rows)
    low, high = wilson_interval(correct, n)
    values = [n, correct, percent(correct, n), low, high, float(group["n_rounds"].mean())]
    every = _refs(group)
    sources = {
        "n": every, "correct": _refs(correct_rows), "accuracy %": every,
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
    for condition, group in _conditions(records, episodes):
        first = group.iloc[0]
        values, cell_sources = _group_accuracy_cells(group)
        published = accuracy_reference(
            first["study"], first["system"], first["feedback"], stepwise=bool(first["stepwise"]), votes=int(first["votes"])
        )
        paper_values, paper_sources = _paper_cells(published)
        every = _refs(group)
        rows.append((condition, first["system"], _describe_verifier(first), first["feedback"], *values, *paper_values))
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
    every = _refs(frame)
    sources = {name: _refs(part) for name, part in parts.items()}
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
    for condition, group in _conditions(records, critics):
        first = group.iloc[0]
        values, cell_sources = confusion_cells(group, "final_critic_valid", "final_valid")
        published = critic_reference(first["study"], first["system"], stepwise=bool(first["stepwise"]),
                                     votes=int(first["votes"]))
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
        every = _refs(group)
        rows.append((condition, _describe_verifier(first), *values, *paper))
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
    for condition, group in _conditions(records, critics):
        first = group.iloc[0]
        values, cell_sources = confusion_cells(group, "verdict_valid", "gt_valid")
        every = _refs(group)
        rows.append((condition, _describe_verifier(first), *values))
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
    for condition, group in _conditions(records, critics):
        for number in sorted(set(group["round"])):
            at = group[group["round"] == number]
            invalid = at[~at["gt_valid"].astype(bool)]
            valid = at[at["gt_valid"].astype(bool)]
            false_pos = invalid[_said_valid(invalid)]
            true_pos = valid[_said_valid(valid)]
            low, high = wilson_interval(len(false_pos), len(invalid))
            every = _refs(at)
            rows.append((condition, int(number), len(at), len(invalid), len(false_pos),
                         percent(len(false_pos), len(invalid)), low, high, len(valid), len(true_pos),
                         percent(len(true_pos), len(valid))))
            sources.append({
                "condition": every, "round": every, "judged": every, "invalid plans": _refs(invalid),
                "FP": _refs(false_pos), "FP rate %": _refs(invalid), "FP rate CI low %": _refs(invalid),
                "FP rate CI high %": _refs(invalid), "valid plans": _refs(valid), "TP": _refs(true_pos),
                "TP rate %": _refs(valid),
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


def feedback_table(records: RunRecords) -> Table:
    """Accuracy by feedback level of the sound verifier (cf. Valmeekam Table 3)."""
    episodes = records.episodes[records.episodes["verifier_kind"].isin(SOUND_KINDS)]
    ranked = sorted(
        _conditions(records, episodes),
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
        paper_values, paper_sources = _paper_cells(feedback_reference(first["study"], first["system"], first["feedback"]))
        every = _refs(group)
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
    for condition, group in _conditions(records, episodes):
        for value in sorted(set(int(v) for v in group[column])):
            part = group[group[column].astype(int) == value]
            values, cell_sources = _group_accuracy_cells(part)
            every = _refs(part)
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


def paired_table(records: RunRecords) -> Table:
    """Exact McNemar test for each pair of conditions run on the same instances."""
    episodes = records.episodes
    by_condition = {
        condition: {
            (row.instance_set, row.instance_id, row.seed): row for row in group.itertuples(index=False)
        }
        for condition, group in _conditions(records, episodes)
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


def soundness_table(records: RunRecords) -> Table:
    """Unsound acceptance vs giving up, per condition with a verifier."""
    episodes = records.episodes
    rounds = records.rounds
    rows: list[tuple[Any, ...]] = []
    sources: list[dict[str, tuple[str, ...]]] = []
    for condition, group in _conditions(records, episodes):
        first = group.iloc[0]
        every = _refs(group)
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
            cell_sources = {"accepted": _refs(accepted), "accepted invalid": _refs(unsound),
                            "unsound % of accepted": _refs(accepted), "gave up (solvable)": _refs(gave_up),
                            "gave up %": every, "valid plan lost": _refs(lost)}
        else:
            values = [len(group), None, None, None, None, None, len(lost), len(errors)]
            cell_sources = {"valid plan lost": _refs(lost)}
        rows.append((condition, _describe_verifier(first), *values))
        sources.append({"condition": every, "verifier": every, "n": every, "errors": _refs(errors), **cell_sources})
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
    """Every table of the report, in report order."""
    return [build(records) for build in TABLE_BUILDERS]
