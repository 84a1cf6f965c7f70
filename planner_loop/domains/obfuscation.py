"""Renaming a domain's predicates and actions, so a model cannot lean on what it knows of the names.

Any template domain can be renamed: :func:`rename_domain` turns a domain (its PDDL file and its
``domain.yaml``) into a new pair whose action schemas are the same up to names, and
:func:`rename_problem` carries problem files across. Mystery Blocksworld is Blocks World under
:data:`MYSTERY_BLOCKSWORLD` (PlanBench's deceptive renaming); :func:`random_renaming` draws
meaningless names instead, and :func:`write_randomized_mystery` draws a fresh renaming per run seed
(PlanBench's Randomized Mystery column) and writes it as a recorded instance set. ``domains/mystery_blocksworld*/`` are written by
:func:`write_renamed_domain` (``python -m planner_loop.domains.obfuscation`` regenerates them).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import yaml

from planner_loop.domains.renaming import RenamedFrom, Renaming
from planner_loop.domains.templates import DATA_FILE, DomainSpec, TemplateDomain, read_domain_schema
from planner_loop.errors import ConfigError

if TYPE_CHECKING:
    from planner_loop.generation.instances import GeneratedInstance, GenerationRequest, ProblemGenerator

_COMMENT = re.compile(r";[^\n]*")


# PlanBench's Mystery Blocksworld (configs/mystery_blocksworld.yaml and its generated_domain.pddl).
MYSTERY_BLOCKSWORLD = Renaming(
    predicates=MappingProxyType(
        {"ontable": "planet", "clear": "province", "handempty": "harmony", "on": "craves", "holding": "pain"}
    ),
    actions=MappingProxyType({"pick-up": "attack", "put-down": "succumb", "stack": "overcome", "unstack": "feast"}),
    domain_name="mystery-4ops",
)


def random_renaming(predicates: list[str], actions: list[str], *, seed: int, length: int = 7, domain_name: str | None = None) -> Renaming:
    """Meaningless lower-case names of ``length`` letters for each predicate and action (seeded)."""
    rng = random.Random(seed)
    used: set[str] = set()

    def fresh() -> str:
        while True:
            name = "".join(rng.choice(string.ascii_lowercase) for _ in range(length))
            if name not in used:
                used.add(name)
                return name

    return Renaming(
        {p: fresh() for p in sorted(predicates)}, {a: fresh() for a in sorted(actions)}, domain_name=domain_name
    )


def _sub_names(text: str, mapping: Mapping[str, str], prefix: str) -> str:
    if not mapping:
        return text
    names = sorted(mapping, key=len, reverse=True)
    pattern = re.compile(prefix + r"(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])", re.IGNORECASE)
    return pattern.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + mapping[m.group(1).lower()], text)


def rename_pddl(text: str, renaming: Renaming) -> str:
    """Rename predicates and actions in a PDDL domain or problem text (comments are dropped)."""
    text = _COMMENT.sub("", text)
    text = _sub_names(text, renaming.predicates, r"\(\s*")
    text = _sub_names(text, renaming.actions, r"\(:action\s+")
    if renaming.domain_name:
        text = re.sub(r"(\(\s*(?::)?domain\s+)[^\s()]+", lambda m: m.group(1) + str(renaming.domain_name), text, flags=re.IGNORECASE)
    return re.sub(r"\n\s*\n+", "\n", text).strip() + "\n"


def rename_problem(text: str, renaming: Renaming, *, problem_name: str | None = None) -> str:
    """Carry a problem file of the source domain over to the renamed domain (optionally renamed too)."""
    text = rename_pddl(text, renaming)
    if problem_name:
        text = re.sub(r"(\(\s*problem\s+)[^\s()]+", lambda m: m.group(1) + problem_name, text, count=1, flags=re.IGNORECASE)
    return text


def _default_template(name: str, arity: int) -> str:
    return " ".join([name, *(f"{{{i}}}" for i in range(arity))])


def rename_spec(
    source: TemplateDomain,
    renaming: Renaming,
    *,
    name: str,
    predicate_templates: Mapping[str, str | None] | None = None,
    action_templates: Mapping[str, str] | None = None,
    objects: Mapping[str, str] | None = None,
    object_patterns: tuple[tuple[str, str], ...] | None = None,
    description: str | None = None,
) -> DomainSpec:
    """The data of the renamed domain: given templates, else ``<new name> {0} {1}``."""
    schema = source.schema
    predicates: dict[str, str | None] = {}
    # the source data file's order first, so the renamed file reads like its source
    order = [p for p in source.spec.predicates if p in schema.predicates]
    order += [p for p in schema.predicates if p not in order]
    for predicate in order:
        arity = schema.predicates[predicate]
        new = renaming.predicates.get(predicate, predicate)
        given = (predicate_templates or {}).get(new, _default_template(new, arity))
        predicates[new] = given
    actions = {}
    order = [a for a in source.spec.actions if a in schema.actions]
    order += [a for a in schema.actions if a not in order]
    for action in order:
        schema_action = schema.actions[action]
        new = renaming.actions.get(action, action)
        actions[new] = (action_templates or {}).get(new, _default_template(new, len(schema_action.parameters)))
    return DomainSpec(
        name=name,
        pddl=Path("domain.pddl"),
        predicates=predicates,
        actions=actions,
        objects=dict(objects or {}),
        object_patterns=object_patterns if object_patterns is not None else (),
        description=description,
        generator=source.spec.generator,
        renamed_from=RenamedFrom(source.name, renaming),
    )


def write_renamed_domain(source: TemplateDomain, spec: DomainSpec, folder: Path) -> TemplateDomain:
    """Write ``domain.pddl`` and ``domain.yaml`` of a renamed domain into ``folder``; return it loaded."""
    if spec.renamed_from is None:
        raise ConfigError(f"domain {spec.name!r} is not a renaming")
    folder.mkdir(parents=True, exist_ok=True)
    header = f"; Generated by planner_loop.domains.obfuscation from the {source.name!r} domain; do not edit.\n"
    pddl = rename_pddl(source.domain_file.read_text(encoding="utf-8"), spec.renamed_from.renaming)
    (folder / "domain.pddl").write_text(header + pddl, encoding="utf-8")
    data = spec.to_yaml_data()
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    (folder / DATA_FILE).write_text(header.replace(";", "#", 1) + text, encoding="utf-8")
    domain = TemplateDomain.from_path(folder)
    domain.check()
    return domain


@dataclass(frozen=True)
class RenamedGenerator:
    """A source domain's problem generator whose problems come out renamed."""

    base: ProblemGenerator
    renaming: Renaming
    name: str
    domain_file: Path

    @property
    def version(self) -> int:
        """The base generator's version (the renaming is fixed data)."""
        return self.base.version

    @property
    def size_names(self) -> tuple[str, ...]:
        """The base generator's size parameters."""
        return self.base.size_names

    @property
    def goal_styles(self) -> tuple[str, ...]:
        """The base generator's goal styles."""
        return self.base.goal_styles

    def generate(self, request: GenerationRequest) -> Iterator[GeneratedInstance]:
        """The base generator's instances, renamed."""
        for instance in self.base.generate(request):
            # the source problem name ("bw-rand-...") would give the game away
            renamed = rename_problem(instance.pddl, self.renaming, problem_name=f"{self.name}-{instance.id}")
            yield replace(instance, pddl=renamed)


def check_same_schemas(renamed: Path, reference: Path) -> list[str]:
    """Differences between a renamed domain file and a reference file (empty when they agree)."""
    ours, theirs = read_domain_schema(renamed), read_domain_schema(reference)
    problems = []
    if set(ours.actions) != set(theirs.actions):
        problems.append(f"actions differ: {sorted(ours.actions)} vs {sorted(theirs.actions)}")
    for name in set(ours.actions) & set(theirs.actions):
        a, b = ours.actions[name], theirs.actions[name]
        for part in ("pre_pos", "pre_neg", "add", "delete"):
            if set(getattr(a, part)) != set(getattr(b, part)) or len(a.parameters) != len(b.parameters):
                problems.append(f"{name}.{part} differs")
    return problems


RANDOMIZED_MYSTERY_FILE = "renaming.json"


def randomized_renaming(source: TemplateDomain, run_seed: int) -> Renaming:
    """Randomized Mystery: a fresh meaningless renaming of ``source`` for one run seed.

    The names come from a stream seeded by SHA-256 of ``(run_seed, "randomized-mystery", source)``,
    so each seed gives its own names (a model cannot have memorised them) and the same seed the same.
    """
    digest = hashlib.sha256(f"{run_seed}/randomized-mystery/{source.name}".encode()).digest()
    schema = source.schema
    return random_renaming(list(schema.predicates), list(schema.actions), seed=int.from_bytes(digest[:8], "big"),
                           domain_name=f"randomized-mystery-{run_seed}")


def write_randomized_mystery(source: TemplateDomain, set_folder: Path, run_seed: int, out: Path) -> Renaming:
    """Write a Randomized Mystery instance set into ``out``: the renamed domain (``domain.pddl``,
    ``domain.yaml``), every problem of the ``set_folder`` problem set renamed, its ``manifest.jsonl``
    (each row's ``file``/``sha256`` updated, ``renaming_seed`` added) and ``renaming.json`` recording
    the seed and the renaming. ``out`` then serves as both the config's ``domain`` and its ``instances.set``.
    """
    from planner_loop.generation.problem_set import MANIFEST_NAME, read_manifest

    manifest = set_folder / MANIFEST_NAME
    if not manifest.is_file():
        raise ConfigError(f"{set_folder} is not a problem set (no {MANIFEST_NAME})")
    renaming = randomized_renaming(source, run_seed)
    name = f"randomized_mystery_{source.name}_{run_seed}".replace("-", "_")
    spec = rename_spec(source, renaming, name=name, object_patterns=(("[a-z]+", "object {0}"),),
                       description=f"{source.name} under a random renaming drawn for run seed {run_seed}")
    write_renamed_domain(source, spec, out)
    rows = []
    for row in read_manifest(manifest):
        file = Path(str(row["file"])).name
        text = rename_problem((set_folder / file).read_text(encoding="utf-8"), renaming,
                              problem_name=f"mystery-{run_seed}-{row['id']}")
        data = text.encode("utf-8")
        (out / file).write_bytes(data)
        rows.append(json.dumps({**row, "domain": name, "source_domain": row.get("domain"), "file": file,
                                "sha256": hashlib.sha256(data).hexdigest(), "renaming_seed": run_seed}))
    (out / MANIFEST_NAME).write_bytes(("\n".join(rows) + "\n").encode("utf-8"))
    record = {"run_seed": run_seed, "source_domain": source.name, "source_set": set_folder.name,
              **RenamedFrom(source.name, renaming).to_yaml_data()}
    (out / RANDOMIZED_MYSTERY_FILE).write_bytes((json.dumps(record, indent=2) + "\n").encode("utf-8"))
    return renaming


def _builtin_renamings() -> list[tuple[str, Renaming, dict[str, object]]]:
    blocks = TemplateDomain.from_path(_builtin("blocksworld"))
    deceptive = {
        "predicate_templates": {
            "planet": "planet {0}",
            "province": "province {0}",
            "harmony": "harmony",
            "craves": "{0} craves {1}",
            "pain": "pain {0}",
        },
        "action_templates": {
            "attack": "attack {0}",
            "succumb": "succumb {0}",
            "overcome": "overcome {0} from {1}",
            "feast": "feast {0} from {1}",
        },
        "object_patterns": (("[a-z]+", "object {0}"),),
    }
    schema = blocks.schema
    scrambled = random_renaming(list(schema.predicates), list(schema.actions), seed=2310, domain_name="mystery-random-4ops")
    plain = {"object_patterns": (("[a-z]+", "object {0}"),)}
    return [
        ("mystery_blocksworld", MYSTERY_BLOCKSWORLD, deceptive),
        ("mystery_blocksworld_random", scrambled, plain),
    ]


def _builtin(name: str) -> Path:
    from planner_loop.resources import builtin_dir

    return builtin_dir("domains") / name


def regenerate_builtin() -> list[Path]:
    """Rewrite the built-in renamed domains (``domains/mystery_blocksworld*``) from Blocks World."""
    blocks = TemplateDomain.from_path(_builtin("blocksworld"))
    written = []
    for name, renaming, options in _builtin_renamings():
        spec = rename_spec(blocks, renaming, name=name, **options)  # type: ignore[arg-type]
        write_renamed_domain(blocks, spec, _builtin(name))
        written.append(_builtin(name))
    return written


if __name__ == "__main__":
    for folder in regenerate_builtin():
        print(f"wrote {folder}")
