"""One flat row per round of every episode of a run (the table behind ``export --format csv|parquet``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROW_COLUMNS: tuple[str, ...] = (
    "episode", "condition", "system", "verifier", "feedback", "critic_model", "generator_model", "context_policy",
    "instance_id", "instance_set", "sizes", "optimal_length", "seed", "round", "rounds", "is_final",
    "reply", "plan", "plan_length", "parse_error", "verdict_valid", "feedback_text", "gt_valid", "failed_step",
    "failed_action", "unmet_preconditions", "unmet_goals", "termination", "final_valid", "final_accepted",
    "final_critic_valid", "prompt_tokens", "completion_tokens", "cost_usd",
)


def _sizes(instance: Mapping[str, Any]) -> str:
    sizes = instance.get("sizes")
    if not isinstance(sizes, Mapping):
        sizes = {"blocks": instance["blocks"]} if instance.get("blocks") is not None else {}
    return json.dumps(dict(sizes), sort_keys=True)


def round_rows(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows in the order given; list-valued fields are newline-joined text so CSV stays flat."""
    rows: list[dict[str, Any]] = []
    for record in records:
        verifier = record.get("verifier") or {}
        instance = record.get("instance") or {}
        final = record.get("final") or {}
        rounds = record.get("rounds") or []
        for item in rounds:
            truth = item.get("ground_truth") or {}
            verdict = item.get("verdict") or {}
            usage = item.get("usage") or {}
            plan = item.get("plan")
            rows.append({
                "episode": record.get("key"), "condition": record.get("condition"), "system": record.get("system"),
                "verifier": verifier.get("kind"), "feedback": verifier.get("feedback"),
                "critic_model": verifier.get("critic_model"), "generator_model": record.get("generator_model"),
                "context_policy": record.get("context_policy"), "instance_id": instance.get("id"),
                "instance_set": instance.get("set"), "sizes": _sizes(instance),
                "optimal_length": instance.get("optimal_length"), "seed": record.get("seed"),
                "round": item.get("round"), "rounds": len(rounds), "is_final": item.get("round") == final.get("round"),
                "reply": item.get("reply"), "plan": None if plan is None else "\n".join(plan),
                "plan_length": None if plan is None else len(plan), "parse_error": item.get("parse_error"),
                "verdict_valid": verdict.get("valid"), "feedback_text": verdict.get("feedback"),
                "gt_valid": bool(truth.get("valid")), "failed_step": truth.get("failed_step"),
                "failed_action": truth.get("action"),
                "unmet_preconditions": " ".join(truth.get("unmet_preconditions") or []),
                "unmet_goals": " ".join(truth.get("unmet_goals") or []), "termination": record.get("termination"),
                "final_valid": bool(final.get("valid")), "final_accepted": bool(final.get("accepted")),
                "final_critic_valid": final.get("critic_valid"), "prompt_tokens": usage.get("prompt_tokens"),
                "completion_tokens": usage.get("completion_tokens"), "cost_usd": usage.get("cost_usd"),
            })
    return rows


def rounds_frame(records: Sequence[Mapping[str, Any]]):  # -> pandas.DataFrame
    import pandas as pd

    frame = pd.DataFrame(round_rows(records), columns=list(ROW_COLUMNS))
    for column in ("optimal_length", "seed", "round", "rounds", "plan_length", "failed_step", "prompt_tokens",
                   "completion_tokens"):
        frame[column] = frame[column].astype("Int64")
    for column in ("verdict_valid", "final_critic_valid"):
        frame[column] = frame[column].astype("boolean")
    frame["cost_usd"] = frame["cost_usd"].astype("Float64")
    return frame


def write_csv(records: Sequence[Mapping[str, Any]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rounds_frame(records).to_csv(path, index=False, lineterminator="\n")
    return path


def write_parquet(records: Sequence[Mapping[str, Any]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rounds_frame(records).to_parquet(path, index=False, engine="pyarrow")
    return path
