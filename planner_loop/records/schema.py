"""The JSON Schema of the run records, generated from the models and checked in as ``docs/record-schema.json``.

Regenerate it after changing a record model with ``python -m planner_loop.records``; a test fails
while the checked-in file differs from the models (``python -m planner_loop.records --check``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from planner_loop.records.call import CallRecord
from planner_loop.records.episode import SCHEMA_VERSION, EpisodeRecord

SCHEMA_FILE = Path("docs") / "record-schema.json"


def record_json_schema() -> dict[str, Any]:
    """One JSON Schema document whose ``$defs`` describe every record model."""
    _, schema = models_json_schema(
        [(EpisodeRecord, "validation"), (CallRecord, "validation")],
        title=f"planner-loop run records, schema version {SCHEMA_VERSION}",
        description="episodes.jsonl: one EpisodeRecord per line; calls.jsonl: one CallRecord per line. Generated from planner_loop.records; "
                    "do not edit by hand.",
    )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    """The file's exact text (sorted keys, two-space indent, final newline)."""
    return json.dumps(record_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
