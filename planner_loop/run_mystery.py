"""Randomized Mystery runs: ``domain: randomized_mystery:<domain>`` draws a fresh renaming per run seed.

PlanBench's Randomized Mystery column renames a domain's predicates and actions with meaningless
names, so a model cannot lean on names it has memorised. Here each seed ``s`` of the config gets its
own renaming (:func:`planner_loop.domains.obfuscation.randomized_renaming`, a pure function of the
seed and the source domain) and its own renamed copy of the instance set, written into
``<run dir>/randomized-mystery/seed-<s>-<digest>/`` (``domain.pddl``, ``domain.yaml``, the renamed
problems, ``manifest.jsonl``, ``renaming.json`` with the seed and the names, and a ``prompts.yaml``
whose example step uses the new names); the episodes with
seed ``s`` run on that copy.

An episode records its renaming in its ``instance.problem``: ``randomized-mystery/seed-<s>-<digest>/<file>``,
relative to the run directory, ``digest`` being the first 12 hex digits of SHA-256 of the renaming
(so equal labels mean equal names). ``instance.set`` stays the source set, so conditions and seeds
pair in the tables as on the plain domain.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from planner_loop.errors import ConfigError

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain
    from planner_loop.domains.renaming import Renaming
    from planner_loop.orchestration import RunPlan

PREFIX = "randomized_mystery:"
FOLDER = "randomized-mystery"


def randomized_source(domain: str) -> str | None:
    """The source domain of a ``randomized_mystery:<domain>`` config value (None for any other domain)."""
    if not domain.startswith(PREFIX):
        return None
    source = domain.removeprefix(PREFIX).strip()
    if not source:
        raise ConfigError(f"domain: {domain!r} names no source domain (write e.g. {PREFIX}blocksworld)")
    return source


def renaming_digest(renaming: Renaming) -> str:
    """First 12 hex digits of SHA-256 of the renaming's predicate and action names."""
    text = json.dumps({"predicates": dict(renaming.predicates), "actions": dict(renaming.actions)}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def write_renamed_prompts(source: Domain, renaming: Renaming, folder: Path) -> None:
    """A ``prompts.yaml`` in ``folder`` whose generator wording names no action of ``source``.

    The built-in wording shows an example step (``such as (unstack b a)``); left alone, it would
    tell the model one of the names the renaming hides.
    """
    import yaml

    from planner_loop.prompts import load_templates

    generator = load_templates(source.domain_file)["generator"]
    changed: dict[str, dict[str, str]] = {}
    for encoding, texts in generator.items():
        for key, text in texts.items() if isinstance(texts, dict) else ():
            renamed = text
            for old, new in renaming.actions.items():
                renamed = re.sub(rf"\({re.escape(old)}(?=[ )])", f"({new}", renamed)
            if renamed != text:
                changed.setdefault(encoding, {})[key] = renamed
    if changed:
        text = yaml.safe_dump({"generator": changed}, sort_keys=True, allow_unicode=True, width=100)
        (folder / "prompts.yaml").write_bytes(text.encode("utf-8"))


def check_randomizable(plan: RunPlan) -> None:
    """Refuse, before anything is written, a randomized run whose domain or set cannot be renamed."""
    from planner_loop.domains.templates import TemplateDomain

    if randomized_source(plan.config.domain) is None:
        return
    if not isinstance(plan.domain, TemplateDomain):
        raise ConfigError(f"domain: {plan.config.domain!r}: only a template domain (domain.yaml) can be renamed")
    folder = plan.pool[0].problem.parent
    if not (folder / "manifest.jsonl").is_file():
        raise ConfigError(f"instances.set: {plan.config.instances.set!r} has no manifest.jsonl; "
                          f"{PREFIX}<domain> renames problem sets written by planner-loop")


def seed_plans(plan: RunPlan, run_dir: Path) -> dict[int, RunPlan]:
    """Per seed, the run plan on that seed's renamed domain and set (empty for an ordinary domain)."""
    from planner_loop.domains.obfuscation import randomized_renaming, write_randomized_mystery
    from planner_loop.domains.templates import TemplateDomain

    if randomized_source(plan.config.domain) is None:
        return {}
    check_randomizable(plan)
    source = plan.domain
    assert isinstance(source, TemplateDomain)
    set_folder = plan.pool[0].problem.parent
    plans: dict[int, RunPlan] = {}
    for seed in plan.config.seeds:
        folder = run_dir / FOLDER / f"seed-{seed}-{renaming_digest(randomized_renaming(source, seed))}"
        renaming = write_randomized_mystery(source, set_folder, seed, folder)
        write_renamed_prompts(source, renaming, folder)
        domain = TemplateDomain.from_path(folder)
        pool = [dataclasses.replace(inst, problem=folder / inst.problem.name,
                                    problem_label=f"{FOLDER}/{folder.name}/{inst.problem.name}")
                for inst in plan.pool]
        by_id = {inst.id: inst for inst in pool}
        plans[seed] = dataclasses.replace(
            plan, domain=domain, pool=pool, instances=[by_id[inst.id] for inst in plan.instances],
            jobs=[(condition, by_id[inst.id], job_seed) for condition, inst, job_seed in plan.jobs if job_seed == seed])
    return plans
