"""Persistent response cache (sqlite3, WAL) keyed by everything that determines a completion.

The key is the sha256 of canonical JSON of (backend kind, base URL, model, messages, sampling
parameters, sample index) — never timeouts, retries or concurrency. Modes:

- ``read-write`` (default): hits are served, misses go to the model and are stored;
- ``off``: the cache is neither read nor written;
- ``replay``: hits are served, a miss raises :class:`ReplayMissError` (offline table rebuilds).

Only successful completions are stored; errors never are. API keys are not part of any key or value.
Texts are normalised (no lone surrogates) on the way in and on the way out, so a reply that once
broke a writer cannot break a resume. A corrupt or locked file raises :class:`CacheError` (one
line naming the file and ``planner-loop cache check``/``repair``), never a sqlite traceback.
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
from planner_loop.llm.protocol import ChatMessage, SamplingParams, ToolCall
from planner_loop.llm.textsafety import clean_text

CacheMode = Literal["read-write", "off", "replay"]
CACHE_MODES: tuple[str, ...] = ("read-write", "off", "replay")
CACHE_ENV = "PLANNER_LOOP_CACHE"


class CacheError(ConfigError):
    """The response cache file cannot be used (corrupt, locked, unwritable)."""


def cache_error(path: Path, error: BaseException, doing: str) -> CacheError:
    """A one-line CacheError for a sqlite/OS error while ``doing`` something with the cache at ``path``."""
    text = str(error).strip() or type(error).__name__
    if "locked" in text or "busy" in text:
        hint = "another process holds it locked; wait for it to finish"
        if doing not in ("check", "repair"):
            hint += ", or check with `planner-loop cache check`"
    elif "malformed" in text or "not a database" in text or "corrupt" in text:
        hint = f"the file is damaged; run `planner-loop cache repair --cache {path}`"
    elif "readonly" in text.lower() or "read-only" in text.lower() or isinstance(error, PermissionError):
        hint = "the file or its directory is not writable"
    elif "disk" in text and "full" in text or getattr(error, "errno", None) == 28:
        hint = "the disk is full; free space and resume"
    elif isinstance(error, OSError):
        hint = "choose another cache path (--cache or PLANNER_LOOP_CACHE)"
    else:
        hint = f"check it with `planner-loop cache check --cache {path}`"
    return CacheError(f"cannot {doing} response cache: {text} ({hint})", source=path)


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
    reasoning_tokens: int = 0
    cached_prompt_tokens: int = 0
    reasoning_content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    batch_id: str | None = None
    """The Batch API job that answered (its reply is priced at the batch rate when read again)."""

    def to_json(self) -> str:
        """The stored JSON (optional fields only when set, so older entries and newer ones look alike)."""
        data: dict[str, Any] = {"text": clean_text(self.text), "finish_reason": self.finish_reason,
                                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}
        if self.reasoning_tokens:
            data["reasoning_tokens"] = self.reasoning_tokens
        if self.cached_prompt_tokens:
            data["cached_prompt_tokens"] = self.cached_prompt_tokens
        if self.reasoning_content is not None:
            data["reasoning_content"] = clean_text(self.reasoning_content)
        if self.tool_calls:
            data["tool_calls"] = [[call.id, call.name, call.arguments] for call in self.tool_calls]
        if self.batch_id is not None:
            data["batch_id"] = self.batch_id
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> CachedReply:
        """Read a stored entry; raises ValueError (or KeyError/TypeError) for a damaged one."""
        data: dict[str, Any] = json.loads(text)
        thought = data.get("reasoning_content")
        batch_id = data.get("batch_id")
        return cls(text=clean_text(str(data["text"])), finish_reason=str(data["finish_reason"]),
                   prompt_tokens=int(data["prompt_tokens"]), completion_tokens=int(data["completion_tokens"]),
                   reasoning_tokens=int(data.get("reasoning_tokens", 0)),
                   cached_prompt_tokens=int(data.get("cached_prompt_tokens", 0)),
                   reasoning_content=clean_text(thought) if isinstance(thought, str) else None,
                   tool_calls=tuple(ToolCall(str(i), str(n), str(a)) for i, n, a in data.get("tool_calls", ())),
                   batch_id=batch_id if isinstance(batch_id, str) else None)


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

    ``busy_timeout_s`` is how long a write waits for another process's lock before it fails with
    :class:`CacheError` (reads are never blocked by a writer in WAL mode).
    """

    def __init__(self, path: Path | str, mode: str = "read-write", *, busy_timeout_s: float = 30.0) -> None:
        if mode not in CACHE_MODES:
            raise ConfigError(f"cache mode {mode!r} is not one of {', '.join(CACHE_MODES)}")
        self.path = Path(path).expanduser()
        self.mode: str = mode
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=self.busy_timeout_s, check_same_thread=False,
                                     isolation_level=None)
                db.execute(f"PRAGMA busy_timeout={round(self.busy_timeout_s * 1000)}")
                db.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL: durable against a killed process (what a run faces); fsync per checkpoint
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS responses ("
                    " key TEXT PRIMARY KEY, model TEXT NOT NULL, created REAL NOT NULL, reply TEXT NOT NULL)")
            except (sqlite3.Error, OSError) as error:
                raise cache_error(self.path, error, "open") from error
            self._db = db
        return self._db

    def get(self, key: str) -> CachedReply | None:
        """The stored reply for ``key``, or None (always None in mode ``off``)."""
        if self.mode == "off":
            return None
        with self._lock:
            db = self._connect()
            try:
                row = db.execute("SELECT reply FROM responses WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error as error:
                raise cache_error(self.path, error, "read the") from error
        if row is None:
            return None
        try:
            return CachedReply.from_json(row[0])
        except (ValueError, KeyError, TypeError) as error:
            raise cache_error(self.path, ValueError(f"entry {key[:12]} is malformed ({error})"),
                              "read the") from error

    def put(self, key: str, model: str, reply: CachedReply) -> None:
        """Store a successful reply (only in mode ``read-write``)."""
        if self.mode != "read-write":
            return
        payload = reply.to_json()
        with self._lock:
            try:
                self._connect().execute(
                    "INSERT OR REPLACE INTO responses (key, model, created, reply) VALUES (?, ?, ?, ?)",
                    (key, clean_text(model), time.time(), payload))
            except sqlite3.Error as error:
                raise cache_error(self.path, error, "write to the") from error

    def stats(self) -> CacheStats:
        """Entry count, file size and entries per model."""
        with self._lock:
            db = self._connect()
            try:
                entries = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
                by_model = dict(db.execute("SELECT model, COUNT(*) FROM responses GROUP BY model ORDER BY model"))
            except sqlite3.Error as error:
                raise cache_error(self.path, error, "count the") from error
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return CacheStats(path=self.path, entries=int(entries), size_bytes=size, by_model=by_model)

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        with self._lock:
            db = self._connect()
            try:
                count = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
                db.execute("DELETE FROM responses")
                db.execute("VACUUM")
            except sqlite3.Error as error:
                raise cache_error(self.path, error, "clear the") from error
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
