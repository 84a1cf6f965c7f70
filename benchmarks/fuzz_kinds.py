"""Every fuzzed kind: its input maker, its check (with the independent checks) and the ``kinds()`` table."""

from __future__ import annotations

import functools
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# benchmarks/ is not a package: make the sibling fuzz_* modules importable however this file is loaded
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_corpus import (  # noqa: E402
    CREDENTIAL,
    ROOT,
    SECRET,
    Outcome,
    _domain,
    _refusal_or_raise,
    mutate_text,
    pick_base,
    planbench_entries,
    planbench_replies,
    samples,
)
from fuzz_pddl import check_pddl, make_pddl  # noqa: E402

Payload = Any  # str | bytes | tuple[str, str]: what one kind's entry point reads


# ---------------------------------------------------------------------------------------------- kinds

@dataclass(frozen=True)
class Kind:
    """One fuzzed entry point: ``make(rng)`` builds an input, ``check(input, workdir)`` classifies it."""

    name: str
    make: Callable[[random.Random], Payload]
    check: Callable[[Payload, Path], Outcome]


def _no_credential(outcome: Outcome, given: str) -> Outcome:
    """``outcome``, or a failure when its message shows the secret although ``given`` holds it only as URL
    userinfo (where a message must mask it); a secret also written elsewhere in ``given`` may be quoted."""
    from planner_loop.llm.textsafety import redact

    if SECRET in outcome.detail and CREDENTIAL.search(given) and SECRET not in redact(given):
        return Outcome("malformed", "the refusal echoes a URL credential: " + outcome.detail)
    return outcome


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
