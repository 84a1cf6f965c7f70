"""``experiments/strategies.yaml`` through the CLI against the fake OpenAI server: the run completes,
resumes after SIGKILL with no episode lost or repeated and no budget exceeded, and ``report`` writes
the cost-accuracy table and the frontier plot. A slow test runs the same config with the embedded model."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from helpers.run_cli import CLI, run_cli
from helpers.strategy_episodes import is_critic, last_user

from planner_loop.experiment import load_experiment
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.runs import RunStore

CONFIG = Path(__file__).resolve().parents[1] / "experiments" / "strategies.yaml"
PLAN = "pick up the red block\nput down the red block\n[PLAN END]"


def responder(request: Mapping[str, Any]) -> str:
    """A reply for every strategy's prompt (not a good planner: the point is the bookkeeping)."""
    if is_critic(request):
        return "Verdict: invalid"
    prompt = last_user(request)
    if "response_format" in request:
        return json.dumps({"plan": [{"action": "pick-up", "args": ["a"]}]})
    if "Propose up to" in prompt:
        return "pick up the red block\nunstack the red block from on top of the blue block\nput down the red block"
    if "PLAN CONFIRMED" in prompt:
        return "PLAN CONFIRMED"
    if "CALL simulate" in prompt and not any("TOOL RESULT" in str(m.get("content")) for m in request["messages"]):
        return "CALL validate\n" + PLAN + "\nEND CALL"
    if "FINAL ANSWER:" in prompt:
        return "Thinking about it.\nFINAL ANSWER:\n" + PLAN
    return PLAN


def check_budgets(run_dir: Path) -> list[dict[str, Any]]:
    records = RunStore(run_dir).episodes()
    config = load_experiment(CONFIG)
    budgets = {c.name: c.budget for c in config.conditions}
    for record in records:
        budget = budgets[record["condition"]]
        assert record["usage"]["calls"] <= budget.max_calls, record["key"]
        assert record["strategy"]["budget"] == budget.model_dump()
    return records


def test_strategies_config_runs_resumes_after_sigkill_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with FakeOpenAIServer(responder, latency_s=0.02) as server:
        model = f"openai:M@{server.base_url}"
        args = [CLI, "run", str(CONFIG), "--limit", "2", "--model", model, "--out", str(out)]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        episodes = out / "episodes.jsonl"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            if episodes.exists() and episodes.read_bytes().count(b"\n") >= 4:
                break
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        partial = len(RunStore(out).episodes())
        assert 4 <= partial < 32, "the run must be killed mid-way"
        resumed = run_cli("run", CONFIG, "--limit", "2", "--model", model, "--out", out, timeout=600)
        assert resumed.returncode == 0, resumed.stderr
    records = check_budgets(out)
    assert len(records) == 32 and len({r["key"] for r in records}) == 32
    names = {r["condition"]: r["strategy"]["name"] for r in records}
    assert set(names.values()) == {"refine", "cot", "self-consistency", "reflection", "tree-search", "tool-use",
                                   "constrained"}
    oracle = next(r for r in records if r["condition"] == "sc-oracle-small")
    assert oracle["strategy"]["params"]["oracle"] is True
    assert any(r["termination"] == "budget" for r in records)

    report_dir = tmp_path / "report"
    done = run_cli("report", out, "--out", report_dir, timeout=300)
    assert done.returncode == 0, done.stderr
    table = (report_dir / "tables" / "strategy_cost.csv").read_text(encoding="utf-8").splitlines()
    assert table[0].startswith("condition,strategy,episodes,correct,accuracy %")
    assert len(table) == 1 + 16
    refine_small = next(line.split(",") for line in table[1:] if line.startswith("refine-small,"))
    calls = [r["usage"]["calls"] for r in records if r["condition"] == "refine-small"]
    assert float(refine_small[7]) == pytest.approx(sum(calls) / len(calls))
    assert (report_dir / "plots" / "strategy_frontier.png").stat().st_size > 1000
    assert "Pareto frontier" in (report_dir / "report.md").read_text(encoding="utf-8")
    assert (report_dir / "tables" / "strategy_pairs.csv").read_text(encoding="utf-8").count("\n") == 1 + 16 * 15 // 2


@pytest.mark.slow
def test_strategies_config_runs_offline_with_the_embedded_model(tmp_path: Path) -> None:
    config = tmp_path / "strategies.yaml"
    text = CONFIG.read_text(encoding="utf-8").replace("max_tokens: 400", "max_tokens: 16")
    config.write_text(text, encoding="utf-8")
    done = run_cli("run", config, "--limit", "1", "--out", tmp_path / "run", timeout=3600)
    assert done.returncode == 0, done.stderr
    records = RunStore(tmp_path / "run").episodes()
    assert len(records) == 16 and all(r["generator_model"] == "local" for r in records)
