"""The call log: one JSON line per model call (``runs/<run>/calls.jsonl``), plus running totals.

A record (:class:`planner_loop.records.call.CallRecord`) is written for every HTTP request that
produced replies, every cache hit and every call that failed for good. Records never contain API
keys (the model layer never hands them over) and are normalised (no lone surrogates) before they
are written. :func:`read_calls` skips a torn line (a process killed mid-write) instead of failing.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import ValidationError

from planner_loop.llm.textsafety import clean_text
from planner_loop.records.call import CallRecord

__all__ = ["CallLog", "CallLogContents", "CallRecord", "CallSummary", "read_calls"]


@dataclass(frozen=True)
class CallSummary:
    """Totals over the records a :class:`CallLog` has seen; ``unpriced_models`` lists the specs
    whose HTTP calls had no price (their cost is missing from ``cost_usd``)."""

    calls: int = 0
    cache_hits: int = 0
    http_calls: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_prompt_tokens: int = 0
    rate_limited: int = 0
    cost_usd: float = 0.0
    unpriced_models: tuple[str, ...] = ()


class CallLog:
    """Append-only JSONL sink (flushed per record); ``path=None`` keeps only the totals."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._totals = CallSummary()
        self._at_line_start = False
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, record: CallRecord) -> None:
        """Append one record and update the totals."""
        line = clean_text(json.dumps(record.to_json(), ensure_ascii=False, sort_keys=True))
        error, hit = record.error is not None, record.cache in ("read", "replay")
        paid = not error and not hit
        with self._lock:
            t = self._totals
            unpriced = t.unpriced_models
            if paid and record.cost_usd is None and record.model not in unpriced:
                unpriced = tuple(sorted((*unpriced, record.model)))
            self._totals = replace(
                t, calls=t.calls + 1, retries=t.retries + record.retries, failures=t.failures + error,
                cache_hits=t.cache_hits + (hit and not error), http_calls=t.http_calls + paid,
                prompt_tokens=t.prompt_tokens + int(record.usage.get("prompt_tokens", 0)),
                completion_tokens=t.completion_tokens + int(record.usage.get("completion_tokens", 0)),
                reasoning_tokens=t.reasoning_tokens + record.reasoning_tokens,
                cached_prompt_tokens=t.cached_prompt_tokens + record.cached_prompt_tokens,
                cost_usd=t.cost_usd + (record.cost_usd or 0.0), unpriced_models=unpriced)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as sink:
                    if not self._at_line_start:
                        # a torn last line from a killed process must not swallow this record
                        if sink.tell() > 0 and not _ends_with_newline(self.path):
                            sink.write("\n")
                        self._at_line_start = True
                    sink.write(line + "\n")

    def note_rate_limited(self, count: int = 1) -> None:
        """Count 429 replies that were retried (shown by progress displays)."""
        with self._lock:
            self._totals = replace(self._totals, rate_limited=self._totals.rate_limited + count)

    def summary(self) -> CallSummary:
        """The running totals (an immutable value)."""
        with self._lock:
            return self._totals


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as source:
        source.seek(-1, 2)
        return source.read(1) == b"\n"


@dataclass(frozen=True)
class CallLogContents:
    """What :func:`read_calls` found: the records, and the line numbers it had to skip."""

    records: tuple[CallRecord, ...]
    skipped_lines: tuple[int, ...] = ()


def read_calls(path: Path | str) -> CallLogContents:
    """Every readable record of a ``calls.jsonl``; torn or unreadable lines are skipped and listed.

    A missing file reads as empty. Bytes that are not UTF-8 are replaced, never fatal.
    """
    source = Path(path)
    if not source.exists():
        return CallLogContents(records=())
    records: list[CallRecord] = []
    skipped: list[int] = []
    with source.open("r", encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                records.append(CallRecord.model_validate_json(line))
            except (ValidationError, ValueError):
                skipped.append(number)
    return CallLogContents(records=tuple(records), skipped_lines=tuple(skipped))
