"""Reading a plan out of free LLM text, deterministically, from a domain's own templates.

The procedure (documented in docs/domains.md, "How replies are read"):

1. **JSON.** If the reply (or a fenced ``json`` block, or the span from its first ``{``/``[`` to its
   last ``}``/``]``) is JSON of one of these shapes, it is the plan::

       {"plan": [{"action": "unstack", "args": ["a", "b"]}, ...]}      # the constrained-decoding shape
       {"plan": ["unstack the red block from on top of the blue block", "(put-down a)", ...]}
       [ ...either kind of item... ]                                   # a bare list

   ``actions`` and ``steps`` are accepted in place of ``plan``; ``name`` for ``action``;
   ``arguments``/``parameters`` for ``args``. Arguments may be object names or display names.
   :func:`plan_json_schema` gives the JSON schema of the first shape for a task.
2. **Region.** Otherwise the text between ``[PLAN]`` and ``[PLAN END]`` (PlanBench's markers; either
   may be missing), else the last fenced code block that holds an action, else the whole reply.
3. **Lines.** Each line of the region, after list markers (``1.``, ``-``, ``*``, ``Step 3:``) and
   Markdown emphasis are stripped, is read as the first of:

   - ``pddl``: one or more ``(name arg ...)`` whose name is an action of the task;
   - ``nl``: the whole line matches an action template of the domain (the inverse of
     ``render_action``), object display names mapped back to object names;
   - ``keyword``: the line opens (after sequencing words such as "first", "then", "finally") with an
     action's verb phrase (the template's words before its first placeholder, or the action's own
     name, e.g. ``unstack``, ``pick up``) followed by at least as many object display names as the
     action takes (parenthesised asides ignored); the first ones are its arguments. This accepts
     paraphrases such as "Unstack the red block from the blue block." When several actions share a
     verb, the first that grounds in the task with its static preconditions true is chosen.

   Other lines (prose, headings) are skipped. No action at all is a parse failure:
   ``PlanExtraction(plan=None, error=...)``. Nothing here raises for any text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from planner_loop.domains.protocol import PlanExtraction
from planner_loop.errors import PlannerLoopError

if TYPE_CHECKING:
    from planner_loop.planning.plan import PlanStep
    from planner_loop.planning.task import Task


class Phrasebook(Protocol):
    """What extraction needs from a domain: its action templates and object display names."""

    @property
    def action_templates(self) -> Mapping[str, str]: ...

    def display_name(self, obj: str) -> str: ...


_MARKER = re.compile(
    r"^\s*(?:(?:[-*\u2022+>#]+|\(?\d+[.):\]]|\d+\s*-|step\s*\d+\s*[:.)\-]?|action\s*\d+\s*[:.)\-]?)\s*)+",
    re.IGNORECASE,
)
_EMPHASIS = re.compile(r"\*\*|__|`")
_PDDL_ACTION = re.compile(r"\(\s*([A-Za-z][\w-]*)((?:\s+[A-Za-z0-9_?][\w-]*)*)\s*\)")
_PLAN_START = re.compile(r"\[\s*plan\s*\]", re.IGNORECASE)
_PLAN_END = re.compile(r"\[\s*plan\s+end\s*\]", re.IGNORECASE)
_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.DOTALL)
_ARTICLES = {"the", "a", "an"}
# sequencing words a step line may open with before its verb ("Then, unstack ...")
_LEAD_IN = re.compile(
    r"^(?:(?:first(?:ly)?|second(?:ly)?|then|next|now|finally|lastly|after that|afterwards|and|also)\b[\s,:]*)*"
)
_ASIDE = re.compile(r"\([^()]*\)")  # "(with the blue block on top)" names no argument
_PLAN_KEYS = ("plan", "actions", "steps")
_NAME_KEYS = ("action", "name")
_ARG_KEYS = ("args", "arguments", "parameters")


def _words_pattern(words: str) -> str:
    """A regex for a phrase whose words may be separated by spaces, hyphens or underscores."""
    parts = [re.escape(w) for w in re.split(r"[\s_-]+", words.strip().lower()) if w]
    return r"[\s_-]+".join(parts)


def _canonical(name: str) -> str:
    """Case, spaces, hyphens and underscores do not tell names apart: ``Location_1-0`` ~ ``location 1 0``."""
    return re.sub(r"[\s_-]+", " ", name.lower()).strip()


def normalise_line(line: str) -> str:
    """Lower-case a reply line and strip list markers, emphasis and trailing punctuation."""
    line = _EMPHASIS.sub("", line)
    line = _MARKER.sub("", line, count=1)
    line = re.sub(r"\s+", " ", line).strip().lower()
    return line.rstrip(".;,!:").strip()


@dataclass(frozen=True)
class _Verb:
    action: str
    pattern: re.Pattern[str]
    arity: int


class PlanReader:
    """The regexes for one (domain, task) pair; build once, read many replies."""

    def __init__(self, task: Task, phrases: Phrasebook) -> None:
        self.task = task
        self.phrases = phrases
        self.actions = {name.lower(): len(task.actions[name].parameters) for name in sorted(task.actions)}
        changed = {atom[0] for schema in task.actions.values() for atom in (*schema.add, *schema.delete)}
        self.static_predicates = frozenset(task.predicates) - changed
        objects = [o.lower() for o in task.objects]
        self.by_display: dict[str, str] = {}
        for obj in objects:
            self.by_display.setdefault(_canonical(phrases.display_name(obj)), obj)
        self.by_name = {_canonical(o): o for o in objects}
        self.any_object = self._alternation([*self.by_display, *self.by_name])
        # raw names are only trusted in free prose when they are the display name too ("a" is an article)
        self.prose_object = self._alternation(list(self.by_display))

    @staticmethod
    def _alternation(names: Sequence[str]) -> re.Pattern[str]:
        unique = sorted({n for n in names if n}, key=len, reverse=True)
        if not unique:
            return re.compile(r"(?!x)x")
        body = "|".join(r"[\s_-]+".join(re.escape(w) for w in re.split(r"[\s_-]+", n) if w) for n in unique)
        return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])")

    def object_of(self, mention: str) -> str | None:
        """The object a mention names (display name or object name), or None."""
        key = re.sub(r"^(?:the|a|an) ", "", _canonical(mention))
        return self.by_display.get(key) or self.by_name.get(key)

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
        verbs: list[_Verb] = []
        for action, arity in self.actions.items():
            phrases = [action]  # a list, not a set: ties between actions must break the same way every run
            template = self.phrases.action_templates.get(action)
            if template:
                lead = re.split(r"\{\d+\}", template.lower(), maxsplit=1)[0].split()
                while lead and lead[-1] in _ARTICLES:
                    lead.pop()
                if lead and " ".join(lead) != action:
                    phrases.append(" ".join(lead))
            for phrase in phrases:
                pattern = re.compile(rf"(?<![\w-]){_words_pattern(phrase)}(?![\w-])")
                verbs.append(_Verb(action, pattern, arity))
        return tuple(verbs)

    # -- single lines --

    def _step(self, name: str, args: Sequence[str], line: int | None) -> PlanStep:
        from planner_loop.planning.plan import PlanStep

        return PlanStep(name, tuple(args), line)

    def read_pddl(self, raw: str, line: int | None) -> list[PlanStep]:
        steps = []
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

    def read_keyword(self, text: str, line: int | None) -> PlanStep | None:
        text = re.sub(r"\s+", " ", _ASIDE.sub(" ", text)).strip()
        found: list[tuple[int, int, _Verb]] = []
        start = _LEAD_IN.match(text)
        begin = start.end() if start else 0
        for verb in self.verbs:
            match = verb.pattern.match(text, begin)
            if match:
                found.append((match.start(), -(match.end() - match.start()), verb))
        if not found:
            return None
        found.sort(key=lambda item: (item[0], item[1]))
        start, negative_length, _ = found[0]
        tied = [verb for s, n, verb in found if s == start and n == negative_length]
        after = text[start - negative_length :]
        mentions = [self.object_of(m.group(0)) for m in self.prose_object.finditer(after)]
        objects = [m for m in mentions if m is not None]
        candidates = [(verb.action, objects[: verb.arity]) for verb in tied if len(objects) >= verb.arity]
        return self._choose(candidates, line)

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

    def read_line(self, raw: str, line: int | None) -> tuple[list[PlanStep], str | None]:
        """The steps one line holds and the method that read them (``None`` for no action)."""
        steps = self.read_pddl(raw, line)
        if steps:
            return steps, "pddl"
        text = normalise_line(raw)
        if not text:
            return [], None
        step = self.read_template(text, line)
        if step is not None:
            return [step], "nl"
        step = self.read_keyword(text, line)
        if step is not None:
            return [step], "keyword"
        return [], None

    # -- whole replies --

    def read_lines(self, text: str, first_line: int = 1) -> tuple[list[PlanStep], set[str]]:
        steps: list[PlanStep] = []
        methods: set[str] = set()
        for offset, raw in enumerate(text.splitlines()):
            found, method = self.read_line(raw, first_line + offset)
            if method:
                steps += found
                methods.add(method)
        return steps, methods

    def read_json_item(self, item: Any) -> PlanStep | None:
        if isinstance(item, str):
            found, _ = self.read_line(item, None)
            return found[0] if len(found) == 1 else None
        if isinstance(item, Mapping):
            name = next((item[k] for k in _NAME_KEYS if isinstance(item.get(k), str)), None)
            args = next((item[k] for k in _ARG_KEYS if isinstance(item.get(k), list)), [])
            if name is None or not all(isinstance(a, str) for a in args):
                return None
            name = re.sub(r"[\s_]+", "-", name.strip().lower())
            mapped = [self.object_of(a) or a.strip().lower() for a in args]
            return self._step(name, mapped, None)
        return None

    def read_json(self, text: str) -> tuple[list[PlanStep] | None, str | None]:
        """``(steps, None)`` for a recognised JSON plan, ``(None, error)`` for a bad one, else ``(None, None)``."""
        for candidate in _json_candidates(text):
            try:
                data = json.loads(candidate)
            except (ValueError, RecursionError):
                continue
            items: Any = None
            if isinstance(data, Mapping):
                items = next((data[k] for k in _PLAN_KEYS if isinstance(data.get(k), list)), None)
            elif isinstance(data, list) and data:
                items = data
            if items is None:
                continue
            steps = [self.read_json_item(item) for item in items]
            bad = next((i for i, step in enumerate(steps) if step is None), None)
            if bad is None:
                return [step for step in steps if step is not None], None
            if isinstance(data, Mapping):  # an explicit {"plan": [...]} that is not a plan is an error
                return None, f"JSON plan item {bad + 1} is not an action: {json.dumps(items[bad])[:80]}"
            # a bare list of something else ("[1, 2]") is not a plan; read the text instead
        return None, None


def _json_candidates(text: str) -> Iterator[str]:
    stripped = text.strip()
    yield stripped
    for block in _FENCE.findall(text):
        yield block.strip()
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = text.find(opener), text.rfind(closer)
        if 0 <= start < end:
            yield text[start : end + 1]


def _regions(text: str) -> Iterator[tuple[str, int]]:
    """Candidate plan regions with the 1-based line number each starts on, most specific first."""
    ends = list(_PLAN_END.finditer(text))
    starts = list(_PLAN_START.finditer(text))
    if ends:
        end = ends[0].start()
        before = [s for s in starts if s.end() <= end]
        begin = before[-1].end() if before else 0
        yield text[begin:end], text.count("\n", 0, begin) + 1
        return
    if starts:
        begin = starts[-1].end()
        yield text[begin:], text.count("\n", 0, begin) + 1
        return
    fences = list(_FENCE.finditer(text))
    for fence in reversed(fences):
        yield fence.group(1), text.count("\n", 0, fence.start(1)) + 1
    yield text, 1


def extract_plan(text: str, task: Task, phrases: Phrasebook, *, whole_reply: bool = False) -> PlanExtraction:
    """Read a plan for ``task`` from ``text`` using ``phrases`` (a domain's templates); never raises.

    ``whole_reply=True`` skips steps 1-2 and reads every line of the reply, markers and explanations
    included: this is how PlanBench's own scorer reads replies, so re-scoring with it reproduces
    PlanBench's verdicts where its reading picked up steps from text after the plan.
    """
    from planner_loop.planning.plan import Plan

    if not isinstance(text, str):
        return PlanExtraction(None, f"reply is not text but {type(text).__name__}", "none")
    if not text.strip():
        return PlanExtraction(None, "empty reply", "none")
    reader = PlanReader(task, phrases)
    if whole_reply:
        steps, methods = reader.read_lines(text, 1)
        if steps:
            return PlanExtraction(Plan(tuple(steps)), None, "whole-reply+" + "+".join(sorted(methods)))
        return PlanExtraction(None, f"no action of domain {task.domain_name!r} found in the reply", "none")
    if "{" in text or "[" in text:
        steps, error = reader.read_json(text)
        if error is not None:
            return PlanExtraction(None, error, "json")
        if steps is not None:
            if not steps:
                return PlanExtraction(None, "the JSON plan is empty", "json")
            return PlanExtraction(Plan(tuple(steps)), None, "json")
    regions = list(_regions(text))
    for region, first_line in regions:
        steps, methods = reader.read_lines(region, first_line)
        if steps:
            return PlanExtraction(Plan(tuple(steps)), None, "+".join(sorted(methods)))
    where = "between [PLAN] and [PLAN END]" if _PLAN_END.search(text) or _PLAN_START.search(text) else "in the reply"
    return PlanExtraction(None, f"no action of domain {task.domain_name!r} found {where}", "none")


def plan_json_schema(domain: object, task: Task) -> dict[str, Any]:
    """The JSON schema of a plan for constrained decoding: ``{"plan": [{"action", "args"}, ...]}``.

    ``action`` is an enum of the task's action names and each argument an enum of its object names,
    so a constrained reply always reads back through :func:`extract_plan` (method ``json``).
    ``domain`` is accepted for symmetry with the other prompt helpers and may narrow nothing today.
    """
    del domain
    actions = sorted(name.lower() for name in task.actions)
    objects = sorted(name.lower() for name in task.objects)
    max_arity = max((len(schema.parameters) for schema in task.actions.values()), default=0)
    return {
        "type": "object",
        "properties": {
            "plan": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "action": {"type": "string", "enum": actions},
                        "args": {
                            "type": "array",
                            "items": {"type": "string", "enum": objects},
                            "maxItems": max_arity,
                        },
                    },
                    "required": ["action", "args"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["plan"],
        "additionalProperties": False,
    }
