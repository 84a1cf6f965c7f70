"""The fuzzer's shared pieces: seeded text mutators, the corpus of real inputs, and how an input ended."""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLANBENCH = ROOT.parent / "shared" / "planbench"
SECRET = "FUZZSECRET42"
# the secret in URL userinfo position; elsewhere (plain text a message may quote) it is no credential
CREDENTIAL = re.compile(r"://[^/\s@]*" + SECRET + r"[^/\s]*@")


@dataclass(frozen=True)
class Outcome:
    """How one input ended: ``accepted`` | ``refused`` | ``traceback`` | ``hang`` | ``malformed``."""

    status: str
    detail: str = ""


def _refusal_or_raise(run: Callable[[], Outcome]) -> Outcome:
    from planner_loop.errors import PlannerLoopError

    try:
        return run()
    except PlannerLoopError as error:
        return Outcome("refused", str(error)[:2000])


# ---------------------------------------------------------------------------------------------- mutators

_WORD = re.compile(r"[^\s()\[\]{}:,\"']+|[()\[\]{}:,\"']")
_ODD = ["\x00", "\ufeff", "\u202e", "\ud800", "\udfff", "\x07", "\r", "\t", "\u00e9", "\U0001f600", "\\", "\x85"]


def mutate_text(rng: random.Random, text: str, vocab: Sequence[str], *, big: int = 20_000) -> str:
    """1-4 random edits of ``text``: deletions, duplications, swaps, token replacements, odd characters,
    truncation, repetition and deep nesting (up to about ``big`` characters added)."""
    for _ in range(rng.randint(1, 4)):
        n = len(text)
        op = rng.randrange(12)
        a = rng.randint(0, n)
        b = min(n, a + rng.choice((1, 2, 5, 20, 80)))
        if op == 0:
            text = text[:a] + text[b:]
        elif op == 1:
            text = text[:b] + text[a:b] + text[b:]
        elif op == 2:
            text = text[:a] + rng.choice(vocab) + text[a:]
        elif op == 3:
            words = list(_WORD.finditer(text))
            if words:
                w = rng.choice(words)
                text = text[:w.start()] + rng.choice([*vocab, *(x.group() for x in rng.sample(words, min(5, len(words))))]) + text[w.end():]
        elif op == 4:
            lines = text.split("\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif op == 5:
            lines = text.split("\n")
            i = rng.randrange(len(lines))
            lines.insert(rng.randrange(len(lines) + 1), lines[i])
            text = "\n".join(lines)
        elif op == 6:
            text = text[:a] + rng.choice(_ODD) + text[a:]
        elif op == 7:
            text = text[:a]
        elif op == 8:
            piece = text[a:b] or rng.choice(vocab)
            text = text[:a] + piece * rng.randint(2, max(2, big // max(1, len(piece)))) + text[a:]
        elif op == 9:
            opener, closer = rng.choice((("(", ")"), ("[", "]"), ("{", "}"), ("{\"a\":", "}")))
            depth = rng.choice((10, 70, 500, 5000))
            text = text[:a] + opener * depth + (closer * depth if rng.random() < 0.5 else "") + text[a:]
        elif op == 10:
            words = list(_WORD.finditer(text))
            if words:
                w = rng.choice(words)
                text = text[:w.start()] + rng.choice((str.upper, str.title, lambda s: s + s))(w.group()) + text[w.end():]
        else:
            text = text[:a] + rng.choice(("\n", " ", "\n\n", "\t")) + text[a:]
    return text


def soup(rng: random.Random, vocab: Sequence[str], *, size: int = 200) -> str:
    """Grammar-ish random text: tokens of the kind's vocabulary with spaces, newlines and brackets."""
    return "".join(rng.choice(vocab) + rng.choice(("", " ", " ", "\n")) for _ in range(rng.randint(1, size)))


def pick_base(rng: random.Random, bases: Sequence[str], vocab: Sequence[str], *, big: int = 20_000) -> str:
    """A base input: most often a mutated real one, sometimes token soup, sometimes the real one untouched."""
    roll = rng.random()
    if roll < 0.05:
        return rng.choice(bases)
    if roll < 0.15:
        return soup(rng, vocab)
    return mutate_text(rng, rng.choice(bases), vocab, big=big)


def small_edit(rng: random.Random, text: str, vocab: Sequence[str]) -> str:
    """One edit that mostly keeps the syntax: a name replaced, a line duplicated or dropped, a word inserted."""
    words = [m for m in re.finditer(r"[^\s()]+", text)]
    op = rng.randrange(4)
    if op == 0 and words:
        w = rng.choice(words)
        return text[:w.start()] + rng.choice([*vocab, *(x.group() for x in rng.sample(words, min(8, len(words))))]) + text[w.end():]
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    if op == 1:
        lines.insert(i, lines[i])
    elif op == 2:
        del lines[i]
    else:
        w = rng.choice(words) if words else None
        if w is not None:
            return text[:w.end()] + " " + rng.choice(vocab) + text[w.end():]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- corpus

@dataclass(frozen=True)
class Sample:
    """One small problem of a domain, with a plan from the planner."""

    domain: str
    domain_text: str
    problem_text: str
    task: Any
    plan: Any


@functools.cache
def samples(domain_name: str) -> tuple[Sample, ...]:
    """Three generated problems of ``domain_name`` with optimal-ish plans (cached per process)."""
    from planner_loop.domains import DomainRegistry
    from planner_loop.generation import GenerationRequest, SizeRange
    from planner_loop.planning.search import solve
    from planner_loop.planning.task import parse_task

    domain = DomainRegistry.default().get(domain_name)
    generator = domain.generator()
    size = SizeRange(2, 2) if domain_name == "logistics" else SizeRange(3, 4)
    sizes = {name: size for name in generator.size_names}
    text = domain.domain_file.read_text(encoding="utf-8")
    found = []
    for instance in generator.generate(GenerationRequest(count=3, seed=11, sizes=sizes)):
        task = parse_task(text, instance.pddl)
        found.append(Sample(domain_name, text, instance.pddl, task, solve(task, optimal=False)))
    return tuple(found)


@functools.cache
def planbench_entries() -> tuple[tuple[str, dict[str, Any], tuple[dict[str, Any], ...]], ...]:
    """(file name, header, up to 40 entries) of each PlanBench result file beside the checkout."""
    found = []
    if PLANBENCH.is_dir():
        for path in sorted(PLANBENCH.rglob("*.json")):
            if not any(part.startswith("results") for part in path.parts):
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("instances"), list):
                header = {k: v for k, v in data.items() if k != "instances"}
                found.append((str(path.relative_to(PLANBENCH)), header, tuple(data["instances"][:40])))
    return tuple(found)


@functools.cache
def planbench_replies(folder: str, key: str = "llm_raw_response") -> tuple[str, ...]:
    """Real replies (``key``) from the PlanBench result files of one domain folder / task."""
    replies = []
    for name, _, entries in planbench_entries():
        if f"/{folder}/" in f"/{name}" or folder in name:
            replies += [e[key] for e in entries if isinstance(e, dict) and isinstance(e.get(key), str)]
    return tuple(replies[:400])


@functools.cache
def _domain(name: str) -> Any:
    from planner_loop.domains import DomainRegistry

    return DomainRegistry.default().get(name)
