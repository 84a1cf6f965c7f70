"""Persistent response cache (sqlite3, WAL) keyed by everything that determines a completion.

The key is the sha256 of canonical JSON of (backend kind, base URL, model, messages, sampling
parameters, sample index) — never timeouts, retries or concurrency. Modes:

- ``read-write`` (default): hits are served, misses go to the model and are stored;
- ``off``: the cache is neither read nor written;
- ``replay``: hits are served, a miss raises :class:`ReplayMissError` (offline table rebuilds).

Only successful completions are stored; errors never are. API keys are not part of any key or value.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from planner_loop.errors import ConfigError
from planner_loop.llm.protocol import ChatMessage, SamplingParams

CacheMode = Literal["read-write", "off", "replay"]
CACHE_MODES: tuple[str, ...] = ("read-write", "off", "replay")
CACHE_ENV = "PLANNER_LOOP_CACHE"


def default_cache_path(env: Mapping[str, str]) -> Path:
    """``$PLANNER_LOOP_CACHE`` or ``~/.cache/planner-loop/responses.sqlite``."""
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV]).expanduser()
    return Path.home() / ".cache" / "planner-loop" / "responses.sqlite"


def request_key(kind: str, base_url: str | None, model: str, messages: Sequence[ChatMessage],
                params: SamplingParams, sample_index: int) -> str:
    """sha256 hex of the canonical request identity (``params.n`` is replaced by the sample index)."""
    sampling = params.to_json()
    del sampling["n"]
    identity = {
        "kind": kind,
        "base_url": base_url,
        "model": model,
        "messages": [m.to_json() for m in messages],
        "params": sampling,
        "sample_index": sample_index,
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class CachedReply:
    """What the cache stores for one sample."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class CacheStats:
    """Summary for ``planner-loop cache stats``."""

    path: Path
    entries: int
    size_bytes: int
    by_model: Mapping[str, int]


class ResponseCache:
    """A sqlite response cache at ``path`` in one of :data:`CACHE_MODES`.

    Safe to share between asyncio tasks (and threads: a lock guards the connection) and between
    processes (WAL journal, busy timeout). Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: Path | str, mode: str = "read-write") -> None:
        if mode not in CACHE_MODES:
            raise ConfigError(f"cache mode {mode!r} is not one of {', '.join(CACHE_MODES)}")
        self.path = Path(path).expanduser()
        self.mode: str = mode
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA busy_timeout=30000")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS responses ("
                    " key TEXT PRIMARY KEY, model TEXT NOT NULL, created REAL NOT NULL, reply TEXT NOT NULL)")
            except (sqlite3.Error, OSError) as error:
                raise ConfigError(f"cannot open response cache: {error}", source=self.path) from error
            self._db = db
        return self._db

    def get(self, key: str) -> CachedReply | None:
        """The stored reply for ``key``, or None (always None in mode ``off``)."""
        if self.mode == "off":
            return None
        with self._lock:
            row = self._connect().execute("SELECT reply FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row[0])
        return CachedReply(text=data["text"], finish_reason=data["finish_reason"],
                           prompt_tokens=int(data["prompt_tokens"]), completion_tokens=int(data["completion_tokens"]))

    def put(self, key: str, model: str, reply: CachedReply) -> None:
        """Store a successful reply (only in mode ``read-write``)."""
        if self.mode != "read-write":
            return
        payload = json.dumps({"text": reply.text, "finish_reason": reply.finish_reason,
                              "prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens})
        with self._lock:
            self._connect().execute(
                "INSERT OR REPLACE INTO responses (key, model, created, reply) VALUES (?, ?, ?, ?)",
                (key, model, time.time(), payload))

    def stats(self) -> CacheStats:
        """Entry count, file size and entries per model."""
        with self._lock:
            db = self._connect()
            entries = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
            by_model = dict(db.execute("SELECT model, COUNT(*) FROM responses GROUP BY model ORDER BY model"))
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return CacheStats(path=self.path, entries=int(entries), size_bytes=size, by_model=by_model)

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        with self._lock:
            db = self._connect()
            count = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
            db.execute("DELETE FROM responses")
            db.execute("VACUUM")
        return int(count)

    def close(self) -> None:
        """Close the connection (the object can be reopened by using it again)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
