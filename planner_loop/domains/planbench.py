"""PlanBench compatibility: its configs and instance folders, and re-scoring its result files.

PlanBench (Valmeekam et al.) keeps, per domain, a YAML config (NL templates with ``{}`` holes,
``encoded_objects``), an instance folder ``generated_basic/instance-N.pddl`` beside a
``generated_domain.pddl``, and result files ``{"instances": [{"instance_id", "llm_raw_response",
"extracted_llm_plan", "llm_correct", ...}]}``. :func:`rescore` reads every raw reply with
planner-loop's extractor, validates it with the sound validator and explains each instance where
the verdict differs from PlanBench's recorded ``llm_correct``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from planner_loop.domains.planbench_formats import DOMAIN_FILE_NAME, find_domain_file, load_result_file, planner_domain
from planner_loop.domains.planbench_rescore import Disagreement, RescoreReport, rescore, rescore_summary
from planner_loop.domains.protocol import Domain
from planner_loop.domains.templates import DomainSpec, TemplateDomain
from planner_loop.errors import ConfigError, UserInputError


def planbench_instances(folder: Path | str) -> list[Path]:
    """The ``instance-N.pddl`` files of a PlanBench instance folder, in order of N."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError("not a directory of PlanBench instances", source=folder)
    found = [p for p in folder.glob("instance-*.pddl") if re.fullmatch(r"instance-\d+", p.stem)]
    return sorted(found, key=lambda p: int(p.stem.split("-")[1]))


def planbench_rows(folder: Path | str) -> list[dict[str, Any]]:
    """Manifest-like rows (``id``, ``problem``) of a PlanBench instance folder, one per problem file.

    What PlanBench records beside the folder (in it or its parent) is adopted: an ``*_all_labels.json``
    (its unsolvable set, keyed by instance number) marks the instances it lists ``solvable: false``;
    an ``info.json`` (its hard set, keyed by file name) gives each instance's ``optimal_length``.
    """
    folder = Path(folder)
    unsolvable: set[str] = set()
    lengths: dict[str, int] = {}
    for place in (folder, folder.parent):
        for labels in sorted(place.glob("*_all_labels.json")):
            unsolvable |= {str(key) for key in _json_object(labels)}
        info = place / "info.json"
        if info.is_file():
            lengths |= {str(name): entry["length"] for name, entry in _json_object(info).items()
                        if isinstance(entry, dict) and isinstance(entry.get("length"), int)}
    rows: list[dict[str, Any]] = []
    for file in sorted(folder.glob("*.pddl")):
        if "domain" in file.stem:
            continue
        row: dict[str, Any] = {"id": file.stem, "problem": file.name}
        number = file.stem.removeprefix("instance-")
        if number in unsolvable:
            row["solvable"] = False
        if file.name in lengths:
            row["optimal_length"] = lengths[file.name]
        rows.append(row)
    return rows


def _json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"cannot read PlanBench's labels: {error}", source=path) from None
    if not isinstance(data, dict):
        raise ConfigError("PlanBench's labels must be a JSON object", source=path)
    return data


def _numbered(template: str) -> str:
    """PlanBench's ``{}`` holes as ``{0}``, ``{1}``, ..."""
    counter = iter(range(100))
    return re.sub(r"\{\}", lambda _: "{" + str(next(counter)) + "}", template)


def load_planbench_config(path: Path | str, *, domain_file: Path | str | None = None) -> TemplateDomain:
    """A template domain from a PlanBench config (``configs/<domain>.yaml``).

    ``encoded_objects`` entries whose value has ``{}`` holes (Logistics: ``"p": "package_{}"``)
    become patterns over PlanBench's object names (``p0`` -> ``package_0``, ``l1-0`` ->
    ``location_1_0``). ``domain_file`` defaults to the config's ``domain_file`` under
    ``../instances/``.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read PlanBench config: {error.strerror}", source=path) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"not valid YAML: {error}", source=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("actions"), dict):
        raise ConfigError("not a PlanBench domain config (no 'actions' mapping)", source=path)
    objects: dict[str, str] = {}
    patterns: list[tuple[str, str]] = []
    for key, value in (data.get("encoded_objects") or {}).items():
        key, value = str(key).lower(), str(value)
        holes = value.count("{}")
        if holes:
            # object_patterns number the regex groups from {1} ({0} is the whole name)
            display = re.sub(r"\{(\d+)\}", lambda m: "{" + str(int(m.group(1)) + 1) + "}", _numbered(value))
            patterns.append((re.escape(key) + "-".join([r"(\d+)"] * holes), display))
        else:
            objects[key] = value
    predicates: dict[str, str | None] = {
        str(k).lower(): (_numbered(str(v)) if v else None) for k, v in (data.get("predicates") or {}).items()
    }
    if domain_file is None:
        relative = data.get("domain_file")
        if not relative:
            raise ConfigError("config names no 'domain_file'; pass the domain file", source=path)
        domain_file = path.parent.parent / "instances" / str(relative)
    spec = DomainSpec(
        name=str(data.get("domain_name") or path.stem),
        pddl=Path(domain_file).resolve(),
        predicates=predicates,
        actions={str(k).lower(): _numbered(str(v)) for k, v in data["actions"].items()},
        objects=objects,
        object_patterns=tuple(patterns),
        description=str(data["domain_intro"]).strip() if data.get("domain_intro") else None,
        source=path,
    )
    return TemplateDomain(spec)


# --- re-scoring result files: planbench_formats (reading), planbench_rescore (scoring) ---

__all__ = [
    "DOMAIN_FILE_NAME", "Disagreement", "RescoreReport", "find_domain_file", "load_planbench_config",
    "load_result_file", "planbench_instances", "planbench_rows", "read_results", "rescore", "rescore_summary", "resolve_domain",
]


def read_results(path: Path | str) -> dict[str, Any]:
    """A PlanBench result file's header (``domain``, ``engine``, ``kind``); raises :class:`ConfigError`."""
    data = load_result_file(path)
    return {"domain": data.domain, "engine": data.engine, "kind": data.kind, "task": data.task}


def resolve_domain(results_domain: str | None, option: str | None, registry: Any = None,
                   results_path: Path | None = None) -> tuple[Domain, Path | None]:
    """The rendering domain and an explicit PDDL domain file from ``--domain`` (a name or a file)."""
    from planner_loop.domains.registry import DomainRegistry

    registry = registry if registry is not None else DomainRegistry.default()
    if option is not None and Path(option).is_file():
        name = planner_domain(results_domain, results_path) if results_domain else "blocksworld"
        return registry.get(name), Path(option)
    if option is not None:
        return registry.get(option), None
    if not results_domain:
        raise UserInputError("the results file names no domain; pass --domain NAME")
    if results_domain in registry:
        return registry.get(results_domain), None
    return registry.get(planner_domain(results_domain, results_path)), None


