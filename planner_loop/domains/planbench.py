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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from planner_loop.domains.protocol import Domain
from planner_loop.domains.templates import DomainSpec, TemplateDomain
from planner_loop.errors import ConfigError, UserInputError

DOMAIN_FILE_NAME = "generated_domain.pddl"


def planbench_instances(folder: Path | str) -> list[Path]:
    """The ``instance-N.pddl`` files of a PlanBench instance folder, in order of N."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError("not a directory of PlanBench instances", source=folder)
    found = [p for p in folder.glob("instance-*.pddl") if re.fullmatch(r"instance-\d+", p.stem)]
    return sorted(found, key=lambda p: int(p.stem.split("-")[1]))


def find_domain_file(instances: Path | str) -> Path | None:
    """PlanBench's ``generated_domain.pddl`` in an instance folder or one of its two parents."""
    folder = Path(instances).resolve()
    for candidate in (folder, folder.parent, folder.parent.parent):
        path = candidate / DOMAIN_FILE_NAME
        if path.is_file():
            return path
    return None


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


# --- re-scoring result files ---


@dataclass(frozen=True)
class Disagreement:
    """An instance where our verdict differs from PlanBench's ``llm_correct``."""

    instance_id: int
    ours: bool
    recorded: bool
    kind: str  # "planbench-extraction" | "our-extraction" | "extraction" | "validator"
    reason: str
    our_plan: tuple[str, ...] | None = None
    recorded_plan: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``disagreements`` entry of ``rescore --json``."""
        return {
            "instance_id": self.instance_id,
            "ours": self.ours,
            "recorded": self.recorded,
            "kind": self.kind,
            "reason": self.reason,
            "our_plan": list(self.our_plan) if self.our_plan is not None else None,
            "recorded_plan": list(self.recorded_plan),
        }


@dataclass(frozen=True)
class RescoreReport:
    """Our verdicts on a PlanBench result file next to the recorded ones."""

    results_file: str
    domain: str
    engine: str | None
    total: int
    ours_correct: int
    recorded_correct: int
    disagreements: tuple[Disagreement, ...]
    extraction_differences: tuple[int, ...] = field(default=())  # same verdict, different plan read
    parse_failures: tuple[int, ...] = field(default=())  # replies our extractor found no plan in
    reading: str = "plan-region"  # or "whole-reply", PlanBench's own way of reading replies

    @property
    def agreement(self) -> float:
        """Share of instances where our verdict equals the recorded one."""
        return 1.0 if self.total == 0 else (self.total - len(self.disagreements)) / self.total

    def to_json(self) -> dict[str, Any]:
        """The object ``planner-loop planbench rescore --json`` prints."""
        return {
            "results_file": self.results_file,
            "domain": self.domain,
            "engine": self.engine,
            "total": self.total,
            "ours_correct": self.ours_correct,
            "recorded_correct": self.recorded_correct,
            "agreement": round(self.agreement, 4),
            "reading": self.reading,
            "disagreements": [d.to_json() for d in self.disagreements],
            "extraction_differences": list(self.extraction_differences),
            "parse_failures": list(self.parse_failures),
        }


def _as_bool(value: Any, source: Path, instance_id: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise ConfigError(f"instance {instance_id}: llm_correct is {value!r}, not True/False", source=source)


def read_results(path: Path | str) -> dict[str, Any]:
    """A PlanBench result file (raises :class:`ConfigError` when it is not one)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read results file: {error.strerror}", source=path) from None
    except ValueError as error:
        raise ConfigError(f"not JSON: {error}", source=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("instances"), list):
        raise ConfigError("not a PlanBench result file (no 'instances' list)", source=path)
    for entry in data["instances"]:
        if not isinstance(entry, dict) or not {"instance_id", "llm_raw_response", "llm_correct"} <= set(entry):
            raise ConfigError("every instance needs instance_id, llm_raw_response and llm_correct", source=path)
    return data


def _explain(ours: Sequence[str] | None, theirs: Sequence[str], recorded: bool, theirs_valid: bool, our_error: str | None, our_verdict: str, reply: str) -> tuple[str, str]:
    """(kind, reason) for a verdict disagreement."""
    recorded_word = "valid" if recorded else "invalid"
    if ours is not None and list(ours) == list(theirs):
        return "validator", f"same plan, PlanBench recorded {recorded_word} but the sound validator says: {our_verdict}"
    if theirs_valid != recorded:
        return "validator", (
            f"PlanBench recorded {recorded_word} for its own extraction, which the sound validator judges "
            f"{'valid' if theirs_valid else 'invalid'}; extractions also differ"
        )
    if ours is None:
        return "our-extraction", f"we read no plan ({our_error}); PlanBench read {len(theirs)} step(s)"
    n = len(ours)
    if len(theirs) > n and list(theirs[:n]) == list(ours):
        extra = " ".join(theirs[n:])
        where = "after [PLAN END]" if re.search(r"\[\s*plan\s+end\s*\]", reply, re.IGNORECASE) else "from prose after the plan"
        return "planbench-extraction", (
            f"PlanBench's extraction appends {len(theirs) - n} step(s) read {where}: {extra}; "
            f"the reply's plan itself is {our_verdict}"
        )
    if len(ours) > len(theirs) and list(ours[: len(theirs)]) == list(theirs):
        return "our-extraction", f"we read {len(ours) - len(theirs)} more step(s) than PlanBench: {' '.join(ours[len(theirs):])}"
    first = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
    mine = ours[first] if first < len(ours) else "(end)"
    other = theirs[first] if first < len(theirs) else "(end)"
    return "extraction", f"extractions differ at step {first + 1}: ours {mine}, PlanBench's {other}"


def rescore(
    results: Path | str,
    instances: Path | str,
    *,
    domain: Domain,
    domain_file: Path | str | None = None,
    whole_reply: bool = False,
) -> RescoreReport:
    """Re-score a PlanBench result file with ``domain``'s extractor and the sound validator.

    Problems are ``<instances>/instance-<id>.pddl``; the PDDL domain is ``domain_file``, else
    PlanBench's ``generated_domain.pddl`` found beside the instances, else ``domain.domain_file``.
    ``whole_reply`` reads every line of each reply as PlanBench's scorer does (see
    :func:`planner_loop.domains.extraction.extract_plan`); by default only the plan region is read.
    """
    from planner_loop.planning.plan import parse_plan
    from planner_loop.planning.task import load_task
    from planner_loop.planning.validator import validate

    results = Path(results)
    instances = Path(instances)
    data = read_results(results)
    if not instances.is_dir():
        raise ConfigError("instances directory not found", source=instances)
    pddl_domain = Path(domain_file) if domain_file is not None else (find_domain_file(instances) or domain.domain_file)
    ours_correct = recorded_correct = 0
    disagreements: list[Disagreement] = []
    differences: list[int] = []
    failures: list[int] = []
    for entry in data["instances"]:
        instance_id = entry["instance_id"]
        problem = instances / f"instance-{instance_id}.pddl"
        if not problem.is_file():
            raise ConfigError(f"no problem file for instance {instance_id} in the instances directory", source=problem)
        task = load_task(pddl_domain, problem)
        recorded = _as_bool(entry["llm_correct"], results, instance_id)
        reply = entry["llm_raw_response"] if isinstance(entry["llm_raw_response"], str) else ""
        extraction = domain.extract_plan(reply, task, whole_reply=whole_reply)
        if extraction.plan is None:
            failures.append(instance_id)
            ours, our_plan, verdict = False, None, f"no plan ({extraction.error})"
        else:
            report = validate(task, extraction.plan)
            ours, our_plan = report.valid, tuple(s.to_pddl() for s in extraction.plan.steps)
            verdict = _verdict_text(report)
        theirs_plan = parse_plan(str(entry.get("extracted_llm_plan") or ""))
        theirs = tuple(s.to_pddl() for s in theirs_plan.steps)
        ours_correct += ours
        recorded_correct += recorded
        if ours != recorded:
            theirs_valid = bool(theirs) and validate(task, theirs_plan).valid
            kind, reason = _explain(our_plan, theirs, recorded, theirs_valid, extraction.error, verdict, reply)
            disagreements.append(Disagreement(instance_id, ours, recorded, kind, reason, our_plan, theirs))
        elif (our_plan or ()) != theirs:
            differences.append(instance_id)
    return RescoreReport(
        results_file=str(results),
        domain=domain.name,
        engine=data.get("engine"),
        total=len(data["instances"]),
        ours_correct=ours_correct,
        recorded_correct=recorded_correct,
        disagreements=tuple(disagreements),
        extraction_differences=tuple(differences),
        parse_failures=tuple(failures),
        reading="whole-reply" if whole_reply else "plan-region",
    )


def _verdict_text(report: Any) -> str:
    if report.valid:
        return "valid"
    if report.errors:
        return "invalid (" + "; ".join(e.message for e in report.errors[:2]) + ")"
    if report.failed_step is not None:
        return f"invalid (step {report.failed_step} {report.action} needs {', '.join(report.unmet_preconditions)})"
    return "invalid (goals unmet: " + ", ".join(report.unmet_goals) + ")"


def resolve_domain(results_domain: str | None, option: str | None, registry: Any = None) -> tuple[Domain, Path | None]:
    """The rendering domain and an explicit PDDL domain file from ``--domain`` (a name or a file)."""
    from planner_loop.domains.registry import DomainRegistry

    registry = registry if registry is not None else DomainRegistry.default()
    if option is not None and Path(option).is_file():
        name = results_domain or "blocksworld"
        return registry.get(name), Path(option)
    name = option or results_domain
    if not name:
        raise UserInputError("the results file names no domain; pass --domain NAME")
    return registry.get(name), None


def rescore_summary(report: RescoreReport) -> list[str]:
    """Human-readable lines for ``planbench rescore``."""
    pct = 100 * report.agreement
    lines = [
        f"{report.results_file}: {report.total} instances, domain {report.domain}"
        + (f", engine {report.engine}" if report.engine else "") + f", reading: {report.reading}",
        f"  ours correct:      {report.ours_correct}/{report.total}",
        f"  recorded correct:  {report.recorded_correct}/{report.total}",
        f"  agreement:         {report.total - len(report.disagreements)}/{report.total} ({pct:.1f}%)",
        f"  no plan read:      {len(report.parse_failures)}"
        + (f" (instances {', '.join(map(str, report.parse_failures))})" if report.parse_failures else ""),
        f"  same verdict, different plan read: {len(report.extraction_differences)}",
        f"disagreements ({len(report.disagreements)}):",
    ]
    by_kind: Mapping[str, int] = {}
    for item in report.disagreements:
        by_kind = {**by_kind, item.kind: by_kind.get(item.kind, 0) + 1}
        ours = "valid" if item.ours else "invalid"
        recorded = "valid" if item.recorded else "invalid"
        lines.append(f"  instance {item.instance_id}: ours {ours}, recorded {recorded} - {item.kind}: {item.reason}")
    if by_kind:
        lines.append("by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())))
    return lines
