"""``cache check`` and ``cache repair``: find out whether a response cache file is usable, and mend it.

:func:`check_cache` opens the file read-only, runs sqlite's ``integrity_check``, reads every entry
back and, if all is well, takes and drops the write lock (writing nothing); :func:`repair_cache` copies every entry that still reads into a fresh file, keeps the damaged
original beside it (``NAME.damaged-<time>``) and puts the fresh file in its place. Neither ever
raises a sqlite error: problems are reported as text. A file whose write lock another process holds
for longer than ``busy_timeout_s`` is a :class:`CacheError`: ``check`` would otherwise call it usable
(WAL readers are never blocked) and ``repair`` would swap the file under the writer.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from planner_loop.llm.cache import CachedReply, CacheError, cache_error


@dataclass(frozen=True)
class CacheHealth:
    """What :func:`check_cache` found; ``ok`` when there are no problems."""

    path: Path
    entries: int
    unreadable_entries: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RepairReport:
    """What :func:`repair_cache` did."""

    path: Path
    kept: int
    dropped: int
    damaged_copy: Path | None


def _read_only(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=busy_timeout_s,
                         isolation_level=None)
    db.execute(f"PRAGMA busy_timeout={round(busy_timeout_s * 1000)}")
    return db


def _is_lock(error: sqlite3.Error) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def _claim_writes(path: Path, busy_timeout_s: float, doing: str) -> sqlite3.Connection | None:
    """A connection holding the write lock (``BEGIN IMMEDIATE``; nothing is written), or None when the
    file cannot take one for another reason (damaged, read-only). Raises CacheError when it is locked."""
    db: sqlite3.Connection | None = None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=busy_timeout_s,
                             isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as error:
        if db is not None:
            db.close()
        if _is_lock(error):
            raise cache_error(path, error, doing) from error
        return None
    return db


def check_cache(path: Path, *, busy_timeout_s: float = 5.0) -> CacheHealth:
    """Check the cache file at ``path`` (which must exist). Raises CacheError when it is locked."""
    if not path.is_file():
        raise CacheError("no response cache file here", source=path)
    problems: list[str] = []
    entries = unreadable = 0
    try:
        db = _read_only(path, busy_timeout_s)
        try:
            verdicts = [row[0] for row in db.execute("PRAGMA integrity_check")]
            if verdicts != ["ok"]:
                problems.append("sqlite integrity check: " + "; ".join(str(v) for v in verdicts[:5]))
            for key, reply in db.execute("SELECT key, reply FROM responses"):
                entries += 1
                try:
                    CachedReply.from_json(reply)
                except (ValueError, KeyError, TypeError):
                    unreadable += 1
        finally:
            db.close()
    except sqlite3.Error as error:
        if _is_lock(error):
            raise cache_error(path, error, "check") from error
        problems.append(f"sqlite: {error}")
    if unreadable:
        problems.append(f"{unreadable} entries are not readable replies")
    if not problems:  # a healthy file is usable only if its writer lets go (a damaged one is never touched)
        claim = _claim_writes(path, busy_timeout_s, "check")
        if claim is not None:
            claim.close()
    return CacheHealth(path, entries, unreadable, tuple(problems))


def repair_cache(path: Path, *, busy_timeout_s: float = 5.0) -> RepairReport:
    """Rebuild the cache at ``path`` from whatever entries still read. Raises CacheError when locked.

    The write lock on ``path`` is held while the entries are read and copied, and let go just before
    the swap (a connection closed after it could delete the new file's WAL, which goes by name)."""
    if not path.is_file():
        raise CacheError("no response cache file here", source=path)
    fresh = path.with_name(path.name + ".repairing")
    claim = _claim_writes(path, busy_timeout_s, "repair")
    try:
        kept, dropped = _copy_entries(path, fresh, busy_timeout_s)
    except (OSError, sqlite3.Error) as error:   # e.g. a read-only folder: the original is left as it was
        for leftover in (fresh, Path(str(fresh) + "-wal"), Path(str(fresh) + "-shm")):
            with suppress(OSError):
                leftover.unlink(missing_ok=True)
        raise cache_error(path, error, "repair") from None
    finally:
        if claim is not None:
            claim.close()
    damaged = path.with_name(f"{path.name}.damaged-{int(time.time())}")
    os.replace(path, damaged)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.replace(fresh, path)
    for suffix in ("-wal", "-shm"):
        Path(str(fresh) + suffix).unlink(missing_ok=True)
    return RepairReport(path, kept, dropped, damaged)


def _copy_entries(path: Path, fresh: Path, busy_timeout_s: float) -> tuple[int, int]:
    """Copy every entry of ``path`` that still reads into a new file ``fresh``; (kept, dropped)."""
    fresh.unlink(missing_ok=True)
    kept = dropped = 0
    rows: list[tuple[str, str, float, str]] = []
    try:
        db = _read_only(path, busy_timeout_s)
        try:
            cursor = db.execute("SELECT key, model, created, reply FROM responses")
            while True:
                try:
                    row = cursor.fetchone()
                except sqlite3.DatabaseError:
                    dropped += 1  # the rest of a damaged table cannot be walked
                    break
                if row is None:
                    break
                rows.append(row)
        finally:
            db.close()
    except sqlite3.Error as error:
        if _is_lock(error):
            raise cache_error(path, error, "repair") from error
    target = sqlite3.connect(fresh, isolation_level=None)
    try:
        target.execute("PRAGMA journal_mode=WAL")
        target.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, model TEXT NOT NULL, created REAL NOT NULL,"
                       " reply TEXT NOT NULL)")
        target.execute("BEGIN")
        for key, model, created, reply in rows:
            try:
                payload = CachedReply.from_json(reply).to_json()
            except (ValueError, KeyError, TypeError):
                dropped += 1
                continue
            target.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)", (key, model, created, payload))
            kept += 1
        target.execute("COMMIT")
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        target.close()
    return kept, dropped
