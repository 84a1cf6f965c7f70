"""Reading a critic's verdict out of its reply; never guessing.

The rules, first match wins (the reply is bounded and its reasoning trace removed first, see
:func:`planner_loop.domains.reply_text.bounded_reply`; reading stops where the reply starts a new
problem statement — ``[STATEMENT]``, ``[QUERY PROBLEM]``, "As initial conditions I have that" —
since a critic that goes on inventing examples is no longer judging the plan):

1. ``json``: the last top-level JSON object with ``valid``/``is_valid``/``verdict``/``correct``
   (objects nested deeper than ``MAX_JSON_DEPTH`` are not parsed);
2. ``verdict-line``: the last ``Verdict: valid|invalid|yes|no`` line;
3. ``bare``: a reply that is one word (``valid``, ``no``, ...);
4. ``phrase``: sentences such as "the plan is valid", "the plan isn't valid", "this is not a valid
   plan", "the above plan is invalid"; a question ("The plan is valid? No, ...") is read by its answer.
   All phrases must agree, else the reading is ``conflicting`` and the verdict ``None``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from planner_loop.domains.reply_text import MAX_JSON_DEPTH, bounded_reply

_WORDS_TRUE = {"valid", "correct", "yes", "true", "pass", "accept", "accepted"}
_WORDS_FALSE = {"invalid", "incorrect", "no", "false", "fail", "reject", "rejected", "not valid", "not correct"}
_VERDICT_LINE = re.compile(
    r"verdict\W{0,6}(?P<word>not\s+valid|not\s+correct|invalid|incorrect|valid|correct|yes|no)\b", re.IGNORECASE)
_PLAN_PHRASE = re.compile(
    r"\b(?:plan|this|it)(?: is| was| looks| seems| appears)(?P<neg1>n't| not)?(?: to be)?(?P<neg2> not)?(?: an?)?"
    r" (?P<word>valid|correct|invalid|incorrect)\b(?: plan\b)?(?P<question> ?\?(?: (?P<answer>yes|no)\b)?)?",
    re.IGNORECASE)
_BARE = re.compile(r"^\W*(?P<word>valid|invalid|yes|no|correct|incorrect)\W*$", re.IGNORECASE)
_NEW_PROBLEM = re.compile(
    r"\[STATEMENT\]|\[QUERY PROBLEM\]|\[DOMAIN\]|\[VERIFICATION\]|\[PLAN\]|As initial conditions I have that", re.IGNORECASE)
_MAX_OBJECTS = 64


@dataclass(frozen=True)
class CriticReading:
    """What was read from one critic reply: verdict (or None), feedback text, and how it was read."""

    valid: bool | None
    feedback: str
    reading: str      # json | verdict-line | phrase | bare | unreadable | conflicting | reader-error


def _word_verdict(word: str) -> bool | None:
    word = " ".join(word.lower().split())
    if word in _WORDS_TRUE:
        return True
    if word in _WORDS_FALSE:
        return False
    return None


def _top_level_objects(text: str) -> list[tuple[int, int]]:
    """Spans of top-level ``{...}`` groups no deeper than ``MAX_JSON_DEPTH``, in one pass."""
    spans: list[tuple[int, int]] = []
    depth = deepest = start = 0
    in_string = escaped = False
    for match in re.finditer(r'[{}\[\]"\\]', text):
        char, at = match.group(), match.start()
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = at + 1 < len(text)
            elif char == '"':
                in_string = False
            continue
        if escaped:
            escaped = False
            continue
        if char == '"':
            in_string = depth > 0
        elif char in "{[":
            if depth == 0:
                if char != "{":
                    continue
                start, deepest = at, 0
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
            if depth == 0 and deepest <= MAX_JSON_DEPTH:
                spans.append((start, at + 1))
                if len(spans) > _MAX_OBJECTS:
                    spans.pop(0)
    return spans


def _json_objects(text: str) -> list[dict[str, Any]]:
    found = []
    if "{" not in text:
        return found
    for start, end in _top_level_objects(text):
        try:
            value = json.loads(text[start:end])
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def _json_verdict(obj: Mapping[str, Any]) -> bool | None:
    for key in ("valid", "is_valid", "verdict", "correct"):
        if key in obj:
            value = obj[key]
            if isinstance(value, bool):
                return value
            if isinstance(value, str):
                return _word_verdict(value)
    return None


def _phrase_verdicts(text: str) -> list[bool]:
    flat = " ".join(text.split())
    verdicts = []
    for match in _PLAN_PHRASE.finditer(flat):
        word = match["word"].lower()
        positive = word in ("valid", "correct")
        if match["neg1"] or match["neg2"]:
            positive = not positive
        if match["question"]:
            if match["answer"] is None:
                continue  # a question without its answer is no verdict
            positive = match["answer"].lower() == "yes"
        verdicts.append(positive)
    return verdicts


def judged_part(text: str) -> str:
    """The reply up to where it starts a new problem statement (the whole reply if it never does)."""
    match = _NEW_PROBLEM.search(text, 1)
    while match is not None and not text[: match.start()].strip():
        match = _NEW_PROBLEM.search(text, match.end())
    return text[: match.start()] if match is not None else text


def read_verdict(text: str) -> CriticReading:
    """Read a critic's verdict robustly; never guess; never raises for any text.

    The part before a new statement or plan is read first; only when it holds no verdict is the
    whole reply read (a critic that restates the plan before judging it).
    """
    whole = bounded_reply(text).text
    part = judged_part(whole)
    reading = _read(part)
    if part is whole or reading.valid is not None:
        return reading
    return _read(whole)


def _read(text: str) -> CriticReading:
    for obj in reversed(_json_objects(text)):
        verdict = _json_verdict(obj)
        if verdict is not None:
            feedback = obj.get("feedback") or obj.get("analysis") or ""
            return CriticReading(verdict, str(feedback).strip(), "json")
    lines = _VERDICT_LINE.findall(text)
    if lines:
        verdict = _word_verdict(lines[-1])
        body = _VERDICT_LINE.sub("", text).strip()
        return CriticReading(verdict, body, "verdict-line" if verdict is not None else "unreadable")
    bare = _BARE.match(text.strip()) if len(text) < 200 else None
    if bare:
        return CriticReading(_word_verdict(bare["word"]), "", "bare")
    phrases = set(_phrase_verdicts(text))
    if len(phrases) == 1:
        return CriticReading(phrases.pop(), text.strip(), "phrase")
    return CriticReading(None, text.strip(), "conflicting" if phrases else "unreadable")


def read_critic_reply(text: str) -> CriticReading:
    """:func:`read_verdict`, with a reader failure recorded as an unreadable verdict (reading ``reader-error``).

    One critic reply that breaks the reader must cost that vote, not the run; a resume replaying the
    cached reply gets the same recorded outcome.
    """
    try:
        return read_verdict(text)
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception as error:  # recorded as the vote's reading, never hidden
        return CriticReading(None, f"the verdict reader failed: {type(error).__name__}: {error}"[:500], "reader-error")
