"""Bounding and cleaning a model reply before any reader sees it.

Every reader of model text (plan extraction, the critic-verdict reader, PlanBench re-scoring) goes
through :func:`bounded_reply` first, so no reader ever works on more than :data:`MAX_REPLY_CHARS`
characters, :data:`MAX_REPLY_LINES` lines or a line longer than :data:`MAX_LINE_CHARS`, and reasoning traces
(``<think>…</think>``) are gone. All of it is linear-time string scanning, no regexes with nested
quantifiers.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_REPLY_CHARS = 200_000
MAX_LINE_CHARS = 2_000
# Line reading costs ~10 us a line: 10,000 lines (far past any plan a model writes) keep a reply
# under 0.2 s however its characters are spread.
MAX_REPLY_LINES = 10_000
MAX_JSON_DEPTH = 32
_THINK_OPEN = ("<think>", "<thinking>", "<reasoning>")
_THINK_CLOSE = ("</think>", "</thinking>", "</reasoning>")


@dataclass(frozen=True)
class BoundedReply:
    """A reply cut to size with reasoning traces removed; ``notes`` say what was cut."""

    text: str
    notes: tuple[str, ...] = ()


def _cut_thinking(text: str) -> tuple[str, bool]:
    """The reply without ``<think>…</think>`` spans (an unclosed one runs to the end)."""
    lower = text.lower()
    if "<think" not in lower and "</think" not in lower and "<reasoning>" not in lower and "</reasoning>" not in lower:
        return text, False
    # a server that strips the opening tag leaves "...reasoning</think>answer": keep what follows
    last_close = max((lower.rfind(tag) + len(tag) if lower.rfind(tag) >= 0 else -1) for tag in _THINK_CLOSE)
    first_open = min((i for i in (lower.find(tag) for tag in _THINK_OPEN) if i >= 0), default=-1)
    if last_close >= 0 and (first_open < 0 or first_open > last_close):
        return text[last_close:], True
    pieces: list[str] = []
    position = 0
    while True:
        starts = [(i, tag) for tag in _THINK_OPEN if (i := lower.find(tag, position)) >= 0]
        if not starts:
            pieces.append(text[position:])
            break
        start, tag = min(starts)
        pieces.append(text[position:start])
        close_tag = "</" + tag[1:]
        end = lower.find(close_tag, start)
        if end < 0:
            break  # an unclosed trace: the rest is reasoning, not an answer
        position = end + len(close_tag)
    return "".join(pieces), True


def bounded_reply(text: object, *, limit: int = MAX_REPLY_CHARS) -> BoundedReply:
    """``text`` as a string of at most ``limit`` characters, lines capped, think blocks removed."""
    notes: list[str] = []
    if not isinstance(text, str):
        return BoundedReply("", (f"reply is not text but {type(text).__name__}",))
    if len(text) > 4 * limit:
        # the answer of an overlong reply is at its end; thinking spans were already cut off by the cap
        text = text[-4 * limit :]
        notes.append("reply cut to its last characters")
    text, thought = _cut_thinking(text)
    if thought:
        notes.append("reasoning trace ignored")
    if len(text) > limit:
        text = text[-limit:]
        notes.append(f"reply cut to its last {limit} characters")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if len(lines) > MAX_REPLY_LINES:
        lines = lines[-MAX_REPLY_LINES:]
        text = "\n".join(lines)
        notes.append(f"reply cut to its last {MAX_REPLY_LINES} lines")
    if any(len(line) > MAX_LINE_CHARS for line in lines):
        text = "\n".join(line[:MAX_LINE_CHARS] for line in lines)
        notes.append(f"lines cut to {MAX_LINE_CHARS} characters")
    return BoundedReply(text, tuple(notes))


def nesting_depth(text: str, limit: int = MAX_JSON_DEPTH) -> int:
    """The bracket nesting depth of ``text`` (strings skipped), stopping once it passes ``limit``."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif char in "}]" and depth:
            depth -= 1
    return deepest
