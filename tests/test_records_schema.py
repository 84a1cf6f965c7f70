"""The record models: the checked-in JSON Schema is current, every field is described, and the models
refuse what is not a record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from planner_loop.records import (
    SCHEMA_VERSION,
    EpisodeRecord,
    RecordError,
    Usage,
    load_episode_record,
)
from planner_loop.records.__main__ import main as schema_main
from planner_loop.records.schema import record_json_schema, schema_text

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "docs" / "record-schema.json"
V1_EPISODES = Path(__file__).parent / "fixtures" / "runs" / "v1" / "run" / "episodes.jsonl"


def test_checked_in_schema_is_generated_from_the_models() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), (
        "docs/record-schema.json is out of date: run .venv/bin/python -m planner_loop.records")


def test_schema_command_writes_and_checks(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    assert schema_main(["--check", str(target)]) == 1          # absent
    assert schema_main([str(target)]) == 0
    assert schema_main(["--check", str(target)]) == 0
    target.write_text(target.read_text().replace("Calls and tokens", "Calls, tokens"))
    assert schema_main(["--check", str(target)]) == 1


def _properties(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(model, name, prop) for model, definition in schema["$defs"].items()
            for name, prop in definition.get("properties", {}).items()]


def test_every_field_is_described_and_the_episode_and_call_records_are_there() -> None:
    schema = record_json_schema()
    assert {"EpisodeRecord", "RoundRecord", "Usage", "GroundTruth", "VerdictRecord", "Extraction",
            "StrategyRecord", "Budget", "CallRecord"} <= set(schema["$defs"])
    undocumented = [f"{model}.{name}" for model, name, prop in _properties(schema) if not prop.get("description")]
    assert undocumented == []
    version = schema["$defs"]["EpisodeRecord"]["properties"]["schema_version"]
    assert version["const"] == SCHEMA_VERSION == 2


def _v2_line() -> dict[str, Any]:
    return load_episode_record(json.loads(V1_EPISODES.read_text().splitlines()[0])).to_json()


def test_version_2_round_trips_and_is_strict() -> None:
    data = _v2_line()
    assert data["schema_version"] == 2
    assert load_episode_record(data).to_json() == data
    with pytest.raises(RecordError, match=r"episode record field 'instance.colour': Extra inputs"):
        load_episode_record({**data, "instance": {**data["instance"], "colour": "red"}})
    with pytest.raises(RecordError, match=r"episode record field 'termination'"):
        load_episode_record({**data, "termination": "gave-up"})
    with pytest.raises(RecordError, match=r"episode record lacks 'rounds.0.ground_truth'"):
        load_episode_record({**data, "rounds": [{k: v for k, v in data["rounds"][0].items() if k != "ground_truth"}]})


def test_unknown_versions_and_non_objects_are_refused() -> None:
    data = _v2_line()
    with pytest.raises(RecordError, match=r"schema_version 3; this planner-loop reads 1, 2"):
        load_episode_record({**data, "schema_version": 3})
    with pytest.raises(RecordError, match="must be a JSON object"):
        load_episode_record([data])  # type: ignore[arg-type]


def test_usage_sums_keep_unknown_costs_unknown() -> None:
    priced = Usage(calls=1, prompt_tokens=10, completion_tokens=5, cost_usd=0.25)
    unpriced = Usage(calls=2, prompt_tokens=7, completion_tokens=1, reasoning_tokens=3, cost_usd=None)
    assert (priced + priced).cost_usd == 0.5
    total = Usage.total([priced, unpriced, None, Usage.zero()])
    assert (total.calls, total.prompt_tokens, total.completion_tokens) == (3, 17, 6)
    assert total.reasoning_tokens == 3 and total.cost_usd is None and total.total_tokens == 23
    assert Usage.total([priced, Usage.zero()]).cost_usd == 0.25
    assert Usage.total([]) == Usage.zero()
    assert Usage(calls=1, prompt_tokens=None, completion_tokens=None) + Usage.zero() == Usage(
        calls=1, prompt_tokens=0, completion_tokens=0, cost_usd=None)


def test_episode_record_model_is_frozen() -> None:
    record = EpisodeRecord.model_validate(_v2_line())
    with pytest.raises(ValidationError, match="frozen"):
        record.key = "other"  # type: ignore[misc]
