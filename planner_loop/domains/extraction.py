"""Reading the one plan a free LLM reply gives, deterministically, from a domain's own templates.

The procedure (documented in docs/domains.md, "How replies are read"):

0. **Bounds.** The reply is cut to :data:`~planner_loop.domains.reply_text.MAX_REPLY_CHARS`
   characters, its lines to ``MAX_LINE_CHARS``, and reasoning traces (``<think>…</think>``) are
   removed: a trace is never read as the answer.
1. **JSON.** If the reply (or a fenced block, or the span from its first ``{``/``[`` to its last
   ``}``/``]``) is JSON of one of these shapes, it is the plan::

       {"plan": [{"action": "unstack", "args": ["a", "b"]}, ...]}      # the constrained-decoding shape
       {"plan": ["unstack the red block from on top of the blue block", "(put-down a)", ...]}
       [ ...either kind of item... ]                                   # a bare list

   ``actions`` and ``steps`` are accepted in place of ``plan``; ``name`` for ``action``;
   ``arguments``/``parameters`` for ``args``. JSON nested deeper than ``MAX_JSON_DEPTH`` is not read.
2. **One block.** The reply is cut into candidate blocks (:mod:`planner_loop.domains.reply_blocks`)
   and the first rule that yields a block reading at least one action chooses it:

   a. ``plan-tags``: the text between ``[PLAN]`` and ``[PLAN END]`` (when the reply has either
      marker, nothing else is read);
   b. ``final-answer-heading``: the last block under a heading announcing the answer ("Final plan:",
      "Actions in the plan:") — an explicit final answer wins over everything before it;
   c. ``fenced``: the last fenced code block holding an action;
   d. ``numbered-list`` / ``bulleted-list``: the last list whose every item reads as an action, else
      the last list holding one — unless more action lines stand outside every list. Only a list's
      items are steps: explanations and sub-bullets under an item are not. A reply that explains
      each step and then restates the plan gives the same plan twice; one block is read, never both;
   e. ``lines``: every line of the reply.

   The chosen block and the reason are recorded in :class:`PlanExtraction` (``block``, ``reason``).
3. **Lines.** Each line of the block is read by :class:`~planner_loop.domains.phrases.PlanReader`
   (PDDL, a template, or a paraphrase opening with an action's verb); other lines are skipped;
   lines naming extra objects are recorded in ``ambiguous``.

No action at all is a parse failure: ``PlanExtraction(plan=None, error=...)``; ``no_plan_claim``
says whether the reply claims that no plan exists. Nothing here raises for any text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from planner_loop.domains.phrases import LineReading, Phrasebook, PlanReader, normalise_line
from planner_loop.domains.protocol import PlanExtraction
from planner_loop.domains.reply_blocks import (
    Block,
    Line,
    _ListBuilder,
    has_plan_tags,
    iter_lines,
    segment,
    tagged_block,
)
from planner_loop.domains.reply_text import MAX_JSON_DEPTH, bounded_reply, nesting_depth

if TYPE_CHECKING:
    from planner_loop.planning.plan import PlanStep
    from planner_loop.planning.task import Task

__all__ = ["Phrasebook", "PlanReader", "extract_plan", "no_plan_claimed", "normalise_line", "plan_json_schema"]

_PLAN_KEYS = ("plan", "actions", "steps")
_NAME_KEYS = ("action", "name")
_ARG_KEYS = ("args", "arguments", "parameters")
_NO_PLAN = re.compile(
    r"\b(?:no (?:valid |possible |feasible )?(?:plan|solution|sequence of actions) (?:exists|is possible|can)"
    r"|(?:goal|goals|it|problem|task) (?:is|are) (?:impossible|unreachable|unsolvable|unachievable|not (?:possible|achievable|reachable|solvable))"
    r"|(?:cannot|can ?not|can't) be (?:achieved|reached|solved|accomplished)"
    r"|(?:not possible|impossible) to (?:achieve|reach|solve|accomplish|satisfy)"
    r"|there is no (?:valid |possible |feasible )?(?:plan|solution|way))",
    re.IGNORECASE,
)


def no_plan_claimed(text: str) -> bool:
    """True when the reply says that no plan exists or the goal cannot be reached."""
    return _NO_PLAN.search(text) is not None


class _Read:
    """The steps read from one block."""

    def __init__(self, block: Block, readings: Sequence[tuple[Line, LineReading]], items: int) -> None:
        self.block = block
        self.steps: list[PlanStep] = [s for _, r in readings for s in r.steps]
        self.methods = {r.method for _, r in readings if r.method}
        self.ambiguous = tuple(line.text.strip() for line, r in readings if r.ambiguous)
        self.action_items = sum(1 for _, r in readings if r.method)
        self.items = items

    @property
    def pure(self) -> bool:
        return self.items > 0 and self.action_items == self.items

    def key(self) -> tuple[str, ...]:
        return tuple(s.to_pddl() for s in self.steps)


def _read_block(reader: PlanReader, block: Block, *, items: bool) -> _Read:
    read = reader.read_item if items else reader.read_line
    readings = [(line, read(line.text, line.number)) for line in block.lines]
    return _Read(block, readings, len(block.lines))


def _read_final(reader: PlanReader, block: Block) -> _Read:
    """A final-answer block: its top-level list items when it holds a list, else its lines."""
    builder = _ListBuilder()
    for line in block.lines:
        if line.text.strip():
            builder.feed(line, None)
    builder.close()
    if builder.blocks:
        inner = builder.blocks[0]
        return _read_block(reader, Block(block.kind, inner.lines, block.heading, inner.subitems), items=True)
    return _read_block(reader, block, items=False)




def _json_candidates(text: str, fenced: Sequence[Block]) -> Iterator[str]:
    stripped = text.strip()
    yield stripped
    for block in fenced:
        yield "\n".join(line.text for line in block.lines).strip()
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = text.find(opener), text.rfind(closer)
        if 0 <= start < end:
            yield text[start : end + 1]


def _json_plan(reader: PlanReader, text: str, fenced: Sequence[Block]) -> tuple[list[PlanStep] | None, str | None]:
    """``(steps, None)`` for a recognised JSON plan, ``(None, error)`` for a bad one, else ``(None, None)``."""
    for candidate in _json_candidates(text, fenced):
        if candidate[:1] not in ("{", "[") or nesting_depth(candidate) > MAX_JSON_DEPTH:
            continue
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
        steps = [_json_item(reader, item) for item in items]
        bad = next((i for i, step in enumerate(steps) if step is None), None)
        if bad is None:
            return [step for step in steps if step is not None], None
        if isinstance(data, Mapping):  # an explicit {"plan": [...]} that is not a plan is an error
            return None, f"JSON plan item {bad + 1} is not an action: {json.dumps(items[bad])[:80]}"
    return None, None


def _json_item(reader: PlanReader, item: Any) -> PlanStep | None:
    if isinstance(item, str):
        found = reader.read_line(item, None).steps
        return found[0] if len(found) == 1 else None
    if isinstance(item, Mapping):
        name = next((item[k] for k in _NAME_KEYS if isinstance(item.get(k), str)), None)
        args = next((item[k] for k in _ARG_KEYS if isinstance(item.get(k), list)), [])
        if name is None or not all(isinstance(a, str) for a in args):
            return None
        name = re.sub(r"[\s_]+", "-", name.strip().lower())
        mapped = [reader.object_of(a) or a.strip().lower() for a in args]
        return reader._step(name, mapped, None)
    return None


def _choose(reader: PlanReader, text: str) -> tuple[_Read | None, str, list[_Read]]:
    """The block the plan is read from, why, and every block that read actions (for restatements)."""
    tagged = tagged_block(text)
    if tagged is not None:
        read = _read_block(reader, tagged, items=False)
        return (read if read.steps else None), "the reply marks its plan with [PLAN] / [PLAN END]", [read]
    finals, fenced, lists = segment(text)
    found: list[_Read] = []
    final_reads = [r for r in (_read_final(reader, b) for b in finals) if r.steps]
    fence_reads = [r for r in (_read_block(reader, b, items=False) for b in fenced) if r.steps]
    list_reads = [r for r in (_read_block(reader, b, items=True) for b in lists) if r.steps]
    found = final_reads + fence_reads + list_reads
    if final_reads:
        return final_reads[-1], f"an explicit final answer under {final_reads[-1].block.heading!r}", found
    if fence_reads:
        return fence_reads[-1], "the last fenced block that holds an action", found
    whole = _read_block(reader, Block("lines", tuple(iter_lines(text))), items=False)
    if list_reads:
        in_lists = {line.number for r in list_reads for line in r.block.lines}
        outside = sum(
            1 for line in whole.block.lines
            if line.number not in in_lists and not line.text[:1].isspace() and reader.read_line(line.text, line.number).method
        )
        pure = [r for r in list_reads if r.pure]
        chosen = pure[-1] if pure else list_reads[-1]
        if outside < len(chosen.steps) or not outside:
            why = "the last list whose every item is an action" if pure else "the last list that holds an action"
            return chosen, why, found
    if whole.steps:
        return whole, "no plan block: every line of the reply that reads as an action", found + [whole]
    return None, "", found


def extract_plan(text: str, task: Task, phrases: Phrasebook, *, whole_reply: bool = False) -> PlanExtraction:
    """Read a plan for ``task`` from ``text`` using ``phrases`` (a domain's templates); never raises.

    ``whole_reply=True`` skips the block choice and reads every line of the reply, markers and
    explanations included: this is how PlanBench's own scorer reads replies, so re-scoring with it
    reproduces PlanBench's verdicts where its reading picked up steps from text after the plan.
    """
    from planner_loop.planning.plan import Plan

    if not isinstance(text, str):
        return PlanExtraction(None, f"reply is not text but {type(text).__name__}", "none")
    bounded = bounded_reply(text)
    body = bounded.text
    notes = ("; " + "; ".join(bounded.notes)) if bounded.notes else ""
    claim = no_plan_claimed(body)
    if not body.strip():
        error = "empty reply" + (" (only a reasoning trace)" if text.strip() else "")
        return PlanExtraction(None, error, "none", reason=notes.lstrip("; "))
    reader = PlanReader(task, phrases)
    if whole_reply:
        read = _read_block(reader, Block("lines", tuple(iter_lines(body))), items=False)
        if read.steps:
            return PlanExtraction(Plan(tuple(read.steps)), None, "whole-reply+" + "+".join(sorted(read.methods)),
                                  "lines", "whole-reply reading: every line of the reply" + notes, read.ambiguous, False)
        return PlanExtraction(None, f"no action of domain {task.domain_name!r} found in the reply", "none",
                              no_plan_claim=claim)
    if "{" in body or "[" in body:
        _, fenced, _ = segment(body) if "```" in body else ((), (), ())
        steps, error = _json_plan(reader, body, fenced)
        if error is not None:
            return PlanExtraction(None, error, "json", "json", "the reply holds a JSON plan object" + notes)
        if steps is not None:
            if not steps:
                return PlanExtraction(None, "the JSON plan is empty", "json", "json", "the reply is a JSON plan" + notes,
                                      no_plan_claim=claim)
            return PlanExtraction(Plan(tuple(steps)), None, "json", "json", "the reply is a JSON plan" + notes)
    chosen, why, found = _choose(reader, body)
    if chosen is None:
        where = "between [PLAN] and [PLAN END]" if has_plan_tags(body) else "in the reply"
        return PlanExtraction(None, f"no action of domain {task.domain_name!r} found {where}", "none",
                              reason=notes.lstrip("; "), no_plan_claim=claim)
    same = sum(1 for r in found if r is not chosen and r.key() == chosen.key())
    if same:
        why += f"; the reply restates this plan {same} more time(s)"
    kind = "numbered-list" if chosen.block.kind == "numbered-list" else chosen.block.kind
    if chosen.methods == {"pddl"} and kind == "lines":
        kind = "pddl"
    # A reply that gives a plan answers with that plan: prose such as "otherwise the goal cannot be
    # reached" around it is not a claim that no plan exists, and must not turn a valid plan invalid.
    return PlanExtraction(Plan(tuple(chosen.steps)), None, "+".join(sorted(chosen.methods)), kind, why + notes,
                          chosen.ambiguous, False)


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
