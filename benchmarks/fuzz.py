"""Long-run fuzzing of every reader a user or a model can feed: no traceback, no hang, no silent acceptance.

Kinds (each through its public entry point):

- ``pddl``: domain/problem text -> ``planning.parse_task``; an accepted input is re-read by
  unified-planning's ``PDDLReader`` and by a small independent S-expression check (declared
  requirements, predicates and arities, objects, variables, types); a rejection by either is an
  *accepted malformed* input.
- ``plan``: plan text -> ``parse_plan`` + ``validate``; a "valid" verdict is replayed by an
  independent STRIPS simulation (and must have no syntax errors), else it is a *wrong verdict*.
- ``config``: experiment YAML bytes -> ``load_experiment``; accepting a file with a duplicate
  mapping key is *accepted malformed*.
- ``spec``: model spec strings -> ``parse_spec``; a refusal echoing a URL credential is a *leak*.
- ``reply-blocksworld``, ``reply-mystery``, ``reply-logistics``: LLM replies -> the domain's
  ``extract_plan``; ``verdict``: critic replies -> ``read_verdict``.
- ``planbench``: PlanBench result files (JSON) -> ``load_result_file`` (the rescore loader).

Inputs are mutations of real files (the repository's domains, problems, experiments and, when
present, ``../shared/planbench``) and grammar-ish random token soup, made by seeded mutators:
input ``i`` of kind ``k`` depends only on ``(--seed, k, i)``, so any reported input can be
regenerated with ``--show KIND:INDEX``. Outcomes: accepted, refused (a ``PlannerLoopError``),
traceback (any other exception), hang (over 1 s, twice: a slow input is timed again so that a pause
of this busy machine is not reported as a hang), plus the kind's check failures (``malformed``).

    .venv/bin/python benchmarks/fuzz.py --count 2000 --kinds pddl,plan --jobs 2
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import random
import re
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLANBENCH = ROOT.parent / "shared" / "planbench"
HANG_S = 1.0
HARD_CAP_S = 20.0
SECRET = "FUZZSECRET42"
# the secret in URL userinfo position; elsewhere (plain text a message may quote) it is no credential
CREDENTIAL = re.compile(r"://[^/\s@]*" + SECRET + r"[^/\s]*@")

Payload = Any  # str | bytes | tuple[str, str]: what one kind's entry point reads


class _Timeout(BaseException):
    """Raised by the alarm in an input that runs past the hard cap (BaseException: no reader may catch it)."""


@dataclass(frozen=True)
class Outcome:
    """How one input ended: ``accepted`` | ``refused`` | ``traceback`` | ``hang`` | ``malformed``."""

    status: str
    detail: str = ""


@dataclass
class Stats:
    """Counts for one kind (summed over worker chunks)."""

    kind: str
    tried: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    slowest_s: float = 0.0
    slowest_index: int = -1
    seconds: float = 0.0
    saved: list[str] = field(default_factory=list)

    def add(self, other: Stats) -> None:
        self.tried += other.tried
        for status, count in other.counts.items():
            self.counts[status] = self.counts.get(status, 0) + count
        if other.slowest_s > self.slowest_s:
            self.slowest_s, self.slowest_index = other.slowest_s, other.slowest_index
        self.seconds += other.seconds
        self.saved += other.saved


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


# ---------------------------------------------------------------------------------------------- kinds

@dataclass(frozen=True)
class Kind:
    """One fuzzed entry point: ``make(rng)`` builds an input, ``check(input, workdir)`` classifies it."""

    name: str
    make: Callable[[random.Random], Payload]
    check: Callable[[Payload, Path], Outcome]


def _refusal_or_raise(run: Callable[[], Outcome]) -> Outcome:
    from planner_loop.errors import PlannerLoopError

    try:
        return run()
    except PlannerLoopError as error:
        return Outcome("refused", str(error)[:2000])


def _no_credential(outcome: Outcome, given: str) -> Outcome:
    """``outcome``, or a failure when its message shows the secret although ``given`` holds it only as URL
    userinfo (where a message must mask it); a secret also written elsewhere in ``given`` may be quoted."""
    from planner_loop.llm.textsafety import redact

    if SECRET in outcome.detail and CREDENTIAL.search(given) and SECRET not in redact(given):
        return Outcome("malformed", "the refusal echoes a URL credential: " + outcome.detail)
    return outcome


PDDL_VOCAB = ["(", ")", "(", ")", " - ", "define", "domain", "problem", ":requirements", ":strips", ":typing",
              ":adl", ":negative-preconditions", ":equality", ":types", "either", "object", ":predicates",
              ":action", ":parameters", ":precondition", ":effect", "and", "not", "or", "=", "forall", "?x", "?y",
              ":objects", ":init", ":goal", ":constants", ":domain", "ghost", "a", "b", ";", "(either a b)", "\n"]


def make_pddl(rng: random.Random) -> tuple[str, str]:
    sample = rng.choice([*samples("blocksworld"), *samples("logistics"), *samples("mystery_blocksworld")])
    words = sorted(set(_WORD.findall(sample.domain_text + sample.problem_text)))
    vocab = [*PDDL_VOCAB, *words]
    domain, problem = sample.domain_text, sample.problem_text
    edit = (lambda text: small_edit(rng, text, vocab)) if rng.random() < 0.5 else (
        lambda text: pick_base(rng, [text], vocab, big=2_000))
    which = rng.random()
    if which < 0.45:
        problem = edit(problem)
    elif which < 0.9:
        domain = edit(domain)
    else:
        domain, problem = edit(domain), edit(problem)
    return domain, problem


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


def check_pddl(payload: tuple[str, str], _: Path) -> Outcome:
    from planner_loop.planning.task import parse_task

    domain, problem = payload

    def run() -> Outcome:
        task = parse_task(domain, problem)
        reason = independent_pddl_problem(domain, problem) or up_rejects(domain, problem)
        if reason and reason.startswith("unified-planning") and not up_rejects(*map(ascii_spaces, payload)):
            reason = None  # unified-planning reads only ASCII whitespace; the same file with it is fine
        if reason:
            return Outcome("malformed", reason)
        del task
        return Outcome("accepted")

    return _refusal_or_raise(run)


def ascii_spaces(text: str) -> str:
    """``text`` with every non-ASCII whitespace character (which Python's reader splits on) as a space."""
    return re.sub(r"[^\S\n\t\r ]", " ", text)


@functools.cache
def _up_environment() -> Any:
    # PDDL keeps objects, predicates and actions in separate name spaces; unified-planning by default
    # refuses an object named like an action. Repeated declarations are the independent check's job.
    from unified_planning.environment import Environment

    environment = Environment()
    environment.error_used_name = False
    return environment


def up_rejects(domain: str, problem: str) -> str | None:
    """Why unified-planning's PDDLReader refuses the pair, or None when it reads it."""
    from pyparsing import ParseBaseException
    from unified_planning.exceptions import UPException
    from unified_planning.io import PDDLReader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            PDDLReader(_up_environment()).parse_problem_string(domain, problem)
    except (UPException, ParseBaseException, SyntaxError) as error:
        return f"unified-planning refuses it: {type(error).__name__}: {str(error)[:160]}"
    except (RecursionError, KeyError, AttributeError, TypeError, ValueError):
        return None  # unified-planning's own limits and bugs (e.g. an untyped object in a typed problem): no verdict
    return None


SUPPORTED = {":strips", ":typing", ":negative-preconditions", ":equality"}


def sexpr(text: str) -> list[Any] | None:
    """Comment-free, lower-cased text as nested lists (iterative); None when the parentheses do not balance."""
    text = re.sub(r";[^\n]*", " ", text).lower()
    stack: list[list[Any]] = [[]]
    for token in re.findall(r"[()]|[^\s()]+", text):
        if token == "(":
            stack.append([])
        elif token == ")":
            if len(stack) == 1:
                return None
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token)
    return stack[0] if len(stack) == 1 else None


def _typed_names(items: list[Any]) -> list[tuple[str, Any]]:
    names: list[tuple[str, Any]] = []
    pending: list[str] = []
    i = 0
    while i < len(items):
        if items[i] == "-" and i + 1 < len(items):
            names += [(n, items[i + 1]) for n in pending]
            pending = []
            i += 2
            continue
        if isinstance(items[i], str):
            pending.append(items[i])
        i += 1
    return names + [(n, "object") for n in pending]


def _atoms(formula: Any) -> Iterator[list[Any]]:
    if not isinstance(formula, list) or not formula:
        return
    head = formula[0]
    if head in ("and", "not"):
        for part in formula[1:]:
            yield from _atoms(part)
    elif isinstance(head, str) and head != "=":
        yield formula


def independent_pddl_problem(domain: str, problem: str) -> str | None:
    """A problem the independent check finds in an accepted pair (None when it finds none)."""
    dom, prob = sexpr(domain), sexpr(problem)
    if dom is None or prob is None:
        return "unbalanced parentheses"
    dom = next((x for x in dom if isinstance(x, list) and x[:1] == ["define"]), None)
    prob = next((x for x in prob if isinstance(x, list) and x[:1] == ["define"]), None)
    if dom is None or prob is None:
        return "no (define ...)"
    sections = {x[0]: x[1:] for x in dom[1:] if isinstance(x, list) and x and isinstance(x[0], str)}
    psections = {x[0]: x[1:] for x in prob[1:] if isinstance(x, list) and x and isinstance(x[0], str)}
    for section in (sections, psections):
        extra = {r for r in section.get(":requirements", []) if isinstance(r, str)} - SUPPORTED
        if extra:
            return f"unsupported requirement {sorted(extra)[0]} accepted"
    types = {"object"} | {n for n, _ in _typed_names(sections.get(":types", []))}
    types |= {t for _, t in _typed_names(sections.get(":types", [])) if isinstance(t, str)}
    for section, names in ((sections, ":types"), (sections, ":constants"), (psections, ":objects")):
        declared = [n for n, _ in _typed_names(section.get(names, []))]
        if len(declared) != len(set(declared)):
            return f"a name declared twice in {names}"
    actions = [x[1] for x in dom[1:] if isinstance(x, list) and x[:1] == [":action"] and len(x) > 1]
    if len(actions) != len(set(map(str, actions))):
        return "an action declared twice"
    predicates: dict[str, int] = {}
    for p in sections.get(":predicates", []):
        if isinstance(p, list) and p and isinstance(p[0], str):
            if p[0] in predicates:
                return f"predicate {p[0]} declared twice"
            predicates[p[0]] = len(_typed_names(p[1:]))
            for _, t in _typed_names(p[1:]):
                if isinstance(t, str) and t not in types:
                    return f"predicate {p[0]} uses undeclared type {t}"
    constants = {n for n, _ in _typed_names(sections.get(":constants", []))}
    for action in (x for x in dom[1:] if isinstance(x, list) and x[:1] == [":action"]):
        keys = {action[i]: action[i + 1] for i in range(2, len(action) - 1) if isinstance(action[i], str)}
        params = {n for n, _ in _typed_names(keys.get(":parameters", []) or [])}
        for part in (keys.get(":precondition"), keys.get(":effect")):
            for atom in _atoms(part):
                if predicates.get(atom[0]) != len(atom) - 1:
                    return f"action {action[1]}: atom {atom} does not match a declared predicate"
                for arg in atom[1:]:
                    if not isinstance(arg, str) or (arg not in params and arg not in constants):
                        return f"action {action[1]}: undeclared argument {arg}"
    objects = constants | {n for n, _ in _typed_names(psections.get(":objects", []))}
    for n, t in _typed_names(psections.get(":objects", [])):
        if isinstance(t, str) and t not in types:
            return f"object {n} of undeclared type {t}"
    for section in (":init", ":goal"):
        for part in psections.get(section, []):
            for atom in _atoms(part):
                if predicates.get(atom[0]) != len(atom) - 1:
                    return f"{section}: atom {atom} does not match a declared predicate"
                if any(not isinstance(arg, str) or arg not in objects for arg in atom[1:]):
                    return f"{section}: atom {atom} uses an undeclared object"
    return None


PLAN_VOCAB = ["(", ")", ";", "0.001: ", " [1]", "\n", "pick-up", "put-down", "stack", "unstack", "drive-truck",
              "fly-airplane", "load-truck", "attack", "feast", "()", "a", "b", "c"]


def make_plan(rng: random.Random) -> tuple[int, str]:
    pool = [*samples("blocksworld"), *samples("logistics")]
    index = rng.randrange(len(pool))
    sample = pool[index]
    names = sorted(sample.task.objects) + sorted(sample.task.actions)
    return index, pick_base(rng, [sample.plan.to_pddl()], [*PLAN_VOCAB, *names], big=20_000)


def check_plan(payload: tuple[int, str], _: Path) -> Outcome:
    from planner_loop.planning.plan import parse_plan
    from planner_loop.planning.validator import validate

    index, text = payload
    task = [*samples("blocksworld"), *samples("logistics")][index].task

    def run() -> Outcome:
        plan = parse_plan(text)
        report = validate(task, plan)
        if report.valid and plan.syntax_errors:
            return Outcome("malformed", "valid verdict for a plan with syntax errors")
        if report.valid and not simulate(task, plan):
            return Outcome("malformed", "valid verdict, but the independent simulation fails")
        return Outcome("accepted")

    return _refusal_or_raise(run)


def simulate(task: Any, plan: Any) -> bool:
    """Replay ``plan`` on ``task`` from the action schemas alone: every precondition met and the goal reached."""
    state = set(task.init)
    for step in plan.steps:
        schema = task.actions.get(step.name)
        if schema is None or len(schema.parameters) != len(step.args):
            return False
        binding = {var: arg for (var, _), arg in zip(schema.parameters, step.args)}
        if any(arg not in task.objects for arg in step.args):
            return False

        def ground(atom: tuple[str, ...]) -> tuple[str, ...]:
            return (atom[0], *(binding.get(t, t) for t in atom[1:]))

        if any(ground(a) not in state for a in schema.pre_pos) or any(ground(a) in state for a in schema.pre_neg):
            return False
        if any((binding.get(x, x) == binding.get(y, y)) != positive for x, y, positive in schema.equalities):
            return False
        state -= {ground(a) for a in schema.delete}
        state |= {ground(a) for a in schema.add}
    return all((literal.atom in state) == literal.positive for literal in task.goal)


CONFIG_VOCAB = [": ", "- ", "{", "}", "[", "]", "&a ", "*a", "!!python/object:os.system ", "<<: ", "max_rounds", "name",
                "conditions", "system", "llm+llm", "llm+sound", "generator", "model", "openai:m@http://u:" + SECRET
                + "@h/v1", "seeds", "3", "-1", "1e999", "~", "null", "'", '"', "\n  ", "\n", "# x", "\t", "---\n", "..."]


@functools.cache
def config_bases() -> tuple[str, ...]:
    return tuple(p.read_text(encoding="utf-8") for p in sorted((ROOT / "experiments").glob("*.yaml")))


def make_config(rng: random.Random) -> bytes:
    text = pick_base(rng, config_bases(), CONFIG_VOCAB, big=5_000)
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:  # raw byte damage: invalid UTF-8, binary
        pos = rng.randint(0, len(data))
        data = data[:pos] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + data[pos:]
    return data


def has_duplicate_key(data: bytes) -> bool | None:
    """Whether the YAML holds a mapping with a repeated scalar key (None: not decidable here)."""
    import yaml

    try:
        root = yaml.compose(data.decode("utf-8"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return None
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode) and k.value != "<<"]
            if len(keys) != len(set(keys)):
                return True
            stack += [v for pair in node.value for v in pair]
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    return False


def check_config(payload: bytes, workdir: Path) -> Outcome:
    from planner_loop.experiment import load_experiment

    path = workdir / "config.yaml"
    path.write_bytes(payload)

    def run() -> Outcome:
        load_experiment(path)
        if has_duplicate_key(payload):
            return Outcome("malformed", "a duplicate mapping key was accepted")
        return Outcome("accepted")

    return _no_credential(_refusal_or_raise(run), payload.decode("utf-8", "replace"))


SPECS = ["local", "local:/models/m.gguf", "openai:gpt-4o", "openai/gpt-4o-mini", "openai:m@http://127.0.0.1:8000/v1",
         "openai:m@https://host.example/v1", "vllm/Qwen/Qwen2.5-7B", "ollama/llama3", "openai-api/together/meta/llama",
         f"openai:m@http://user:{SECRET}@host/v1", "openai:m@http://[::1]:8080/v1"]
SPEC_VOCAB = [":", "/", "@", "http://", "https://", "[", "]", "::1", ":99999", "user:" + SECRET + "@", "%", "#", "?",
              " ", "local", "openai", "vllm", "ollama", "openai-api", "..", "\x00", "\u00e9"]


def make_spec(rng: random.Random) -> str:
    return pick_base(rng, SPECS, SPEC_VOCAB, big=1_200)


def check_spec(payload: str, _: Path) -> Outcome:
    from planner_loop.llm.spec import parse_spec

    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "TOGETHER_BASE_URL": "https://api.together.xyz/v1"}

    def run() -> Outcome:
        parse_spec(payload, env)
        return Outcome("accepted")

    return _no_credential(_refusal_or_raise(run), payload)


REPLY_VOCAB = ["```", "```json\n", "```pddl\n", "[PLAN]", "[PLAN END]", "\n", "1. ", "- ", "**", "{", "}", "[", "]",
               '{"plan": [', '{"action": "stack", "args": ["a", "b"]}', "]}", "<think>", "</think>", "Step 1:",
               "no plan exists", "unstack", "the", "block", "from on top of", "\ud800", "(", ")", "\\", '"']


def _reply_bases(sample_domain: str, planbench_folder: str) -> list[str]:
    from planner_loop.domains import DomainRegistry

    domain = DomainRegistry.default().get(sample_domain)
    bases = []
    for sample in samples(sample_domain):
        bases += [domain.render_plan(sample.plan, "nl"), domain.render_plan(sample.plan, "pddl"),
                  "[PLAN]\n" + domain.render_plan(sample.plan, "nl") + "[PLAN END]",
                  "Here is the plan:\n```\n" + sample.plan.to_pddl() + "```\n",
                  json.dumps({"plan": [{"action": s.name, "args": list(s.args)} for s in sample.plan.steps]})]
    return bases + list(planbench_replies(planbench_folder))


def make_reply_kind(sample_domain: str, planbench_folder: str) -> Kind:
    bases = functools.cache(lambda: _reply_bases(sample_domain, planbench_folder))

    def make(rng: random.Random) -> tuple[int, str]:
        index = rng.randrange(len(samples(sample_domain)))
        big = 1_500_000 if rng.random() < 0.01 else 20_000  # a few replies past the 1 MB bound
        return index, pick_base(rng, bases(), REPLY_VOCAB, big=big)

    def check(payload: tuple[int, str], _: Path) -> Outcome:
        index, text = payload
        domain = _domain(sample_domain)
        extraction = domain.extract_plan(text, samples(sample_domain)[index].task)
        if (extraction.plan is None) != (extraction.error is not None):
            return Outcome("malformed", "extraction holds both or neither of a plan and an error")
        return Outcome("accepted")

    return Kind(f"reply-{sample_domain.split('_')[0]}", make, lambda p, w: _refusal_or_raise(lambda: check(p, w)))


@functools.cache
def _domain(name: str) -> Any:
    from planner_loop.domains import DomainRegistry

    return DomainRegistry.default().get(name)


VERDICTS = ["Verdict: valid", "Verdict: invalid\nStep 2 fails.", '{"valid": true, "feedback": "ok"}',
            '```json\n{"valid": false, "feedback": "step 3 is wrong"}\n```', "The plan is valid.",
            "This is not a valid plan.", "no", "The plan is valid? No, the second step fails."]


@functools.cache
def verdict_bases() -> tuple[str, ...]:
    return (*VERDICTS, *planbench_replies("task_3"))


def make_verdict(rng: random.Random) -> str:
    big = 1_500_000 if rng.random() < 0.01 else 20_000
    return pick_base(rng, verdict_bases(), [*REPLY_VOCAB, "verdict", "valid", "invalid", '"valid": '], big=big)


def check_verdict(payload: str, _: Path) -> Outcome:
    from planner_loop.verifiers.verdict_reader import read_verdict

    def run() -> Outcome:
        reading = read_verdict(payload)
        if reading.valid not in (True, False, None) or not isinstance(reading.feedback, str):
            return Outcome("malformed", f"reading {reading!r}")
        return Outcome("accepted")

    return _refusal_or_raise(run)


_JSON_ODD: list[Any] = [None, True, 0, -1, 1e308, "", "x", [], {}, [[[]]], {"a": {"b": None}}, "\ud800", 2 ** 70]


def _mutate_json(rng: random.Random, value: Any, depth: int = 0) -> Any:
    if isinstance(value, dict) and value and rng.random() < 0.7:
        value = dict(value)
        key = rng.choice(list(value))
        op = rng.randrange(4)
        if op == 0:
            del value[key]
        elif op == 1:
            value[key] = rng.choice(_JSON_ODD)
        elif op == 2:
            value[key + rng.choice(("_", "s", ""))] = _mutate_json(rng, value[key], depth + 1)
        else:
            value[key] = _mutate_json(rng, value[key], depth + 1)
        return value
    if isinstance(value, list) and value and rng.random() < 0.7:
        value = list(value)
        i = rng.randrange(len(value))
        op = rng.randrange(3)
        if op == 0:
            value[i] = rng.choice(_JSON_ODD)
        elif op == 1:
            value.insert(i, value[i])
        else:
            value[i] = _mutate_json(rng, value[i], depth + 1)
        return value
    if isinstance(value, str) and rng.random() < 0.5:
        return mutate_text(rng, value, REPLY_VOCAB, big=5_000)
    return rng.choice(_JSON_ODD) if rng.random() < 0.5 else value


def make_planbench(rng: random.Random) -> bytes:
    files = planbench_entries()
    if files:
        _, header, entries = rng.choice(files)
        doc: Any = {**header, "instances": [dict(e) for e in rng.sample(entries, min(len(entries), rng.randint(1, 3)))]}
    else:
        doc = {"domain": "blocksworld", "engine": "x", "instances": [
            {"instance_id": 1, "llm_raw_response": "(pick-up a)", "llm_correct": True}]}
    for _ in range(rng.randint(1, 3)):
        doc = _mutate_json(rng, doc)
    text = json.dumps(doc, ensure_ascii=rng.random() < 0.5)
    if rng.random() < 0.05:  # deep nesting, written as text (json.dumps itself would recurse)
        depth = rng.choice((50, 5000, 100_000))
        text = '{"instances": [' + '{"a": ' * depth + text + "}" * depth + "]}"
    if rng.random() < 0.3:
        text = mutate_text(rng, text, ["{", "}", "[", "]", ",", ":", '"', "null", "NaN", "\\u"], big=5_000)
    return text.encode("utf-8", "surrogatepass")


def check_planbench(payload: bytes, workdir: Path) -> Outcome:
    from planner_loop.domains.planbench_formats import load_result_file

    path = workdir / "results.json"
    path.write_bytes(payload)

    def run() -> Outcome:
        load_result_file(path)
        return Outcome("accepted")

    return _refusal_or_raise(run)


def kinds() -> dict[str, Kind]:
    """Every fuzzed kind by name, in report order."""
    found = [Kind("pddl", make_pddl, check_pddl), Kind("plan", make_plan, check_plan),
             Kind("config", make_config, check_config), Kind("spec", make_spec, check_spec),
             make_reply_kind("blocksworld", "blocksworld/"), make_reply_kind("mystery_blocksworld", "mystery_blocksworld/"),
             make_reply_kind("logistics", "logistics/"), Kind("verdict", make_verdict, check_verdict),
             Kind("planbench", make_planbench, check_planbench)]
    return {kind.name: kind for kind in found}


# ---------------------------------------------------------------------------------------------- running

def make_input(kind: Kind, seed: int, index: int) -> Payload:
    """Input ``index`` of ``kind`` for ``seed`` (the same in every process)."""
    return kind.make(random.Random(f"{seed}/{kind.name}/{index}"))


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout()


def classify(kind: Kind, payload: Payload, workdir: Path) -> tuple[Outcome, float]:
    """Run one input with the hard cap; (outcome, seconds). A slow input is timed again before it counts as a hang."""
    best = float("inf")
    outcome = Outcome("accepted")
    for _ in range(2):
        has_alarm = hasattr(signal, "SIGALRM")
        if has_alarm:
            previous = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, HARD_CAP_S)
        start = time.perf_counter()
        try:
            outcome = kind.check(payload, workdir)
        except _Timeout:
            outcome = Outcome("hang", f"still running after {HARD_CAP_S:.0f} s")
        except Exception as error:  # noqa: BLE001 -- the harness exists to catch and count these
            outcome = Outcome("traceback", "".join(traceback.format_exception(error))[-3000:])
        finally:
            elapsed = time.perf_counter() - start
            if has_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        best = min(best, elapsed)
        if best <= HANG_S or outcome.status == "hang":
            break
    if best > HANG_S and outcome.status != "traceback":
        outcome = Outcome("hang", f"{best:.2f} s (best of two)")
    return outcome, best


def save_input(folder: Path, kind: str, index: int, payload: Payload, outcome: Outcome) -> str:
    """Write the input and what happened to ``folder/<kind>-<index>.*``; the path written."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{kind}-{index}"
    parts = payload if isinstance(payload, tuple) else (payload,)
    for n, part in enumerate(parts):
        data = part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogatepass")
        (stem.parent / f"{stem.name}.{n}.input").write_bytes(data)
    stem.with_suffix(".txt").write_text(f"{outcome.status}\n{outcome.detail}\n", encoding="utf-8")
    return str(stem)


def run_chunk(args: tuple[str, int, int, int, str, int]) -> Stats:
    """Inputs ``start..stop`` of one kind; saves up to ``keep`` failing inputs under ``out``."""
    name, seed, start, stop, out, keep = args
    kind = kinds()[name]
    stats = Stats(name)
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        # one untimed input first: imports, corpus loading and parser tables are not the inputs' cost
        classify(kind, make_input(kind, seed, start), Path(tmp))
        began = time.perf_counter()
        for index in range(start, stop):
            payload = make_input(kind, seed, index)
            outcome, seconds = classify(kind, payload, Path(tmp))
            stats.tried += 1
            stats.counts[outcome.status] = stats.counts.get(outcome.status, 0) + 1
            if seconds > stats.slowest_s:
                stats.slowest_s, stats.slowest_index = seconds, index
            if outcome.status in ("traceback", "hang", "malformed") and len(stats.saved) < keep:
                stats.saved.append(save_input(Path(out), name, index, payload, outcome))
        stats.seconds = time.perf_counter() - began
    return stats


def fuzz(names: Sequence[str], count: int, seed: int, jobs: int, out: Path, *, chunk: int = 250,
         keep: int = 3) -> list[Stats]:
    """Run ``count`` inputs of each kind in ``names`` on ``jobs`` processes; per-kind stats."""
    tasks = [(name, seed, start, min(count, start + chunk), str(out), keep)
             for name in names for start in range(0, count, chunk)]
    totals = {name: Stats(name) for name in names}
    if jobs <= 1:
        results: Iterator[Stats] = map(run_chunk, tasks)
        for stats in results:
            totals[stats.kind].add(stats)
    else:
        with multiprocessing.get_context("fork").Pool(jobs, maxtasksperchild=20) as pool:
            for stats in pool.imap_unordered(run_chunk, tasks):
                totals[stats.kind].add(stats)
    return list(totals.values())


def table(results: Sequence[Stats]) -> str:
    """The per-kind figures as a Markdown table."""
    lines = ["| kind | tried | accepted | refused | tracebacks | hangs | malformed | inputs/s (1 core) | slowest |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for s in results:
        c = s.counts
        rate = s.tried / s.seconds if s.seconds else 0.0
        lines.append(f"| {s.kind} | {s.tried} | {c.get('accepted', 0)} | {c.get('refused', 0)} | {c.get('traceback', 0)} "
                     f"| {c.get('hang', 0)} | {c.get('malformed', 0)} | {rate:.0f} | {s.slowest_s * 1000:.0f} ms "
                     f"(#{s.slowest_index}) |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="inputs per kind (default 100000)")
    parser.add_argument("--kinds", default=",".join(kinds()), help="comma-separated kinds (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"), help="folder for failing inputs")
    parser.add_argument("--show", metavar="KIND:INDEX", help="print one generated input and its outcome, then exit")
    args = parser.parse_args(argv)
    known = kinds()
    if args.show:
        name, _, index = args.show.partition(":")
        payload = make_input(known[name], args.seed, int(index))
        print(repr(payload)[:4000])
        outcome, seconds = classify(known[name], payload, Path(tempfile.mkdtemp(prefix="fuzz-")))
        print(f"{outcome.status} in {seconds * 1000:.0f} ms\n{outcome.detail}")
        return 0
    names = [n.strip() for n in args.kinds.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown kind(s) {', '.join(unknown)}; known: {', '.join(known)}")
    began = time.perf_counter()
    results = fuzz(names, args.count, args.seed, args.jobs, args.out)
    print(table(results))
    print(f"\n{args.count} inputs per kind, seed {args.seed}, {args.jobs} job(s), {time.perf_counter() - began:.0f} s wall")
    for s in results:
        for path in s.saved:
            print(f"saved: {path}.*")
    bad = sum(s.counts.get(k, 0) for s in results for k in ("traceback", "hang", "malformed"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
