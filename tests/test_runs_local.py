"""The worked example with the embedded local model, offline, through the real CLI (slow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planner_loop.domains import get_domain
from planner_loop.loop import ground_truth
from planner_loop.planning.plan import parse_plan
from planner_loop.runs import RunStore

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "planner-loop")


@pytest.mark.slow
def test_example_experiment_with_the_embedded_model(tmp_path: Path) -> None:
    run_dir = tmp_path / "example"
    done = subprocess.run([CLI, "run", str(ROOT / "experiments" / "example.yaml"), "--out", str(run_dir),
                           "--limit", "2"], capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr
    records = RunStore(run_dir).episodes()
    assert sorted(r["key"] for r in records) == sorted(
        f"{c}/instance-{i}/seed0" for c in ("llm-only", "llm+llm", "llm+sound") for i in (1, 2))
    domain = get_domain("blocksworld")
    logged = {json.loads(line)["call_id"] for line in (run_dir / "calls.jsonl").read_text().splitlines()}
    for record in records:
        task = domain.load_task(ROOT / record["instance"]["problem"])
        assert record["termination"] in ("accepted", "max_rounds")
        assert 1 <= len(record["rounds"]) <= record["max_rounds"]
        for item in record["rounds"]:
            plan = parse_plan("\n".join(item["plan"])) if item["plan"] is not None else None
            assert item["ground_truth"] == ground_truth(task, plan, item["parse_error"])
            assert set(item["call_ids"]) <= logged
        assert record["final"]["valid"] == record["rounds"][-1]["ground_truth"]["valid"]
        assert record["prompt"]["constrained"] is True
    shown = subprocess.run([CLI, "show", str(run_dir)], capture_output=True, text=True, timeout=60, check=False)
    assert shown.returncode == 0 and "llm+sound/instance-2/seed0" in shown.stdout
    one = subprocess.run([CLI, "show", str(run_dir), "llm+llm/instance-1/seed0"], capture_output=True, text=True,
                         timeout=60, check=False)
    assert one.returncode == 0 and "round 1" in one.stdout and "ground truth" in one.stdout
