"""Hard problem sets: candidates kept only when their optimal plan is long and found within a time limit.

PlanBench's Blocksworld-Hard column uses larger problems with long optimal plans (its 110 instances
have 6-15 blocks and optimal lengths 20-40). :func:`select_hard` streams candidates from a seeded
generator, solves each optimally with Fast Downward under ``time_limit_s``, and keeps those whose
optimal length is at least ``min_length`` until ``count`` are kept. Kept instances are renumbered
``instance-1, ...``; each manifest row records the candidate it came from. Which candidates the
planner solves in time depends on the machine, so a slower machine may keep a different set: the
committed set's ``selection.json`` records the limit, the drops and the length distribution.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from planner_loop.errors import ConfigError, writing_into
from planner_loop.generation.instances import GeneratedInstance, GenerationRequest, ProblemGenerator
from planner_loop.generation.problem_set import OPTIMAL_PLANNER, check_out_dir, write_problem_set

SELECTION_NAME = "selection.json"


@dataclass(frozen=True)
class HardSelection:
    """What :func:`select_hard` kept and dropped."""

    instances: tuple[GeneratedInstance, ...]
    min_length: int
    time_limit_s: float
    candidates: int
    dropped_short: int
    dropped_timeout: int
    solve_seconds: float = field(compare=False)

    def summary(self) -> dict[str, object]:
        """The ``selection.json`` object (no timings: the file must not depend on the machine's speed)."""
        lengths = Counter(int(i.optimal_length or 0) for i in self.instances)
        sizes: Counter[str] = Counter()
        for instance in self.instances:
            sizes.update({f"{k}={v}": 1 for k, v in instance.sizes.items()})
        return {
            "kept": len(self.instances), "candidates": self.candidates, "min_length": self.min_length,
            "time_limit_s": self.time_limit_s, "optimal_planner": OPTIMAL_PLANNER,
            "dropped_short": self.dropped_short, "dropped_timeout": self.dropped_timeout,
            "length_distribution": {str(k): lengths[k] for k in sorted(lengths)},
            "size_distribution": dict(sorted(sizes.items(), key=lambda kv: (kv[0].split("=")[0], int(kv[0].split("=")[1])))),
        }


def _renumbered(instance: GeneratedInstance, number: int, length: int) -> GeneratedInstance:
    new_id = f"instance-{number}"
    pddl = re.sub(r"(\(define \(problem [^)\s]*?)" + re.escape(instance.id) + r"\)",
                  lambda m: m.group(1) + new_id + ")", instance.pddl, count=1)
    notes = {**instance.notes, "candidate": instance.id}
    return replace(instance, id=new_id, pddl=pddl, optimal_length=length, notes=notes)


def select_hard(
    generator: ProblemGenerator,
    request: GenerationRequest,
    *,
    min_length: int,
    time_limit_s: float,
    max_candidates: int | None = None,
    on_checked: Callable[[GeneratedInstance, int | None], None] | None = None,
) -> HardSelection:
    """Keep ``request.count`` candidates with optimal length >= ``min_length`` solved within the limit."""
    from planner_loop.planning.search import SearchError, solve
    from planner_loop.planning.task import parse_task

    if min_length < 1 or time_limit_s <= 0:
        raise ConfigError("--min-length must be at least 1 and --time-limit positive")
    limit = max_candidates or request.count * 20
    domain_text = generator.domain_file.read_text(encoding="utf-8")
    kept: list[GeneratedInstance] = []
    short = timed_out = candidates = 0
    started = time.monotonic()
    for candidate in generator.generate(replace(request, count=limit)):
        candidates += 1
        task = parse_task(domain_text, candidate.pddl, problem_source=candidate.file_name)
        try:
            plan = solve(task, optimal=True, planner=OPTIMAL_PLANNER, timeout_s=time_limit_s)
        except SearchError as error:
            if "timed out" not in str(error):
                raise
            timed_out += 1
            length = None
        else:
            length = None if plan is None else len(plan.steps)
            if length is not None and length >= min_length:
                kept.append(_renumbered(candidate, len(kept) + 1, length))
            else:
                short += 1
        if on_checked is not None:
            on_checked(candidate, length)
        if len(kept) == request.count:
            break
    if len(kept) < request.count:
        raise ConfigError(f"only {len(kept)} of {candidates} candidates have optimal length >= {min_length} within "
                          f"{time_limit_s:g} s; lower --min-length, raise --time-limit or ask for fewer")
    return HardSelection(tuple(kept), min_length, time_limit_s, candidates, short, timed_out,
                         time.monotonic() - started)


def write_hard_set(out_dir: Path, selection: HardSelection, generator: ProblemGenerator, request: GenerationRequest,
                   *, overwrite: bool = False) -> Path:
    """Write the kept instances, ``manifest.jsonl`` and ``selection.json``; return the manifest path."""
    check_out_dir(out_dir, overwrite=overwrite)
    with writing_into(out_dir):
        manifest = write_problem_set(out_dir, selection.instances, generator, request, overwrite=overwrite)
        text = json.dumps(selection.summary(), indent=2) + "\n"
        (out_dir / SELECTION_NAME).write_bytes(text.encode("utf-8"))
    return manifest
