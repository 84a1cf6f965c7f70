"""PlanBench Mystery Blocksworld and Logistics: load every instance, solve it optimally, validate.

Also measures plan extraction speed against a baseline measured in the same run (parsing the same
plans as PDDL with ``parse_plan``). Prints figures; run by hand:

    .venv/bin/python benchmarks/planbench_domains.py [--timeout 120]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from planner_loop.domains import get_domain
from planner_loop.planning.plan import parse_plan
from planner_loop.planning.search import SearchError, solve
from planner_loop.planning.task import load_task
from planner_loop.planning.validator import validate

INSTANCES = Path(__file__).resolve().parents[2] / "shared" / "planbench" / "plan-bench" / "instances"
SETS = {
    "mystery_blocksworld": INSTANCES / "blocksworld" / "mystery" / "generated_basic",
    "logistics": INSTANCES / "logistics" / "generated_basic",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per optimal search")
    args = parser.parse_args()
    for name, folder in SETS.items():
        domain = get_domain(name)
        domain_file = folder.parent / "generated_domain.pddl"
        problems = sorted(folder.glob("instance-*.pddl"), key=lambda p: int(p.stem.split("-")[1]))
        start = time.perf_counter()
        tasks = [load_task(domain_file, p) for p in problems]
        load_s = time.perf_counter() - start
        solved = valid = read_back = timeouts = 0
        lengths: list[int] = []
        texts: list[tuple[str, str, object]] = []
        start = time.perf_counter()
        for task in tasks:
            try:
                plan = solve(task, timeout_s=args.timeout)
            except SearchError:
                timeouts += 1
                continue
            if plan is None:
                continue
            solved += 1
            lengths.append(len(plan.steps))
            valid += validate(task, plan).valid
            nl = domain.render_plan(plan)
            extraction = domain.extract_plan(nl, task)
            read_back += extraction.plan is not None and extraction.plan.to_pddl() == plan.to_pddl()
            texts.append((nl, plan.to_pddl(), task))
        solve_s = time.perf_counter() - start
        start = time.perf_counter()
        for nl, _, task in texts:
            domain.extract_plan(nl, task)  # type: ignore[arg-type]
        extract_s = time.perf_counter() - start
        start = time.perf_counter()
        for _, pddl, _ in texts:
            parse_plan(pddl)
        parse_s = time.perf_counter() - start
        print(f"{name}: {len(tasks)} instances loaded in {load_s:.1f} s; optimal plans {solved} "
              f"(timeouts/errors {timeouts}), valid {valid}, NL rendering read back exactly {read_back}; "
              f"lengths {min(lengths)}-{max(lengths)}, mean {sum(lengths) / len(lengths):.1f}; search {solve_s:.0f} s")
        per = 1000 * extract_s / max(len(texts), 1)
        base = 1000 * parse_s / max(len(texts), 1)
        print(f"  extraction {per:.2f} ms/reply vs parse_plan on the PDDL {base:.3f} ms/plan (ratio {per / base:.0f}x)")


if __name__ == "__main__":
    main()
