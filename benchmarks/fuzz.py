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
import multiprocessing
import random
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# benchmarks/ is not a package: make the sibling fuzz_* modules importable however this file is loaded
sys.path.insert(0, str(Path(__file__).resolve().parent))

# the names below are also this module's interface (tests/test_fuzz_harness.py reads them from here)
from fuzz_corpus import Outcome as Outcome, _refusal_or_raise as _refusal_or_raise  # noqa: E402
from fuzz_kinds import Kind as Kind, Payload as Payload, kinds as kinds  # noqa: E402
from fuzz_kinds import has_duplicate_key as has_duplicate_key  # noqa: E402
from fuzz_pddl import independent_pddl_problem as independent_pddl_problem  # noqa: E402

HANG_S = 1.0
HARD_CAP_S = 20.0


class _Timeout(BaseException):
    """Raised by the alarm in an input that runs past the hard cap (BaseException: no reader may catch it)."""


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
