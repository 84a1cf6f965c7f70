"""Turn generated instances into a problem set on disk: optimal lengths, PDDL files, ``manifest.jsonl``.

A set directory holds ``<id>.pddl`` per instance and ``manifest.jsonl`` with one JSON object per
instance, in generation order::

    {"id": "instance-1", "file": "instance-1.pddl", "domain": "blocksworld", "blocks": 4,
     "goal": "on-only", "seed": 7, "instance_seed": 123..., "attempt": 0, "optimal_length": 6,
     "optimal_planner": "fast-downward", "sha256": "...", "generator": "blocksworld", "generator_version": 1}

Size parameters (``blocks`` here) appear as top-level keys, followed by the instance's own notes
(for an unsolvable instance ``"solvable": false``, why, and what proved it: see
:mod:`planner_loop.generation.contradiction`). ``seed`` is the set's seed;
``instance_seed`` seeds the attempt that produced the instance. ``optimal_length`` and
``optimal_planner`` are ``null`` when the set was written without solving. Nothing in a set
depends on time or machine, so the same request gives byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from planner_loop.errors import ConfigError, writing_into
from planner_loop.generation.instances import GeneratedInstance, GenerationRequest, ProblemGenerator

MANIFEST_NAME = "manifest.jsonl"
OPTIMAL_PLANNER = "fast-downward"


def solve_instances(
    instances: Iterable[GeneratedInstance],
    domain_file: Path,
    *,
    on_solved: Callable[[GeneratedInstance], None] | None = None,
) -> list[GeneratedInstance]:
    """Attach each instance's optimal plan length from Fast Downward (A*/LM-cut).

    The planner's plan is checked by the sound validator inside ``solve``; an instance whose goal
    already holds initially gets length 0 without a planner call. An instance generated as
    unsolvable must be proven so (the planner's search ends without a plan), else this raises; a
    solvable-looking instance the planner proves unsolvable gets ``solvable: false`` in its notes.
    """
    from planner_loop.planning.search import solve
    from planner_loop.planning.task import parse_task

    domain_text = domain_file.read_text(encoding="utf-8")
    solved = []
    for instance in instances:
        task = parse_task(domain_text, instance.pddl, domain_source=str(domain_file), problem_source=instance.file_name)
        length: int | None
        if all(literal.positive for literal in task.goal) and task.goal_atoms() <= task.init:
            length = 0
        else:
            plan = solve(task, optimal=True, planner=OPTIMAL_PLANNER)
            length = None if plan is None else len(plan.steps)
        result = instance.with_optimal_length(length)
        if length is None:
            notes = {"solvable": False, "unsolvable_reason": "planner", **instance.notes,
                     "unsolvable_proof": OPTIMAL_PLANNER}
            result = replace(result, notes=notes)
        elif instance.notes.get("solvable") is False:
            raise ConfigError(f"{instance.id} was generated unsolvable but {OPTIMAL_PLANNER} found a plan")
        solved.append(result)
        if on_solved is not None:
            on_solved(result)
    return solved


def manifest_record(instance: GeneratedInstance, generator: ProblemGenerator, request: GenerationRequest) -> dict[str, object]:
    """The manifest line for one instance (see the module docstring)."""
    record: dict[str, object] = {"id": instance.id, "file": instance.file_name, "domain": generator.name}
    record.update(instance.sizes)
    record.update(instance.notes)
    record.update(
        {
            "goal": instance.goal_style,
            "seed": request.seed,
            "instance_seed": instance.instance_seed,
            "attempt": instance.attempt,
            "optimal_length": instance.optimal_length,
            "optimal_planner": OPTIMAL_PLANNER if instance.optimal_length is not None else None,
            "sha256": instance.sha256,
            "generator": generator.name,
            "generator_version": generator.version,
        }
    )
    return record


def check_out_dir(out_dir: Path, *, overwrite: bool) -> bool:
    """Whether ``out_dir`` already holds a set; raises :class:`ConfigError` if it does and not ``overwrite``."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} exists and is not a directory")
    blocker = next((parent for parent in out_dir.parents if parent.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise ConfigError(f"--out {out_dir}: {blocker} is a file, not a directory")
    if not out_dir.is_dir():
        return False
    if not any(out_dir.glob("*.pddl")) and not (out_dir / MANIFEST_NAME).exists():
        return False
    if not overwrite:
        raise ConfigError(f"{out_dir} already holds a problem set (*.pddl or {MANIFEST_NAME}); pass --force to replace it")
    return True


def _clear_previous_set(out_dir: Path, overwrite: bool) -> None:
    if not check_out_dir(out_dir, overwrite=overwrite):
        return
    manifest = out_dir / MANIFEST_NAME
    if manifest.exists():
        for line_number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                name = json.loads(line)["file"]
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise ConfigError(f"unreadable manifest line ({error}); remove the old set by hand", source=manifest, line=line_number) from None
            old = out_dir / Path(str(name)).name
            if old.suffix == ".pddl":
                old.unlink(missing_ok=True)
        manifest.unlink()


def write_problem_set(
    out_dir: Path,
    instances: Sequence[GeneratedInstance],
    generator: ProblemGenerator,
    request: GenerationRequest,
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``<id>.pddl`` files and ``manifest.jsonl`` into ``out_dir``; return the manifest path.

    Refuses (:class:`ConfigError`) a directory that already holds a set unless ``overwrite``, which
    first removes the files the old manifest lists.
    """
    _clear_previous_set(out_dir, overwrite)
    with writing_into(out_dir):   # a failed write leaves no half set behind
        out_dir.mkdir(parents=True, exist_ok=True)
        lines = []
        for instance in instances:
            (out_dir / instance.file_name).write_bytes(instance.pddl.encode("utf-8"))
            lines.append(json.dumps(manifest_record(instance, generator, request)))
        manifest = out_dir / MANIFEST_NAME
        manifest.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return manifest


def read_manifest(path: Path) -> list[dict[str, object]]:
    """The records of a ``manifest.jsonl`` (raises :class:`ConfigError` with file:line on bad JSON)."""
    records = []
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ConfigError(f"bad manifest line: {error.msg}", source=path, line=line_number) from None
        if not isinstance(record, dict):
            raise ConfigError("manifest line is not a JSON object", source=path, line=line_number)
        records.append(record)
    return records


def generate_problem_set(
    generator: ProblemGenerator,
    request: GenerationRequest,
    out_dir: Path,
    *,
    optimal: bool = True,
    overwrite: bool = False,
    on_solved: Callable[[GeneratedInstance], None] | None = None,
) -> list[GeneratedInstance]:
    """Generate, optionally solve, and write a set; the one-call API behind ``problems generate``."""
    check_out_dir(out_dir, overwrite=overwrite)
    instances = list(generator.generate(request))
    if optimal:
        instances = solve_instances(instances, generator.domain_file, on_solved=on_solved)
    write_problem_set(out_dir, instances, generator, request, overwrite=overwrite)
    return instances
