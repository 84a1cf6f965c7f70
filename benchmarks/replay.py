"""Replay the full valmeekam2023 study (Tables 1-3: both configs, 100 + 50 instances) from a recorded cache.

1. Record: run experiments/valmeekam2023.yaml and valmeekam2023-feedback.yaml against the fake OpenAI
   server (real HTTP, real openai client) with a scripted generator and critic, one shared cache.
2. Replay: run both configs again with ``cache.mode: replay`` into fresh run directories (given the
   recorded runs' solved_plans.json, the one-shot examples' optimal plans), with no server at all.
   Timed; then the report is written from the replayed runs (timed separately).
3. Check: replayed episodes equal the recorded ones (byte for byte, order aside) and the tables are byte-identical.

    .venv/bin/python benchmarks/replay.py [--instances 100] [--resolve-examples]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers.study_script import InstanceScript, StudyScript, study_scripts  # noqa: E402

from planner_loop.analysis.report import write_report  # noqa: E402
from planner_loop.experiment import ExperimentConfig, load_experiment  # noqa: E402
from planner_loop.llm.fake_server import FakeOpenAIServer  # noqa: E402
from planner_loop.runs import run_experiment  # noqa: E402

CONFIGS = ("valmeekam2023.yaml", "valmeekam2023-feedback.yaml")
PATTERNS = [
    InstanceScript(("valid",), {"valid": "valid"}),
    InstanceScript(("short", "valid"), {"short": "valid", "valid": "valid"}),
    InstanceScript(("none", "short?", "short?"), {"valid": "valid"}),
    InstanceScript(("bad", "short", "valid"), {"bad": "unreadable", "valid": "invalid"}),
    InstanceScript(("short",), {}),                      # never solved: all 15 rounds
    InstanceScript(("bad", "short?"), {"short": "valid"}),
    InstanceScript(("short", "bad", "short?"), {"valid": "valid", "bad": "valid"}),
]


def configure(filename: str, spec: str, cache: Path, mode: str, instances: int) -> ExperimentConfig:
    config = load_experiment(ROOT / "experiments" / filename).with_overrides(model=spec, concurrency=8)
    data = config.model_dump(mode="json")
    data["cache"] = {"mode": mode, "path": str(cache)}
    data["instances"]["limit"] = min(instances, data["instances"]["limit"] or instances)
    return ExperimentConfig.model_validate(data)


def episodes(run_dir: Path) -> list[str]:
    """Episode lines exactly as written, sorted (concurrent episodes finish in any order)."""
    return sorted((run_dir / "episodes.jsonl").read_text().splitlines())


def digest_tables(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((out / "tables").iterdir())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--resolve-examples", action="store_true",
                        help="do not give the replay the recorded solved_plans.json (re-solve examples with the planner)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="planner-loop-replay-"))
    cache = work / "cache.sqlite"
    ids = [f"instance-{i}" for i in range(1, args.instances + 1)]
    script = StudyScript("blocksworld/3-5", study_scripts(ids, PATTERNS))

    started = time.perf_counter()
    with FakeOpenAIServer(script) as server:
        spec = f"openai:fake@{server.base_url}"
        for filename in CONFIGS:
            config = configure(filename, spec, cache, "read-write", args.instances)
            asyncio.run(run_experiment(config, work / "recorded" / config.name))
        requests = server.requests
    record_s = time.perf_counter() - started

    replay_dirs = []
    for filename in CONFIGS:
        config = configure(filename, spec, cache, "replay", args.instances)
        target = work / "replayed" / config.name
        target.mkdir(parents=True)
        if not args.resolve_examples:
            shutil.copy(work / "recorded" / config.name / "solved_plans.json", target / "solved_plans.json")
        replay_dirs.append((config, target))
    started = time.perf_counter()
    for config, target in replay_dirs:
        asyncio.run(run_experiment(config, target))
    replay_s = time.perf_counter() - started

    started = time.perf_counter()
    write_report([target for _, target in replay_dirs], work / "replayed-report")
    report_s = time.perf_counter() - started
    write_report([work / "recorded" / config.name for config, _ in replay_dirs], work / "recorded-report")

    same_episodes = all(episodes(work / "recorded" / c.name) == episodes(t) for c, t in replay_dirs)
    same_tables = digest_tables(work / "recorded-report") == digest_tables(work / "replayed-report")
    total = sum(len(episodes(t)) for _, t in replay_dirs)
    calls = sum(1 for _, t in replay_dirs for _ in (t / "calls.jsonl").open())
    print(f"instances: {args.instances} (+{min(args.instances, 50)} for Table 3); episodes: {total}; "
          f"LLM calls replayed: {calls}; fake-server requests while recording: {requests}")
    print(f"record through the fake server: {record_s:.2f} s")
    print(f"replay from the cache:          {replay_s:.2f} s  ({record_s / replay_s:.1f}x faster than recording)")
    print(f"report from the replayed runs:  {report_s:.2f} s")
    print(f"replayed episodes identical (byte for byte, order aside): {same_episodes}; tables byte-identical: {same_tables}")
    shutil.rmtree(work)
    if not (same_episodes and same_tables):
        sys.exit(1)


if __name__ == "__main__":
    main()
