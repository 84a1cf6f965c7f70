"""Reading an ``episodes.jsonl`` record of any version into the current :class:`EpisodeRecord`.

Version 1 (no ``schema_version`` key) is the format written before records had a schema. It is
migrated on read: ``instance.blocks`` becomes ``instance.sizes.blocks``; the strategy is ``refine``;
round usage counts the recorded call ids (tokens and cost were not recorded: ``null``); absent
optional values get the defaults the analysis always read them with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from planner_loop.errors import UserInputError
from planner_loop.records.episode import SCHEMA_VERSION, EpisodeRecord
from planner_loop.records.usage import Usage

READABLE_VERSIONS: tuple[int, ...] = (1, SCHEMA_VERSION)


class RecordError(UserInputError):
    """An episode record that cannot be read (missing or ill-typed field, unknown version)."""


def load_episode_record(data: Mapping[str, Any]) -> EpisodeRecord:
    """Validate ``data`` (a decoded JSON line) as an episode record, migrating older versions.

    Raises :class:`RecordError` naming the first offending field, e.g. ``episode record lacks
    'final.valid'``; callers add the file and line.
    """
    if not isinstance(data, Mapping):
        raise RecordError("an episode record must be a JSON object")
    version = data.get("schema_version", 1)
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise RecordError(f"episode record has schema_version {version!r}; this planner-loop reads "
                          f"{', '.join(map(str, READABLE_VERSIONS))} (a newer planner-loop wrote it?)")
    if version == 1:
        data = migrate_v1(data)
    try:
        return EpisodeRecord.model_validate(data)
    except ValidationError as error:
        raise RecordError(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "missing":
        return f"episode record lacks '{where}'"
    return f"episode record field '{where}': {first['msg']}"


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def migrate_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    """A version-1 record as a version-2 mapping (not yet validated; required fields left as found)."""
    record = dict(data)
    record["schema_version"] = SCHEMA_VERSION
    system = record.get("system")
    verifier = _dict(record.get("verifier"))
    verifier["kind"] = str(verifier.get("kind") or ("none" if system == "llm-only" else "unknown"))
    verifier["feedback"] = str(verifier.get("feedback") or "none")
    verifier["stepwise"] = bool(verifier.get("stepwise") or False)
    verifier["votes"] = int(verifier.get("votes") or 1)
    record["verifier"] = verifier
    if isinstance(record.get("instance"), Mapping):
        instance = dict(record["instance"])
        blocks = instance.pop("blocks", None)
        instance.setdefault("sizes", {"blocks": blocks} if blocks is not None else {})
        instance.setdefault("solvable", None)
        record["instance"] = instance
    record["seed"] = int(record.get("seed") or 0)
    record.setdefault("strategy", {"name": "refine", "params": {"max_rounds": record.get("max_rounds"),
                                                                "context": record.get("context_policy")}})
    rounds = record.get("rounds")
    if isinstance(rounds, list):
        record["rounds"] = [_round_v1(entry, index) for index, entry in enumerate(rounds, start=1)]
        if all(isinstance(r, Mapping) for r in rounds):
            record.setdefault("usage", Usage.total(Usage.model_validate(r["usage"]) for r in record["rounds"]
                                                   ).model_dump())
    if isinstance(record.get("final"), Mapping):
        final = dict(record["final"])
        if final.get("round") is None:
            final["round"] = len(rounds) if isinstance(rounds, list) else 0
        final["accepted"] = bool(final.get("accepted") or False)
        if "valid" in final:
            final["valid"] = bool(final["valid"])
        record["final"] = final
    return record


def _round_v1(entry: Any, index: int) -> Any:
    if not isinstance(entry, Mapping):
        return entry   # validation reports it
    migrated = dict(entry)
    migrated["round"] = int(migrated.get("round") or index)
    verdict = _dict(migrated.get("verdict"))
    verdict.setdefault("valid", None)
    verdict["feedback"] = str(verdict.get("feedback") or "")
    verdict.setdefault("detail", {})
    migrated["verdict"] = verdict
    truth = _dict(migrated.get("ground_truth"))
    truth["valid"] = bool(truth.get("valid") or False)
    migrated["ground_truth"] = truth
    migrated.setdefault("messages", [])
    migrated.setdefault("reply", "")
    migrated.setdefault("plan", None)
    call_ids = migrated.get("call_ids") or []
    migrated["call_ids"] = list(call_ids)
    migrated.setdefault("extraction", None)
    migrated.setdefault("usage", Usage(calls=len(call_ids), prompt_tokens=None, completion_tokens=None).model_dump())
    return migrated
