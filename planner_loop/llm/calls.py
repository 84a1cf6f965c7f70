"""The call log: one JSON line per model call (``runs/<run>/calls.jsonl``), plus running totals.

A record is written for every HTTP request that produced replies, every cache hit and every call
that failed for good. Records never contain API keys (the model layer never hands them over).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CallRecord:
    """One model call. ``cache`` is ``read``, ``write``, ``off`` or ``replay``."""

    call_id: str
    role: str
    model: str
    request_hash: str
    params: Mapping[str, Any]
    messages: Sequence[Mapping[str, str]]
    replies: Sequence[str]
    finish_reasons: Sequence[str]
    usage: Mapping[str, int]
    cost_usd: float | None
    latency_s: float
    cache: str
    retries: int
    error: str | None = None
    sample_indices: Sequence[int] = ()
    time: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to ``calls.jsonl`` (shallow: the fields are JSON-ready already)."""
        return {name: getattr(self, name) for name in _RECORD_FIELDS}


_RECORD_FIELDS = tuple(f.name for f in fields(CallRecord))


@dataclass
class CallSummary:
    """Totals over the records a :class:`CallLog` has seen."""

    calls: int = 0
    cache_hits: int = 0
    http_calls: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class CallLog:
    """Append-only JSONL sink (flushed per record); ``path=None`` keeps only the totals."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._totals = CallSummary()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, record: CallRecord) -> None:
        """Append one record and update the totals."""
        line = json.dumps(record.to_json(), ensure_ascii=False, sort_keys=True)
        with self._lock:
            totals = self._totals
            totals.calls += 1
            totals.retries += record.retries
            if record.error is not None:
                totals.failures += 1
            elif record.cache in ("read", "replay"):
                totals.cache_hits += 1
            else:
                totals.http_calls += 1
            totals.prompt_tokens += int(record.usage.get("prompt_tokens", 0))
            totals.completion_tokens += int(record.usage.get("completion_tokens", 0))
            totals.cost_usd += record.cost_usd or 0.0
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as sink:
                    sink.write(line + "\n")

    def summary(self) -> CallSummary:
        """A copy of the running totals."""
        with self._lock:
            return CallSummary(**asdict(self._totals))
