"""Hand-written episode records in the shape docs/internals.md fixes, for the analysis tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

VERIFIERS: dict[str, dict[str, Any]] = {
    "llm-only": {"kind": "none", "feedback": "none", "critic_model": None, "critic_mode": None,
                 "stepwise": False, "votes": 1},
    "llm+llm": {"kind": "llm", "feedback": "binary", "critic_model": "fake", "critic_mode": "detailed",
                "stepwise": False, "votes": 1},
    "llm+sound": {"kind": "symbolic", "feedback": "first-error", "critic_model": None, "critic_mode": None,
                  "stepwise": False, "votes": 1},
}


def episode(
    condition: str,
    system: str,
    instance: int,
    rounds: Sequence[tuple[bool | None, bool | None]],
    *,
    feedback: str | None = None,
    blocks: int = 4,
    optimal_length: int | None = 6,
    seed: int = 0,
    max_rounds: int = 15,
    termination: str | None = None,
    accepted: bool | None = None,
    stepwise: bool = False,
    votes: int = 1,
    instance_set: str = "blocksworld/3-5",
) -> dict[str, Any]:
    """One episode record. ``rounds`` holds ``(ground-truth valid, verdict)`` per round; a ground truth
    of ``None`` stands for a reply with no parsable plan (invalid)."""
    verifier = dict(VERIFIERS[system])
    if feedback is not None:
        verifier["feedback"] = feedback
    verifier["stepwise"] = stepwise
    verifier["votes"] = votes
    records = []
    for number, (truth, verdict) in enumerate(rounds, start=1):
        parsed = truth is not None
        records.append({
            "round": number,
            "messages": [{"role": "user", "content": f"solve instance-{instance}"}],
            "reply": "(pick-up a)" if parsed else "I cannot",
            "plan": ["(pick-up a)"] if parsed else None,
            "parse_error": None if parsed else "no plan found",
            "verdict": {"valid": verdict, "feedback": "", "detail": {}},
            "ground_truth": {"valid": bool(truth), "failed_step": None if truth else 1,
                             "action": None, "unmet_preconditions": [], "unmet_goals": [], "errors": []},
            "call_ids": [f"call-{condition}-{instance}-{number}"],
        })
    last_truth, last_verdict = rounds[-1]
    if accepted is None:
        accepted = last_verdict is True if verifier["kind"] != "none" else True
    if termination is None:
        termination = "accepted" if accepted else "max_rounds"
    return {
        "key": f"{condition}/instance-{instance}/seed{seed}",
        "condition": condition,
        "system": system,
        "verifier": verifier,
        "generator_model": "fake",
        "context_policy": "last",
        "instance": {"id": f"instance-{instance}", "set": instance_set,
                     "problem": f"problems/{instance_set}/instance-{instance}.pddl",
                     "blocks": blocks, "optimal_length": optimal_length},
        "seed": seed,
        "max_rounds": max_rounds,
        "rounds": records,
        "termination": termination,
        "error": None,
        "final": {"round": len(rounds), "valid": bool(last_truth), "accepted": accepted,
                  "critic_valid": last_verdict if verifier["kind"] != "none" else None},
    }


def write_run(directory: Path, episodes: Sequence[dict[str, Any]], *, name: str | None = None) -> Path:
    """Write a run directory (manifest + episodes.jsonl) and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    if name is not None:
        (directory / "manifest.json").write_text(json.dumps({"name": name}) + "\n", encoding="utf-8")
    with (directory / "episodes.jsonl").open("w", encoding="utf-8") as handle:
        for record in episodes:
            handle.write(json.dumps(record) + "\n")
    return directory
