"""Cutting a reply into candidate plan blocks, in one pass over its lines.

Kinds of block (each a run of the reply's lines, 1-based line numbers kept):

- ``plan-tags``: the lines between ``[PLAN]`` and the first ``[PLAN END]`` after it (PlanBench's markers;
  either may be missing);
- ``fenced``: the lines of a fenced code block (an unclosed fence runs to the end);
- ``final-answer-heading``: the lines under a heading that announces the answer ("Final plan:",
  "**Actions in the plan:**", "So, the actions in the plan are:", "## Summary"), up to the next
  heading or the end of the list or paragraph that follows it;
- ``numbered-list`` / ``bulleted-list``: a run of list items of one marker kind at one indentation.
  Numbered items continue a list across prose when their numbers follow on; deeper-indented lines
  and items of the other marker kind are the item's explanation (sub-bullets), never items.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_PLAN_START = re.compile(r"\[[ \t]*plan[ \t]*\]", re.IGNORECASE)
_PLAN_END = re.compile(r"\[[ \t]*plan[ \t]+end[ \t]*\]", re.IGNORECASE)
_NUMBERED = re.compile(r"^([ \t]*)(?:#{1,6}[ \t]*)?(?:\*\*|__)?(?:step[ \t]*)?\(?(\d{1,4})[.):\]][ \t]*", re.IGNORECASE)
_BULLET = re.compile(r"^([ \t]*)[-*\u2022+][ \t]+")
_HEADING_WORDS = re.compile(r"[a-z]+")
_FINAL = frozenset({"final", "summary", "summarized", "summarised", "overall", "concise", "complete", "conclusion",
                    "restated", "answer", "solution", "thus", "therefore", "so", "hence", "short", "recap"})
_PLANNISH = frozenset({"plan", "plans", "actions", "action", "steps", "sequence", "moves", "answer", "solution"})


@dataclass(frozen=True)
class Line:
    """One reply line with its 1-based number."""

    number: int
    text: str


@dataclass(frozen=True)
class Block:
    """A candidate plan block: its kind, its item lines and (for headed blocks) the heading."""

    kind: str
    lines: tuple[Line, ...]
    heading: str | None = None
    subitems: int = field(default=0)  # explanation lines inside the block that are not items


def plan_tag_region(text: str) -> tuple[int, int] | None:
    """The character span between ``[PLAN]`` and ``[PLAN END]``, or None without either marker."""
    end = _PLAN_END.search(text)
    if end is not None:
        begin = 0
        for start in _PLAN_START.finditer(text, 0, end.start()):
            begin = start.end()
        return begin, end.start()
    last = None
    for last in _PLAN_START.finditer(text):
        pass
    return (last.end(), len(text)) if last is not None else None


def has_plan_tags(text: str) -> bool:
    """True when the reply holds ``[PLAN]`` or ``[PLAN END]``."""
    return _PLAN_START.search(text) is not None or _PLAN_END.search(text) is not None


def _lines(text: str, first: int = 1) -> list[Line]:
    return [Line(first + i, raw) for i, raw in enumerate(text.split("\n"))]


def tagged_block(text: str) -> Block | None:
    """The ``plan-tags`` block of a reply, if it has one."""
    span = plan_tag_region(text)
    if span is None:
        return None
    begin, end = span
    return Block("plan-tags", tuple(_lines(text[begin:end], text.count("\n", 0, begin) + 1)))


def _bare(text: str) -> str:
    return text.replace("**", "").replace("__", "").replace("`", "").strip().strip("#").strip()


def heading_kind(raw: str) -> str | None:
    """``final`` for a heading that announces the answer, ``plain`` for another heading, else None."""
    if raw[:1].isspace() or _BULLET.match(raw):
        return None  # an indented or bulleted line is an item's explanation, not a heading of the reply
    text = _bare(raw)
    stripped = raw.strip()
    is_heading = (
        stripped.startswith("#")
        or (text.endswith(":") and len(text) <= 80)
        or (stripped.startswith("**") and stripped.endswith("**") and len(text) <= 80)
    )
    if not is_heading or _NUMBERED.match(raw) and not stripped.startswith("#"):
        return None
    words = _HEADING_WORDS.findall(text.lower())
    if len(words) > 14:
        return None
    word_set = set(words)
    if word_set & _PLANNISH and (word_set & _FINAL or "in the plan" in text.lower()):
        return "final"
    return "plain"


def _marker(raw: str) -> tuple[str, int, int] | None:
    """(kind, indent, number) for a list item line."""
    numbered = _NUMBERED.match(raw)
    if numbered and numbered.end() < len(raw):
        return "numbered", len(numbered.group(1).expandtabs(4)), int(numbered.group(2))
    bullet = _BULLET.match(raw)
    if bullet:
        return "bulleted", len(bullet.group(1).expandtabs(4)), 0
    return None


def _fences(lines: list[Line]) -> tuple[list[Block], list[Line]]:
    """The fenced blocks and the lines outside any fence."""
    blocks: list[Block] = []
    outside: list[Line] = []
    inside: list[Line] | None = None
    for line in lines:
        if line.text.lstrip().startswith("```"):
            if inside is None:
                inside = []
            else:
                blocks.append(Block("fenced", tuple(inside)))
                inside = None
            continue
        (outside if inside is None else inside).append(line)
    if inside:
        blocks.append(Block("fenced", tuple(inside)))
    return blocks, outside


class _ListBuilder:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.kind: str | None = None
        self.indent = 0
        self.number = 0
        self.items: list[Line] = []
        self.sub = 0
        self.heading: str | None = None

    def close(self) -> None:
        if self.items and self.kind is not None:
            self.blocks.append(Block(f"{self.kind}-list", tuple(self.items), self.heading, self.sub))
        self.kind, self.items, self.sub = None, [], 0

    def feed(self, line: Line, heading: str | None) -> None:
        marker = _marker(line.text)
        if marker is None:
            if self.kind == "bulleted" and not line.text[:1].isspace():
                self.close()
            elif self.items:
                self.sub += 1
            return
        kind, indent, number = marker
        if self.kind is not None:
            if indent > self.indent or kind != self.kind:
                self.sub += 1
                return
            if kind == "bulleted" or number == self.number + 1:
                self.items.append(line)
                self.number = number
                return
            self.close()
        self.kind, self.indent, self.number, self.items, self.heading = kind, indent, number, [line], heading


def segment(text: str) -> tuple[list[Block], list[Block], list[Block]]:
    """(final-answer blocks, fenced blocks, list blocks) of a reply, each in reply order."""
    fenced, outside = _fences(_lines(text))
    finals: list[Block] = []
    lists = _ListBuilder()
    heading: str | None = None
    collecting: list[Line] | None = None
    collecting_heading = ""
    list_started = False
    for line in outside:
        raw = line.text
        kind = heading_kind(raw) if raw.strip() else None
        if collecting is not None:
            blank = not raw.strip()
            if kind is not None or (blank and collecting and not list_started):
                finals.append(Block("final-answer-heading", tuple(collecting), collecting_heading))
                collecting = None
            elif not blank:
                if _marker(raw) is not None:
                    list_started = True
                elif list_started and not raw[:1].isspace():
                    finals.append(Block("final-answer-heading", tuple(collecting), collecting_heading))
                    collecting = None
                if collecting is not None:
                    collecting.append(line)
        if kind is not None:
            lists.close()
            heading = _bare(raw)
            if kind == "final":
                collecting, collecting_heading, list_started = [], heading, False
                rest = raw.split(":", 1)[1] if ":" in raw else ""
                if _bare(rest):
                    collecting.append(Line(line.number, rest))
            continue
        if raw.strip():
            lists.feed(line, heading)
    if collecting:
        finals.append(Block("final-answer-heading", tuple(collecting), collecting_heading))
    lists.close()
    return finals, fenced, lists.blocks


def iter_lines(text: str) -> Iterator[Line]:
    """Every line of the reply."""
    yield from _lines(text)
