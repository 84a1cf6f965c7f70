"""Re-scoring a PlanBench result file: our reading and the sound validator next to PlanBench's verdicts.

For plan-generation and back-prompting files every reply (every round) is read with the domain's
extractor and judged by the sound validator; for task-3 files the model's judgement is read with a
verdict reader and compared with the sound validator's verdict on the plan in the prompt. Every
disagreement gets a ``kind`` naming whose reading is wrong:

- ``planbench-extraction``: PlanBench's extraction added steps from prose after the plan or read a
  sentence as a step (its plan is ours plus steps, or its plan fails where ours does not);
- ``planbench-verdict``: PlanBench's recorded verdict contradicts the sound validator on the plan
  PlanBench itself extracted;
- ``planbench-verdict-reading`` (task 3): PlanBench read the model's judgement otherwise than its
  opening sentence says;
- ``our-extraction``: we read no plan, or fewer steps than the reply gives;
- ``extraction``: both readings differ and neither is a prefix of the other (named with both plans).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner_loop.domains.planbench_formats import (
    PLAN_VERIFICATION,
    Judgement,
    Reply,
    instance_folder,
    load_result_file,
)
from planner_loop.errors import ConfigError

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain, PlanExtraction
    from planner_loop.planning.task import Task

VerdictReader = Callable[[str], Any]  # text -> an object with ``valid: bool | None`` and ``reading: str``


@dataclass(frozen=True)
class Disagreement:
    """A reply where our verdict differs from PlanBench's recorded one."""

    instance_id: int
    ours: bool
    recorded: bool
    kind: str
    reason: str
    our_plan: tuple[str, ...] | None = None
    recorded_plan: tuple[str, ...] = ()
    round: int | None = None
    block: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``disagreements`` entry of ``rescore --json``."""
        data: dict[str, Any] = {
            "instance_id": self.instance_id,
            "ours": self.ours,
            "recorded": self.recorded,
            "kind": self.kind,
            "reason": self.reason,
            "our_plan": list(self.our_plan) if self.our_plan is not None else None,
            "recorded_plan": list(self.recorded_plan),
            "block": self.block,
        }
        if self.round is not None:
            data["round"] = self.round
        return data


@dataclass(frozen=True)
class RescoreReport:
    """Our verdicts on a PlanBench result file next to the recorded ones (``total`` counts rounds)."""

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
    kind: str = "plan-generation"
    planbench_domain: str = ""
    prompt_type: str | None = None
    blocks: Mapping[str, int] = field(default_factory=dict)  # how often each block kind was chosen

    @property
    def agreement(self) -> float:
        """Share of replies where our verdict equals the recorded one."""
        return 1.0 if self.total == 0 else (self.total - len(self.disagreements)) / self.total

    @property
    def agreement_where_planbench_reads_right(self) -> float:
        """Agreement with the disagreements where PlanBench's reading errs (``planbench-*``) left out."""
        ours_wrong = sum(1 for d in self.disagreements if not d.kind.startswith("planbench-"))
        return 1.0 if self.total == 0 else (self.total - ours_wrong) / self.total

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.disagreements:
            counts[item.kind] = counts.get(item.kind, 0) + 1
        return dict(sorted(counts.items()))

    def to_json(self) -> dict[str, Any]:
        """The object ``planner-loop planbench rescore --json`` prints."""
        return {
            "results_file": self.results_file,
            "kind": self.kind,
            "domain": self.domain,
            "planbench_domain": self.planbench_domain,
            "engine": self.engine,
            "prompt_type": self.prompt_type,
            "total": self.total,
            "ours_correct": self.ours_correct,
            "recorded_correct": self.recorded_correct,
            "agreement": round(self.agreement, 4),
            "agreement_where_planbench_reads_right": round(self.agreement_where_planbench_reads_right, 4),
            "reading": self.reading,
            "disagreements": [d.to_json() for d in self.disagreements],
            "disagreements_by_kind": self.by_kind(),
            "blocks": dict(self.blocks),
            "extraction_differences": list(self.extraction_differences),
            "parse_failures": list(self.parse_failures),
        }


def _verdict_text(report: Any) -> str:
    if report.valid:
        return "valid"
    if report.errors:
        return "invalid (" + "; ".join(e.message for e in report.errors[:2]) + ")"
    if report.failed_step is not None:
        return f"invalid (step {report.failed_step} {report.action} needs {', '.join(report.unmet_preconditions)})"
    return "invalid (goals unmet: " + ", ".join(report.unmet_goals) + ")"


def _explain(ours: Sequence[str] | None, theirs: Sequence[str], recorded: bool, theirs_valid: bool | None,
             our_error: str | None, our_verdict: str, reply: str) -> tuple[str, str]:
    """(kind, reason) for a verdict disagreement."""
    recorded_word = "valid" if recorded else "invalid"
    if ours is not None and list(ours) == list(theirs):
        return "planbench-verdict", f"same plan, PlanBench recorded {recorded_word} but the sound validator says: {our_verdict}"
    if theirs and theirs_valid is not None and theirs_valid != recorded:
        return "planbench-verdict", (
            f"PlanBench recorded {recorded_word} for its own extraction, which the sound validator judges "
            f"{'valid' if theirs_valid else 'invalid'}")
    if ours is None:
        return "our-extraction", f"we read no plan ({our_error}); PlanBench read {len(theirs)} step(s)"
    if not theirs and not recorded and our_verdict == "valid":
        return "planbench-extraction", f"PlanBench read no plan; the reply's plan ({len(ours)} steps) is valid"
    n = len(ours)
    if len(theirs) > n and list(theirs[:n]) == list(ours):
        extra = " ".join(theirs[n:])
        where = "after [PLAN END]" if re.search(r"\[\s*plan\s+end\s*\]", reply, re.IGNORECASE) else "from prose after the plan"
        return "planbench-extraction", (
            f"PlanBench's extraction appends {len(theirs) - n} step(s) read {where}: {extra}; "
            f"the reply's plan itself is {our_verdict}")
    if theirs_valid is not None and recorded == theirs_valid and our_verdict == "valid":
        # the reply holds a valid plan and PlanBench read another one from it
        return "planbench-extraction", (
            f"the reply's plan ({len(ours)} steps) is valid; PlanBench's extraction ({len(theirs)} steps) "
            f"{_how_differs(ours, theirs)}")
    if len(ours) > len(theirs) and list(ours[: len(theirs)]) == list(theirs):
        return "our-extraction", f"we read {len(ours) - len(theirs)} more step(s) than PlanBench: {' '.join(ours[len(theirs):])}"
    first = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
    mine = ours[first] if first < len(ours) else "(end)"
    other = theirs[first] if first < len(theirs) else "(end)"
    return "extraction", f"extractions differ at step {first + 1}: ours {mine}, PlanBench's {other}"


def _how_differs(ours: Sequence[str], theirs: Sequence[str]) -> str:
    if len(theirs) > len(ours) and list(theirs[-len(ours):]) == list(ours):
        return "reads steps from the explanation before the plan: " + " ".join(theirs[: len(theirs) - len(ours)])
    if set(theirs) < set(ours) or len(theirs) < len(ours):
        missing = [s for s in ours if s not in theirs]
        return "drops step(s) of the plan: " + " ".join(missing[:6])
    first = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
    mine = ours[first] if first < len(ours) else "(end)"
    other = theirs[first] if first < len(theirs) else "(end)"
    return f"reads prose as steps: at step {first + 1} it has {other} where the reply says {mine}"


class _Tasks:
    def __init__(self, folder: Path, pddl_domain: Path) -> None:
        self.folder, self.pddl_domain = folder, pddl_domain
        self._cache: dict[int, Task] = {}

    def get(self, instance_id: int) -> Task:
        from planner_loop.planning.task import load_task

        if instance_id not in self._cache:
            problem = self.folder / f"instance-{instance_id}.pddl"
            if not problem.is_file():
                raise ConfigError(f"no problem file for instance {instance_id} in the instances directory", source=problem)
            self._cache[instance_id] = load_task(self.pddl_domain, problem)
        return self._cache[instance_id]


def _score_reply(item: Reply, task: Task, domain: Domain, whole_reply: bool) -> tuple[bool, PlanExtraction, Disagreement | None, bool]:
    """(our verdict, our extraction, the disagreement if any, whether the plans read differ)."""
    from planner_loop.planning.plan import parse_plan
    from planner_loop.planning.validator import validate

    extraction = domain.extract_plan(item.reply, task, whole_reply=whole_reply)
    if extraction.plan is None:
        ours, our_plan, verdict = False, None, f"no plan ({extraction.error})"
    else:
        report = validate(task, extraction.plan)
        ours, our_plan = report.valid, tuple(s.to_pddl() for s in extraction.plan.steps)
        verdict = _verdict_text(report)
    theirs = item.recorded_plan
    if ours == item.recorded:
        return ours, extraction, None, bool(theirs) and (our_plan or ()) != theirs
    theirs_valid = validate(task, parse_plan("\n".join(theirs))).valid if theirs else None
    kind, reason = _explain(our_plan, theirs, item.recorded, theirs_valid, extraction.error, verdict, item.reply)
    return ours, extraction, Disagreement(item.instance_id, ours, item.recorded, kind, reason, our_plan, theirs,
                                          item.round, extraction.block), False


def _score_judgement(item: Judgement, task: Task, domain: Domain, read_verdict: VerdictReader) -> tuple[bool, Disagreement | None]:
    from planner_loop.planning.validator import validate

    shown = domain.extract_plan(item.plan_text, task)
    truth = validate(task, shown.plan).valid if shown.plan is not None else False
    reading = read_verdict(item.reply)
    ours_correct = reading.valid is not None and reading.valid == truth
    if ours_correct == item.recorded_correct:
        return ours_correct, None
    said = {True: "valid", False: "invalid", None: "no verdict"}
    if item.recorded_truth is not None and item.recorded_truth != truth:
        kind = "planbench-verdict"
        reason = f"PlanBench's ground truth says {said[item.recorded_truth]}, the sound validator {said[truth]} on the plan in the prompt"
    elif item.recorded_reading is not None and reading.valid is not None and item.recorded_reading != reading.valid:
        kind = "planbench-verdict-reading"
        reason = (f"the reply says {said[reading.valid]} ({reading.reading}); PlanBench read {said[item.recorded_reading]}")
    else:
        kind = "our-verdict-reading"
        reason = f"we read {said[reading.valid]} ({reading.reading}); PlanBench read {said[item.recorded_reading]}"
    return ours_correct, Disagreement(item.instance_id, ours_correct, item.recorded_correct, kind, reason)


def rescore(
    results: Path | str,
    instances: Path | str,
    *,
    domain: Domain,
    domain_file: Path | str | None = None,
    whole_reply: bool = False,
    read_verdict: VerdictReader | None = None,
    progress: Callable[[int], None] | None = None,
) -> RescoreReport:
    """Re-score a PlanBench result file of any kind with ``domain``'s extractor and the sound validator.

    ``instances`` is the folder of ``instance-<id>.pddl`` files or a PlanBench tree holding it (see
    :func:`~planner_loop.domains.planbench_formats.instance_folder`). The PDDL domain is
    ``domain_file``, else PlanBench's ``generated_domain.pddl`` beside the instances, else
    ``domain.domain_file``. ``whole_reply`` reads every line of each reply as PlanBench's scorer
    does. Task-3 files need ``read_verdict`` (e.g. :func:`planner_loop.verifiers.read_verdict`).
    ``progress`` is called with the number of replies done after each one.
    """
    from planner_loop.domains.planbench_formats import find_domain_file

    results = Path(results)
    data = load_result_file(results)
    instances = Path(instances)
    if not instances.is_dir():
        raise ConfigError("instances directory not found", source=instances)
    folder = instance_folder(instances, data.domain, results)
    pddl_domain = Path(domain_file) if domain_file is not None else (find_domain_file(folder) or domain.domain_file)
    tasks = _Tasks(folder, pddl_domain)
    ours_correct = recorded_correct = 0
    disagreements: list[Disagreement] = []
    differences: list[int] = []
    failures: list[int] = []
    blocks: dict[str, int] = {}
    if data.kind == PLAN_VERIFICATION:
        if read_verdict is None:
            raise ConfigError("a task-3 (plan verification) file needs a verdict reader", source=results)
        for done, judgement in enumerate(data.judgements, start=1):
            ours, disagreement = _score_judgement(judgement, tasks.get(judgement.instance_id), domain, read_verdict)
            ours_correct += ours
            recorded_correct += judgement.recorded_correct
            if disagreement is not None:
                disagreements.append(disagreement)
            if progress is not None:
                progress(done)
    else:
        for done, item in enumerate(data.replies, start=1):
            ours, extraction, disagreement, differs = _score_reply(item, tasks.get(item.instance_id), domain, whole_reply)
            ours_correct += ours
            recorded_correct += item.recorded
            key = extraction.block or "none"
            blocks[key] = blocks.get(key, 0) + 1
            if extraction.plan is None:
                failures.append(item.instance_id)
            if disagreement is not None:
                disagreements.append(disagreement)
            elif differs:
                differences.append(item.instance_id)
            if progress is not None:
                progress(done)
    return RescoreReport(
        results_file=str(results), domain=domain.name, engine=data.engine, total=data.size,
        ours_correct=ours_correct, recorded_correct=recorded_correct, disagreements=tuple(disagreements),
        extraction_differences=tuple(differences), parse_failures=tuple(failures),
        reading="whole-reply" if whole_reply else "plan-region", kind=data.kind,
        planbench_domain=data.domain, prompt_type=data.prompt_type, blocks=dict(sorted(blocks.items())),
    )


def rescore_summary(report: RescoreReport) -> list[str]:
    """Human-readable lines for ``planbench rescore``."""
    pct = 100 * report.agreement
    unit = "rounds" if report.kind == "backprompting" else "instances"
    lines = [
        f"{report.results_file}: {report.total} {unit} ({report.kind}), domain {report.domain}"
        + (f", engine {report.engine}" if report.engine else "") + f", reading: {report.reading}",
        f"  ours correct:      {report.ours_correct}/{report.total}",
        f"  recorded correct:  {report.recorded_correct}/{report.total}",
        f"  agreement:         {report.total - len(report.disagreements)}/{report.total} ({pct:.1f}%)",
    ]
    if report.kind != PLAN_VERIFICATION:
        lines += [
            f"  no plan read:      {len(report.parse_failures)}"
            + (f" (instances {', '.join(map(str, report.parse_failures[:20]))}"
               + (", ..." if len(report.parse_failures) > 20 else "") + ")" if report.parse_failures else ""),
            f"  same verdict, different plan read: {len(report.extraction_differences)}",
            "  blocks read: " + ", ".join(f"{k} {v}" for k, v in report.blocks.items()),
        ]
    lines.append(f"disagreements ({len(report.disagreements)}):")
    for item in report.disagreements:
        ours = "valid" if item.ours else "invalid"
        recorded = "valid" if item.recorded else "invalid"
        where = f"instance {item.instance_id}" + (f" round {item.round}" if item.round is not None else "")
        lines.append(f"  {where}: ours {ours}, recorded {recorded} - {item.kind}: {item.reason}")
    if report.disagreements:
        lines.append("by kind: " + ", ".join(f"{k} {v}" for k, v in report.by_kind().items()))
    return lines
