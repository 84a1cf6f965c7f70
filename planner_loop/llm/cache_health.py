"""``cache check`` and ``cache repair``: find out whether a response cache file is usable, and mend it.

:func:`check_cache` opens the file read-only, runs sqlite's ``integrity_check`` and reads every entry
back; :func:`repair_cache` copies every entry that still reads into a fresh file, keeps the damaged
original beside it (``NAME.damaged-<time>``) and puts the fresh file in its place. Neither ever
raises a sqlite error: problems are reported as text (a locked file is a :class:`CacheError`).
"""

from __future__ import annotations

import os
import sqlite3
import time
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


def _read_only(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5, isolation_level=None)
    db.execute("PRAGMA busy_timeout=5000")
    return db


def check_cache(path: Path) -> CacheHealth:
    """Check the cache file at ``path`` (which must exist). Raises CacheError when it is locked."""
    if not path.is_file():
        raise CacheError("no response cache file here", source=path)
    problems: list[str] = []
    entries = unreadable = 0
    try:
        db = _read_only(path)
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
        if "locked" in str(error) or "busy" in str(error):
            raise cache_error(path, error, "check") from error
        problems.append(f"sqlite: {error}")
    if unreadable:
        problems.append(f"{unreadable} entries are not readable replies")
    return CacheHealth(path, entries, unreadable, tuple(problems))


def repair_cache(path: Path) -> RepairReport:
    """Rebuild the cache at ``path`` from whatever entries still read. Raises CacheError when locked."""
    if not path.is_file():
        raise CacheError("no response cache file here", source=path)
    fresh = path.with_name(path.name + ".repairing")
    fresh.unlink(missing_ok=True)
    kept = dropped = 0
    rows: list[tuple[str, str, float, str]] = []
    try:
        db = _read_only(path)
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
        if "locked" in str(error) or "busy" in str(error):
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
    damaged = path.with_name(f"{path.name}.damaged-{int(time.time())}")
    os.replace(path, damaged)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.replace(fresh, path)
    for suffix in ("-wal", "-shm"):
        Path(str(fresh) + suffix).unlink(missing_ok=True)
    return RepairReport(path, kept, dropped, damaged)
