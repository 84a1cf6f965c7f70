"""Load the ``episodes.jsonl`` of one or more run directories into pandas DataFrames.

The analysis layer reads nothing else from a run (``manifest.json`` only for the experiment's name).
Two frames come out: one row per episode and one row per round. Rows are sorted by a fixed key (run,
condition order, instance, seed, round), never by the order in which a concurrent run happened to
finish its episodes, so every table built from them is deterministic.

Records are read through :func:`planner_loop.records.load_episode_record` (any schema version).
Every row carries a ``ref``: ``"<run>:<episode key>"`` for episodes and ``"<run>:<key>#<round>"`` for
rounds. Tables record these refs per cell, which is how a number is traced back to its records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from planner_loop.errors import UserInputError
from planner_loop.records import EpisodeRecord, RecordError, load_episode_record

SYSTEM_ORDER: tuple[str, ...] = ("llm-only", "llm+llm", "llm+sound", "llm+val")
FEEDBACK_ORDER: tuple[str, ...] = ("none", "binary", "first-error", "all-errors")
KNOWN_STUDIES: tuple[str, ...] = ("valmeekam2023", "bohnet2025")

EPISODE_COLUMNS: tuple[str, ...] = (
    "run", "ref", "key", "condition", "condition_name", "study", "system", "verifier_kind", "feedback",
    "critic_model", "critic_mode", "stepwise", "votes", "generator_model", "context_policy",
    "instance_id", "instance_set", "problem", "blocks", "optimal_length", "seed", "max_rounds",
    "n_rounds", "termination", "error", "final_round", "final_valid", "final_accepted",
    "final_critic_valid", "final_parsed", "solvable", "strategy", "calls", "prompt_tokens", "completion_tokens",
    "cost_usd",
)
ROUND_COLUMNS: tuple[str, ...] = (
    "run", "ref", "episode_ref", "key", "condition", "study", "system", "verifier_kind", "feedback",
    "critic_mode", "stepwise", "votes", "instance_id", "instance_set", "blocks", "optimal_length",
    "seed", "round", "n_rounds", "is_final", "plan_parsed", "plan_length", "verdict_valid", "gt_valid",
    "failed_step", "calls",
)


@dataclass(frozen=True)
class RunRecords:
    """The episodes and rounds of one or more runs, plus what each run's manifest said it was."""

    episodes: pd.DataFrame
    rounds: pd.DataFrame
    runs: tuple[str, ...]                      # run labels, in the order given
    run_paths: Mapping[str, str]               # label -> directory as given by the user
    studies: Mapping[str, str | None]          # label -> study the run reproduces (None: unknown)
    condition_order: tuple[str, ...]           # display order of the ``condition`` column


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key that orders ``instance-2`` before ``instance-10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def load_runs(run_dirs: Sequence[Path | str]) -> RunRecords:
    """Read every run directory's ``episodes.jsonl`` into one pair of frames.

    Raises ``UserInputError`` (with file and line) for a missing file, a malformed record or a
    duplicated episode key. A final line cut short by a killed run (no trailing newline, not JSON) is
    skipped, as the run itself would redo that episode on resume.
    """
    if not run_dirs:
        raise UserInputError("no run directory given")
    labels = _run_labels([Path(d) for d in run_dirs])
    episode_rows: list[dict[str, Any]] = []
    round_rows: list[dict[str, Any]] = []
    studies: dict[str, str | None] = {}
    run_paths: dict[str, str] = {}
    for label, run_dir in labels:
        run_paths[label] = str(run_dir)
        records = read_episode_records(run_dir)
        study = _study_of(run_dir, records)
        studies[label] = study
        for line, raw in records:
            try:
                record = load_episode_record(raw)
            except RecordError as error:
                raise UserInputError(error.message, source=run_dir / "episodes.jsonl", line=line) from None
            episode, rounds = _flatten(record, run=label, study=study)
            episode_rows.append(episode)
            round_rows.extend(rounds)

    episodes = pd.DataFrame(episode_rows, columns=list(EPISODE_COLUMNS))
    rounds_df = pd.DataFrame(round_rows, columns=list(ROUND_COLUMNS))
    # verdicts are three-valued (valid, invalid, unreadable): keep them as nullable booleans
    episodes["final_critic_valid"] = episodes["final_critic_valid"].astype("boolean")
    rounds_df["verdict_valid"] = rounds_df["verdict_valid"].astype("boolean")
    for frame, columns in ((episodes, ("final_valid", "final_accepted", "stepwise")), (rounds_df, ("gt_valid", "is_final", "plan_parsed", "stepwise"))):
        for column in columns:
            frame[column] = frame[column].astype(bool)
    episodes, rounds_df, order = _label_conditions(episodes, rounds_df, [label for label, _ in labels])
    return RunRecords(
        episodes=episodes,
        rounds=rounds_df,
        runs=tuple(label for label, _ in labels),
        run_paths=run_paths,
        studies=studies,
        condition_order=order,
    )


def read_episode_records(run_dir: Path) -> list[tuple[int, dict[str, Any]]]:
    """Return ``(line number, record)`` for each episode of a run directory."""
    path = run_dir / "episodes.jsonl"
    if not run_dir.is_dir():
        raise UserInputError("not a run directory", source=run_dir)
    if not path.is_file():
        raise UserInputError("no episodes.jsonl in this run directory", source=run_dir)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        number = data.count(b"\n", 0, error.start) + 1
        if b"\n" in data[error.start:] or data.endswith(b"\n"):
            raise UserInputError("not UTF-8 text", source=path, line=number) from None
        text = data[:data.rfind(b"\n") + 1].decode("utf-8", errors="replace")   # a torn last line: dropped
    lines = text.split("\n")
    records: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as error:
            is_cut_tail = number == len(lines) and not text.endswith("\n")
            if is_cut_tail:
                continue
            raise UserInputError(f"not a JSON episode record ({error.msg})", source=path, line=number) from None
        if not isinstance(record, dict):
            raise UserInputError("an episode record must be a JSON object", source=path, line=number)
        key = record.get("key")
        if not isinstance(key, str):
            raise UserInputError("episode record has no string 'key'", source=path, line=number)
        if key in seen:
            raise UserInputError(f"episode {key!r} recorded twice (first on line {seen[key]})", source=path, line=number)
        seen[key] = number
        records.append((number, record))
    return records


def _run_labels(run_dirs: list[Path]) -> list[tuple[str, Path]]:
    """Label each run by its directory name; runs whose names clash all get parent folders added."""
    parts = [run_dir.resolve().parts for run_dir in run_dirs]
    if len(set(parts)) != len(parts):
        duplicate = next(d for d, p in zip(run_dirs, parts, strict=True) if parts.count(p) > 1)
        raise UserInputError("the same run directory was given twice", source=duplicate)
    depths = [1] * len(parts)

    def label(index: int) -> str:
        return "/".join(parts[index][-depths[index]:])

    while True:
        labels = [label(i) for i in range(len(parts))]
        clashing = [i for i, text in enumerate(labels) if labels.count(text) > 1]
        if not clashing:
            return list(zip(labels, run_dirs, strict=True))
        for index in clashing:
            depths[index] = min(depths[index] + 1, len(parts[index]))


def _study_of(run_dir: Path, records: list[tuple[int, dict[str, Any]]]) -> str | None:
    """Which published study a run reproduces: from the manifest's experiment name, else its conditions."""
    manifest_path = run_dir / "manifest.json"
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise UserInputError(f"manifest is not JSON ({error.msg})", source=manifest_path, line=error.lineno) from None
        for name in _candidate_names(manifest):
            for study in KNOWN_STUDIES:
                if study in name.lower():
                    return study
    # No name to go by: a step-wise or voting critic, or failure memory, is the counterpoint's setup.
    for _, record in records:
        verifier = record.get("verifier") or {}
        if verifier.get("stepwise") or int(verifier.get("votes") or 1) > 1 or record.get("context_policy") == "history":
            return "bohnet2025"
    systems = {record.get("system") for _, record in records}
    if systems & {"llm+llm", "llm+sound", "llm+val", "llm-only"}:
        return "valmeekam2023"
    return None


def _candidate_names(manifest: Any) -> list[str]:
    names: list[str] = []
    if isinstance(manifest, dict):
        for key in ("name", "experiment", "study", "config_path", "config_file"):
            value = manifest.get(key)
            if isinstance(value, str):
                names.append(value)
        config = manifest.get("config")
        if isinstance(config, dict):
            names.extend(_candidate_names(config))
    return names


def _blocks(sizes: Mapping[str, int]) -> int | None:
    """The ``blocks`` column (the size the by-blocks table groups by): blocks, else the object count."""
    return sizes.get("blocks", sizes.get("objects"))


def _flatten(record: EpisodeRecord, *, run: str, study: str | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    verifier = record.verifier
    ref = f"{run}:{record.key}"
    rounds = record.rounds
    final_round = record.final.round
    final_parsed: bool | None = None
    if rounds:
        last = next((r for r in rounds if r.round == final_round), rounds[-1])
        final_parsed = last.plan is not None
    instance = record.instance
    episode: dict[str, Any] = {
        "run": run,
        "ref": ref,
        "key": record.key,
        "condition": record.condition,
        "condition_name": record.condition,
        "study": study,
        "system": record.system,
        "verifier_kind": verifier.kind,
        "feedback": verifier.feedback,
        "critic_model": verifier.critic_model,
        "critic_mode": verifier.critic_mode,
        "stepwise": verifier.stepwise,
        "votes": verifier.votes,
        "generator_model": record.generator_model,
        "context_policy": record.context_policy,
        "instance_id": instance.id,
        "instance_set": instance.set,
        "problem": instance.problem,
        "blocks": _blocks(instance.sizes),
        "optimal_length": instance.optimal_length,
        "seed": record.seed,
        "max_rounds": record.max_rounds,
        "n_rounds": len(rounds),
        "termination": record.termination,
        "error": record.error,
        "final_round": final_round,
        "final_valid": record.final.valid,
        "final_accepted": record.final.accepted,
        "final_critic_valid": record.final.critic_valid,
        "final_parsed": final_parsed,
        "solvable": instance.solvable,
        "strategy": record.strategy.name,
        "calls": record.usage.calls,
        "prompt_tokens": record.usage.prompt_tokens,
        "completion_tokens": record.usage.completion_tokens,
        "cost_usd": record.usage.cost_usd,
    }
    round_rows: list[dict[str, Any]] = []
    for entry in rounds:
        number = entry.round
        round_rows.append({
            "run": run,
            "ref": f"{ref}#{number}",
            "episode_ref": ref,
            "key": record.key,
            "condition": record.condition,
            "study": study,
            "system": episode["system"],
            "verifier_kind": episode["verifier_kind"],
            "feedback": episode["feedback"],
            "critic_mode": episode["critic_mode"],
            "stepwise": episode["stepwise"],
            "votes": episode["votes"],
            "instance_id": episode["instance_id"],
            "instance_set": episode["instance_set"],
            "blocks": episode["blocks"],
            "optimal_length": episode["optimal_length"],
            "seed": episode["seed"],
            "round": number,
            "n_rounds": len(rounds),
            "is_final": number == final_round,
            "plan_parsed": entry.plan is not None,
            "plan_length": len(entry.plan) if entry.plan is not None else None,
            "verdict_valid": entry.verdict.valid,
            "gt_valid": entry.ground_truth.valid,
            "failed_step": entry.ground_truth.failed_step,
            "calls": entry.usage.calls,
        })
    return episode, round_rows


def _condition_sort_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    system = row["system"]
    feedback = row["feedback"]
    return (
        SYSTEM_ORDER.index(system) if system in SYSTEM_ORDER else len(SYSTEM_ORDER),
        system,
        int(row["stepwise"]),
        row["votes"],
        str(row["context_policy"] or ""),
        FEEDBACK_ORDER.index(feedback) if feedback in FEEDBACK_ORDER else len(FEEDBACK_ORDER),
        str(row["critic_mode"] or ""),
        natural_key(row["condition_name"]),
    )


def _label_conditions(
    episodes: pd.DataFrame, rounds: pd.DataFrame, runs: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """Give each (run, condition) a display label, unique across runs, and sort rows deterministically."""
    if episodes.empty:
        return episodes, rounds, ()
    first = episodes.drop_duplicates(["run", "condition_name"])
    clashing = set(first["condition_name"][first["condition_name"].duplicated(keep=False)])
    labels: dict[tuple[str, str], str] = {}
    for row in first.to_dict("records"):
        name = row["condition_name"]
        labels[(row["run"], name)] = f"{row['run']}:{name}" if name in clashing else name
    episodes = episodes.copy()
    episodes["condition"] = [labels[(r, c)] for r, c in zip(episodes["run"], episodes["condition_name"], strict=True)]
    rounds = rounds.copy()
    if not rounds.empty:
        rounds["condition"] = [labels[(r, c)] for r, c in zip(rounds["run"], rounds["condition"], strict=True)]
    ranked = sorted(
        first.assign(condition=[labels[(r, c)] for r, c in zip(first["run"], first["condition_name"], strict=True)])
        .to_dict("records"),
        key=lambda row: (runs.index(row["run"]), _condition_sort_key(row)),
    )
    order = tuple(row["condition"] for row in ranked)
    rank = {name: index for index, name in enumerate(order)}

    def episode_key(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
        return [
            (rank[c], natural_key(s), natural_key(i), seed, natural_key(k))
            for c, s, i, seed, k in zip(
                frame["condition"], frame["instance_set"], frame["instance_id"], frame["seed"], frame["key"], strict=True
            )
        ]

    episodes = episodes.iloc[_argsort(episode_key(episodes))].reset_index(drop=True)
    if not rounds.empty:
        keys = [(*k, n) for k, n in zip(episode_key(rounds), rounds["round"], strict=True)]
        rounds = rounds.iloc[_argsort(keys)].reset_index(drop=True)
    return episodes, rounds, order


def _argsort(keys: list[tuple[Any, ...]]) -> list[int]:
    return sorted(range(len(keys)), key=keys.__getitem__)
