"""PDDL plan files: one ``(action arg ...)`` per line.

Accepted: ``;`` comments (whole-line and trailing), blank lines, any letter case, and the optional
timestamp/duration decoration ``0.001: (pick-up a) [1]``. A malformed line never raises: it becomes a
``PlanLineError``. Step numbers count every non-blank, non-comment line, so a malformed line is still
step k and the steps after it keep their numbers.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from planner_loop.errors import PlanSyntaxError


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One action of a plan (names lower-cased); ``line`` is its line in the source, if any."""

    name: str
    args: tuple[str, ...]
    line: int | None = None

    def to_pddl(self) -> str:
        """``"(unstack a b)"``."""
        return "(" + " ".join((self.name, *self.args)) + ")"


@dataclass(frozen=True, slots=True)
class PlanLineError:
    """A line that is not a plan step: its line number, its step number, its text and why."""

    line: int
    step: int
    text: str
    message: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A sequential plan plus the malformed lines met while reading it."""

    steps: tuple[PlanStep, ...]
    syntax_errors: tuple[PlanLineError, ...] = ()
    source: str | None = None

    def to_pddl(self) -> str:
        """One ``(a x y)`` per line, newline-terminated (empty string for the empty plan)."""
        return "".join(step.to_pddl() + "\n" for step in self.steps)


_STEP = re.compile(
    r"""^\s*
    (?:(?P<time>[0-9]+(?:\.[0-9]*)?)\s*:\s*)?      # optional "0.001:" timestamp
    \(\s*(?P<body>[^()\s]+(?:\s+[^()\s]+)*)\s*\)    # "(name arg ...)"
    (?:\s*\[\s*[0-9]+(?:\.[0-9]*)?\s*\])?           # optional "[1]" duration
    \s*$""",
    re.VERBOSE,
)


def _diagnose(text: str) -> str:
    stripped = text.strip()
    opens, closes = stripped.count("("), stripped.count(")")
    if opens != closes:
        return "unbalanced parentheses"
    if opens == 0:
        return "expected an action in parentheses, like (pick-up a)"
    if opens > 1:
        return "more than one action or nested parentheses on one line"
    if re.search(r"\(\s*\)", stripped):
        return "empty action ()"
    return "unexpected text around the action"


LINE_CACHE_LIMIT = 100_000


def parse_plan(text: str, source: str | None = None, *,
               line_cache: dict[str, tuple[str, tuple[str, ...]]] | None = None) -> Plan:
    """Parse plan text; malformed lines are collected in ``syntax_errors``, never raised.

    ``line_cache`` (optional) carries the parsed ``(name, args)`` of step lines from one call to the
    next: plans of one problem share most of their lines. It grows to ``LINE_CACHE_LIMIT`` entries.
    """
    steps: list[PlanStep] = []
    errors: list[PlanLineError] = []
    # A frozen dataclass's __init__ sets each field through object.__setattr__; filling the slots
    # directly builds the (equally immutable) steps ~1.4x faster, which matters for long plans.
    new_step = object.__new__
    set_name, set_args, set_line = PlanStep.name.__set__, PlanStep.args.__set__, PlanStep.line.__set__  # type: ignore[attr-defined]
    # Plans repeat lines a lot; share the parsed (name, args) of identical lines.
    seen: dict[str, tuple[str, tuple[str, ...]]] = line_cache if line_cache is not None else {}
    if len(seen) >= LINE_CACHE_LIMIT:
        seen = {}
    number = 0
    for line_no, raw in enumerate(text.splitlines(), start=1):
        content = raw.split(";", 1)[0] if ";" in raw else raw
        stripped = content.strip()
        if not stripped:
            continue
        number += 1
        parsed = seen.get(stripped)
        if parsed is None:
            body = stripped[1:-1]
            if stripped[0] != "(" or stripped[-1] != ")" or "(" in body or ")" in body:
                match = _STEP.match(stripped)
                body = match.group("body") if match else ""
            words = body.lower().split()
            if not words:
                errors.append(PlanLineError(line_no, number, raw.strip(), _diagnose(content)))
                continue
            parsed = seen[stripped] = (words[0], tuple(words[1:]))
        step = new_step(PlanStep)
        set_name(step, parsed[0])
        set_args(step, parsed[1])
        set_line(step, line_no)
        steps.append(step)
    return Plan(tuple(steps), tuple(errors), source)


def path_text(path: Path | str) -> str:
    """``str(Path(path))``, without building a Path for a string that is already a normal path."""
    if isinstance(path, str) and path and path != "." and not (
            "//" in path or "/." in path or path.startswith("./") or path.endswith("/")):
        return path
    return str(Path(path))


def _read_bytes(name: str) -> bytes:
    # Raw file descriptor reads: a third of the cost of open().read() on a small file, which is what
    # `planner-loop validate` on many plan files spends most of its time on. Text decoding is left to
    # the caller; parse_plan splits on \r\n and \r itself, as a text-mode file would have.
    fd = os.open(name, os.O_RDONLY)
    try:
        data = os.read(fd, _CHUNK)
        if len(data) == _CHUNK:
            parts = [data]
            while chunk := os.read(fd, _CHUNK):
                parts.append(chunk)
            data = b"".join(parts)
    finally:
        os.close(fd)
    return data


_CHUNK = 1 << 16


def load_plan(path: Path | str, *, line_cache: dict[str, tuple[str, tuple[str, ...]]] | None = None) -> Plan:
    """Read a plan file; raises ``PlanSyntaxError`` only when the file cannot be read at all.

    ``line_cache``: as for :func:`parse_plan`, when many plans are read in a row.
    """
    name = path_text(path)
    try:
        text = _read_bytes(name).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise PlanSyntaxError(f"cannot read plan: {reason}", source=name) from None
    return parse_plan(text, source=name, line_cache=line_cache)
