"""Errors a user can cause. The CLI turns each into one clear line and a non-zero exit."""

from __future__ import annotations

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


class ModelError(PlannerLoopError):
    """A model endpoint failed (unreachable, bad key, unknown model, non-retryable HTTP error)."""


class ReplayMissError(ModelError):
    """Replay mode found no cached completion for a request."""
