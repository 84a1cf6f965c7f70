"""Reading one reply line as plan steps, from a domain's own templates and object display names.

A line (list markers and Markdown emphasis stripped) is read as the first of:

- ``pddl``: one or more ``(name arg ...)`` whose name is an action of the task;
- ``nl``: the whole line matches an action template (the inverse of ``render_action``);
- ``keyword``: the line opens (after sequencing words such as "first", "then") with an action's verb
  phrase (the template's words before its first placeholder, or the action's own name; the phrase's
  first word alone when no other action shares it, e.g. "put" for "put down") followed by at least
  as many object mentions as the action takes. Mentions are display names, object names that are
  also display names, and short names: when most display names end in one noun ("red block"), the
  word before it ("red") alone. Parenthesised asides are ignored. "under"/"beneath"/"below" between
  the two objects of a two-object action reverses them ("stack A under B" is ``stack B A``). A line
  naming more objects than its action takes is read with the first ones and reported as ambiguous.
  When several actions share a verb, the first that grounds with its static preconditions true wins.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from planner_loop.errors import PlannerLoopError

if TYPE_CHECKING:
    from planner_loop.planning.plan import PlanStep
    from planner_loop.planning.task import Task


class Phrasebook(Protocol):
    """What extraction needs from a domain: its action templates and object display names."""

    @property
    def action_templates(self) -> Mapping[str, str]: ...

    def display_name(self, obj: str) -> str: ...


# one marker per alternation, then optional spaces; the outer + repeats whole markers only
_MARKER = re.compile(
    r"^[ \t]*(?:(?:[-*\u2022+>#]+|\(?\d{1,4}[.):\]]|\d{1,4}[ \t]*-|step[ \t]*\d{1,4}[ \t]*[:.)\-]?|action[ \t]*\d{1,4}[ \t]*[:.)\-]?)[ \t]*)+",
    re.IGNORECASE,
)
_EMPHASIS = re.compile(r"\*\*|__|`")
_PDDL_ACTION = re.compile(r"\([ \t]*([A-Za-z][\w-]*)((?:[ \t]+[A-Za-z0-9_?][\w-]*)*)[ \t]*\)")
_ARTICLES = {"the", "a", "an"}
_LEAD_IN = re.compile(
    r"^(?:(?:first(?:ly)?|second(?:ly)?|then|next|now|finally|lastly|after that|afterwards|and|also)\b[\s,:]{0,3})*"
)
_ASIDE = re.compile(r"\([^()]*\)")
_REVERSING = re.compile(r"(?<![\w-])(?:under|underneath|beneath|below)(?![\w-])")
_SPACES = re.compile(r"\s+")
# what may follow a bare object name: another name, a preposition, punctuation or the end
_LOOSE_NEXT = re.compile(r"\s*(?:$|[,.;:)]|(?:from|on|onto|to|at|in|into|off|and|then|of|under|with)\b|[a-z0-9_-]{1,3}\b)")
_ITALIC = re.compile(r"(?<![\w*])[_*]([^\s_*][^_*]{0,60}?)[_*](?![\w*])")
_CALL = re.compile(r"([a-z][a-z_-]{0,20}(?: [a-z][a-z_-]{0,20}){0,2}) ?\(([^()]{0,200})\)")


def _canonical(name: str) -> str:
    """Case, spaces, hyphens and underscores do not tell names apart: ``Location_1-0`` ~ ``location 1 0``."""
    return re.sub(r"[\s_-]+", " ", name.lower()).strip()


def _words_pattern(words: str) -> str:
    parts = [re.escape(w) for w in re.split(r"[\s_-]+", words.strip().lower()) if w]
    return r"[\s_-]+".join(parts)


def normalise_line(line: str) -> str:
    """Lower-case a reply line and strip list markers, emphasis and trailing punctuation."""
    line = _EMPHASIS.sub("", line)
    line = _MARKER.sub("", line, count=1)
    if "_" in line or "*" in line:
        line = _ITALIC.sub(r"\1", line)
    line = _SPACES.sub(" ", line).strip().lower()
    return line.rstrip(".;,!:").strip()


@dataclass(frozen=True)
class _Verb:
    action: str
    pattern: re.Pattern[str]
    arity: int
    weak: bool  # the phrase's first word only: used when no full phrase matches


@dataclass(frozen=True)
class LineReading:
    """The steps one line holds, the method that read them and whether it named extra objects."""

    steps: tuple[PlanStep, ...]
    method: str | None
    ambiguous: bool = False


_NOTHING = LineReading((), None)


class PlanReader:
    """The regexes for one (domain, task) pair; build once, read many lines."""

    def __init__(self, task: Task, phrases: Phrasebook) -> None:
        self.task = task
        self.phrases = phrases
        self._memo: dict[tuple[str, int | None], LineReading] = {}  # one reader serves one reply
        self.actions = {name.lower(): len(task.actions[name].parameters) for name in sorted(task.actions)}
        changed = {atom[0] for schema in task.actions.values() for atom in (*schema.add, *schema.delete)}
        self.static_predicates = frozenset(task.predicates) - changed
        objects = [o.lower() for o in task.objects]
        self.by_display: dict[str, str] = {}
        for obj in objects:
            self.by_display.setdefault(_canonical(phrases.display_name(obj)), obj)
        self.by_name = {_canonical(o): o for o in objects}
        self.by_short = self._short_names()
        self.any_object = self._alternation([*self.by_display, *self.by_name])
        # raw names are only trusted in free prose when they are display or short names ("a" is an article)
        self.prose_object = self._alternation([*self.by_display, *self.by_short])
        # bare object names ("feast a d"), used only when the trusted names are too few for the action
        self.loose_object = self._alternation([*self.by_display, *self.by_short, *self.by_name])

    def _short_names(self) -> dict[str, str]:
        nouns = Counter(name.rsplit(" ", 1)[-1] for name in self.by_display if " " in name)
        if not nouns:
            return {}
        noun, count = nouns.most_common(1)[0]
        if count < 2:
            return {}
        shorts: dict[str, str] = {}
        taken = set(self.by_display) | set(self.by_name)
        for name, obj in self.by_display.items():
            head, _, last = name.rpartition(" ")
            if last == noun and head and len(head) > 1 and head not in _ARTICLES and head not in taken:
                shorts.setdefault(head, obj)
        return shorts

    @staticmethod
    def _alternation(names: Sequence[str]) -> re.Pattern[str]:
        unique = sorted({n for n in names if n}, key=len, reverse=True)
        if not unique:
            return re.compile(r"(?!x)x")
        body = "|".join(r"[\s_-]+".join(re.escape(w) for w in re.split(r"[\s_-]+", n) if w) for n in unique)
        return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])")

    def object_of(self, mention: str) -> str | None:
        """The object a mention names (display, object or short name), or None."""
        key = re.sub(r"^(?:the|a|an) ", "", _canonical(mention))
        return self.by_display.get(key) or self.by_name.get(key) or self.by_short.get(key)

    @cached_property
    def templates(self) -> tuple[tuple[str, re.Pattern[str], int], ...]:
        compiled = []
        obj = self.any_object.pattern
        for action, template in self.phrases.action_templates.items():
            if action not in self.actions:
                continue
            pieces = re.split(r"\{(\d+)\}", template.lower())
            regex = ""
            for i, piece in enumerate(pieces):
                if i % 2:
                    regex += rf"(?P<g{piece}>{obj})"
                else:
                    regex += r"\s+".join(re.escape(w) for w in piece.split(" ")) if piece.strip() else r"\s+" * bool(piece)
            compiled.append((action, re.compile(regex), self.actions[action]))
        return tuple(compiled)

    @cached_property
    def verbs(self) -> tuple[_Verb, ...]:
        strong: list[tuple[str, str, int]] = []
        for action, arity in self.actions.items():
            phrases = [action]  # a list, not a set: ties between actions must break the same way every run
            template = self.phrases.action_templates.get(action)
            if template:
                lead = re.split(r"\{\d+\}", template.lower(), maxsplit=1)[0].split()
                while lead and lead[-1] in _ARTICLES:
                    lead.pop()
                if lead and " ".join(lead) != action:
                    phrases.append(" ".join(lead))
            strong += [(action, phrase, arity) for phrase in phrases]
        verbs = [_Verb(a, re.compile(rf"(?<![\w-]){_words_pattern(p)}(?![\w-])"), n, False) for a, p, n in strong]
        heads: dict[str, set[str]] = {}
        for action, phrase, _ in strong:
            heads.setdefault(re.split(r"[\s_-]+", phrase)[0], set()).add(action)
        full = {phrase for _, phrase, _ in strong}
        for action, phrase, arity in strong:
            head = re.split(r"[\s_-]+", phrase)[0]
            if head != phrase and head not in full and len(heads[head]) == 1:
                verbs.append(_Verb(action, re.compile(rf"(?<![\w-]){re.escape(head)}(?![\w-])"), arity, True))
        return tuple(verbs)

    def _step(self, name: str, args: Sequence[str], line: int | None) -> PlanStep:
        from planner_loop.planning.plan import PlanStep

        return PlanStep(name, tuple(args), line)

    def read_pddl(self, raw: str, line: int | None) -> list[PlanStep]:
        steps = []
        if "(" not in raw:
            return steps
        for match in _PDDL_ACTION.finditer(raw):
            name = match.group(1).lower()
            if name in self.actions:
                args = [self.object_of(a) or a.lower() for a in match.group(2).split()]
                steps.append(self._step(name, args, line))
        return steps

    def read_template(self, text: str, line: int | None) -> PlanStep | None:
        candidates = []
        for action, regex, arity in self.templates:
            match = regex.fullmatch(text)
            if match:
                args = [self.object_of(match.group(f"g{i}")) for i in range(arity)]
                if all(a is not None for a in args):
                    candidates.append((action, [a for a in args if a is not None]))
        return self._choose(candidates, line)

    def read_keyword(self, text: str, line: int | None) -> tuple[PlanStep | None, bool]:
        """The step a paraphrase names and whether it named more objects than the action takes."""
        text = _SPACES.sub(" ", _ASIDE.sub(" ", text)).strip()
        start = _LEAD_IN.match(text)
        begin = start.end() if start else 0
        for weak in (False, True):
            found = []
            for verb in self.verbs:
                if verb.weak != weak:
                    continue
                match = verb.pattern.match(text, begin)
                if match:
                    found.append((match.end(), verb))
            if found:
                break
        if not found:
            return None, False
        longest = max(end for end, _ in found)
        tied = [verb for end, verb in found if end == longest]
        after = text[longest:]
        objects = self._mentions(after, self.prose_object)
        if len(objects) < min(verb.arity for verb in tied):
            loose = [(at, obj) for at, obj, end in self._mentions_with_end(after, self.loose_object)
                     if _LOOSE_NEXT.match(after, end)]
            if len(loose) > len(objects):
                objects = loose
        candidates = []
        extra = False
        for verb in tied:
            if len(objects) < verb.arity:
                continue
            args = [o for _, o in objects[: verb.arity]]
            if verb.arity == 2 and _REVERSING.search(after, objects[0][0], objects[1][0]):
                args.reverse()
            extra = extra or len(objects) > verb.arity
            candidates.append((verb.action, args))
        if not candidates:
            for verb in tied:
                if verb.arity >= 2 and len(objects) == verb.arity - 1:
                    completed = self._complete(verb.action, [o for _, o in objects])
                    if completed is not None:
                        candidates.append((verb.action, completed))
        return self._choose(candidates, line), extra

    def _complete(self, action: str, given: list[str]) -> list[str] | None:
        """The one way to add a last argument that the static facts allow ("drive t0 from l0 to l1"
        leaves out the city, which the locations fix), else None."""
        found = [given + [obj] for obj in sorted(o.lower() for o in self.task.objects)
                 if self._plausible(action, given + [obj])]
        return found[0] if len(found) == 1 else None

    def _mentions_with_end(self, text: str, pattern: re.Pattern[str]) -> list[tuple[int, str, int]]:
        found = []
        for match in pattern.finditer(text):
            obj = self.object_of(match.group(0))
            if obj is not None:
                found.append((match.start(), obj, match.end()))
        return found

    def _mentions(self, text: str, pattern: re.Pattern[str]) -> list[tuple[int, str]]:
        return [(at, obj) for at, obj, _ in self._mentions_with_end(text, pattern)]

    def _choose(self, candidates: list[tuple[str, list[str]]], line: int | None) -> PlanStep | None:
        if not candidates:
            return None
        if len(candidates) > 1:
            for action, args in candidates:
                if self._plausible(action, args):
                    return self._step(action, args, line)
        action, args = candidates[0]
        return self._step(action, args, line)

    def _plausible(self, action: str, args: Sequence[str]) -> bool:
        try:
            ground = self.task.ground(action, args)
        except PlannerLoopError:
            return False
        return all(atom in self.task.init for atom in ground.pre_pos if atom[0] in self.static_predicates)

    def read_line(self, raw: str, line: int | None) -> LineReading:
        """The steps one line holds; a line with no action reads as no steps and method ``None``."""
        key = (raw, line)
        cached = self._memo.get(key)
        if cached is None:
            cached = self._memo[key] = self._read_line(raw, line)
        return cached

    def _read_line(self, raw: str, line: int | None) -> LineReading:
        steps = self.read_pddl(raw, line)
        if steps:
            return LineReading(tuple(steps), "pddl")
        text = normalise_line(raw)
        if not text:
            return _NOTHING
        call = _CALL.fullmatch(text)
        if call:  # "unstack(yellow, blue)": a function-call form of a step
            text = f"{call.group(1)} {call.group(2).replace(',', ' ')}".strip()
        step = self.read_template(text, line)
        if step is not None:
            return LineReading((step,), "nl")
        step, extra = self.read_keyword(text, line)
        if step is not None:
            return LineReading((step,), "keyword", extra)
        return _NOTHING

    def read_item(self, raw: str, line: int | None) -> LineReading:
        """A list item: its bold lead ("**Unstack A from B**: because ...") or the text before a
        colon names the step when the whole line reads ambiguously or not at all."""
        whole = self.read_line(raw, line)
        if whole.method in ("pddl", "nl"):
            return whole
        stripped = _MARKER.sub("", raw, count=1).strip()
        parts: list[str] = []
        if stripped.startswith("**"):
            end = stripped.find("**", 2)
            if 2 < end < len(stripped) - 2:
                parts.append(stripped[2:end])
        colon = stripped.find(":")
        if 0 < colon < len(stripped.rstrip("*")) - 1:
            parts.append(stripped[:colon])
        for part in parts:
            reading = self.read_line(part, line)
            if reading.method and not reading.ambiguous:
                return reading
        return whole
