"""Plan extraction and verdict reading time per reply on the shared PlanBench result files.

Every generator reply (every round of back-prompting files) of every result file under
``../shared/planbench`` is read with its domain's extractor (tasks loaded beforehand, so only
reading is timed); task-3 replies are read with the verdict reader. Prints, per file, the replies
read, the mean and the 99th-percentile time per reply, and the slowest reply. Run by hand:

    .venv/bin/python benchmarks/extraction.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from planner_loop.domains import get_domain
from planner_loop.domains.planbench_formats import find_domain_file, instance_folder, load_result_file, planner_domain
from planner_loop.planning.task import load_task
from planner_loop.verifiers.verdict_reader import read_verdict

SHARED = Path(__file__).resolve().parents[2] / "shared" / "planbench"


def main() -> None:
    files = sorted(p for p in SHARED.rglob("*.json") if any(part.startswith("results") for part in p.parts))
    print(f"{'file':<78} {'replies':>7} {'mean ms':>8} {'p99 ms':>7} {'max ms':>7}")
    blocks_times: list[float] = []
    for path in files:
        data = load_result_file(path)
        domain = get_domain(planner_domain(data.domain, path))
        folder = instance_folder(SHARED, data.domain, path)
        pddl = find_domain_file(folder) or domain.domain_file
        times: list[float] = []
        if data.judgements:
            for judgement in data.judgements:
                start = time.perf_counter()
                read_verdict(judgement.reply)
                times.append(time.perf_counter() - start)
        else:
            tasks = {r.instance_id: load_task(pddl, folder / f"instance-{r.instance_id}.pddl") for r in data.replies}
            for reply in data.replies:
                task = tasks[reply.instance_id]
                start = time.perf_counter()
                domain.extract_plan(reply.reply, task)
                times.append(time.perf_counter() - start)
            if domain.name == "blocksworld":
                blocks_times += times
        ms = sorted(t * 1000 for t in times)
        p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        name = str(path.relative_to(SHARED))
        name = name if len(name) <= 78 else "..." + name[-75:]
        print(f"{name:<78} {len(ms):>7} {statistics.fmean(ms):>8.3f} {p99:>7.3f} {ms[-1]:>7.3f}")
    if blocks_times:
        print(f"Blocks World plan extraction: {len(blocks_times)} replies, "
              f"mean {1000 * statistics.fmean(blocks_times):.3f} ms per reply (limit 2 ms)")


if __name__ == "__main__":
    main()
