"""Errors a user can cause. The CLI turns each into one clear line and a non-zero exit."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


class PlannerLoopError(Exception):
    """Base of every error planner-loop raises on purpose."""


class UserInputError(PlannerLoopError):
    """Bad input from the user: a file, a setting or an argument. Never shown as a traceback."""

    def __init__(self, message: str, *, source: str | Path | None = None, line: int | None = None) -> None:
        self.message = message
        self.source = str(source) if source is not None else None
        self.line = line
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line: ``file:line: message`` (parts omitted when unknown)."""
        where = self.source or ""
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}" if where else self.message


class PDDLError(UserInputError):
    """A domain or problem file that cannot be used (syntax, undeclared names, unsupported requirement)."""


class PlanSyntaxError(UserInputError):
    """A plan file or plan text that cannot be read."""


class ConfigError(UserInputError):
    """A bad experiment config, model spec or CLI setting."""


class OutputError(UserInputError):
    """An output path that cannot be written: a file in the way, a read-only or full disk, no permission."""


_WRITE_REASONS = {errno.ENOSPC: "no space left on device", errno.EROFS: "read-only file system",
                  errno.EACCES: "permission denied", errno.EPERM: "permission denied",
                  errno.EDQUOT: "disk quota exceeded", errno.ENOTDIR: "part of the path is a file, not a folder",
                  errno.EEXIST: "a file is in the way (a folder is needed)"}


def write_failure_reason(error: OSError) -> str:
    """Why a write failed, in a few words (``read-only file system``, ``no space left on device``...)."""
    return _WRITE_REASONS.get(error.errno or 0, error.strerror or str(error))


def output_error(path: Path | str, error: OSError) -> OutputError:
    """``cannot write PATH: reason``, naming the file the OS named when it names one."""
    return OutputError(f"cannot write {error.filename or path}: {write_failure_reason(error)}")


@contextmanager
def writing_into(folder: Path) -> Iterator[None]:
    """Write into ``folder``; an ``OSError`` becomes :class:`OutputError`. On any error, what the block
    added is removed: the folders it created (``folder`` and missing parents), else the entries it added."""
    top = folder
    while not top.exists() and not top.parent.exists() and top.parent != top:
        top = top.parent
    existed = folder.exists()
    before = {entry.name for entry in folder.iterdir()} if folder.is_dir() else set()
    try:
        yield
    except Exception as error:
        with suppress(OSError):
            if not existed and top.is_dir():
                shutil.rmtree(top)
            elif existed and folder.is_dir():
                for entry in folder.iterdir():
                    if entry.name not in before:
                        shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        if isinstance(error, OSError):
            raise output_error(folder, error) from None
        raise


class ModelError(PlannerLoopError):
    """A model endpoint failed (unreachable, bad key, unknown model, non-retryable HTTP error)."""


class ReplayMissError(ModelError):
    """Replay mode found no cached completion for a request."""
