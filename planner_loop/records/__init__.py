"""The typed, versioned run records (bottom layer: imports nothing of planner_loop but ``errors``).

``episodes.jsonl`` holds one :class:`EpisodeRecord` per line (schema version 2); read any line with
:func:`load_episode_record`, which migrates version-1 records; ``calls.jsonl`` one
:class:`CallRecord` per model call. ``docs/record-schema.json`` is the
generated JSON Schema (``python -m planner_loop.records``).
"""

from planner_loop.records.call import CallRecord
from planner_loop.records.episode import (
    SCHEMA_VERSION,
    TERMINATIONS,
    EpisodeRecord,
    Extraction,
    FinalRecord,
    GroundTruth,
    GroundTruthError,
    InstanceRecord,
    Message,
    PromptInfo,
    RoundRecord,
    Termination,
    VerdictRecord,
    VerifierInfo,
)
from planner_loop.records.load import READABLE_VERSIONS, RecordError, load_episode_record, migrate_v1
from planner_loop.records.strategy import Budget, StrategyRecord
from planner_loop.records.usage import Usage

__all__ = [
    "READABLE_VERSIONS", "SCHEMA_VERSION", "TERMINATIONS", "Budget", "CallRecord", "EpisodeRecord", "Extraction",
    "FinalRecord", "GroundTruth", "GroundTruthError", "InstanceRecord", "Message", "PromptInfo",
    "RecordError", "RoundRecord", "StrategyRecord", "Termination", "Usage", "VerdictRecord", "VerifierInfo",
    "load_episode_record", "migrate_v1",
]
