"""Run-level budgets (``--max-calls``, ``--max-cost``) stop cleanly and resume; ``--dry-run`` bounds the real run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.loop_scripting import ScriptedReplies
from helpers.run_cli import CRITIC, GENERATOR, call_records, paid_calls, run_cli, write_config

from planner_loop.experiment import load_experiment
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.orchestration import resolve_prices
from planner_loop.run_estimate import estimate_run
from planner_loop.runs import RunStore

PRICE_PER_MTOK = 1000.0     # $0.001 a (fake, word-counted) token: a call costs tenths of a dollar


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(ScriptedReplies(GENERATOR, CRITIC), latency_s=0.02) as fake:
        yield fake


def full(tmp_path: Path, config: Path, *options: str | Path) -> tuple[bytes, int]:
    done = run_cli("run", config, "--out", tmp_path / "full", *options)
    assert done.returncode == 0, done.stderr
    return (tmp_path / "full" / "episodes.jsonl").read_bytes(), paid_calls(tmp_path / "full")


def spent_usd(run_dir: Path) -> float:
    return sum(r["cost_usd"] for r in call_records(run_dir) if r["cache"] == "write" and r.get("error") is None)


def test_max_calls_stops_at_the_limit_and_resumes(tmp_path: Path, server: FakeOpenAIServer) -> None:
    config = write_config(tmp_path, server.base_url)
    expected, full_paid = full(tmp_path, config)
    run_dir = tmp_path / "run"
    stopped = run_cli("run", config, "--out", run_dir, "--max-calls", "5")
    assert stopped.returncode == 3, stopped.stderr
    last = stopped.stderr.strip().splitlines()[-1]
    assert last.startswith("planner-loop: stopped at --max-calls 5: spent 5 paid calls"), last
    assert "resume with: planner-loop run" in last
    assert paid_calls(run_dir) == 5
    saved = len(RunStore(run_dir).episodes())
    assert saved < 8 and f"{saved} of 8 episodes saved" in last
    again = run_cli("run", config, "--out", run_dir, "--max-calls", "5")    # the limit counts earlier sessions
    assert again.returncode == 3 and paid_calls(run_dir) == 5
    resumed = run_cli("run", config, "--out", run_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert (run_dir / "episodes.jsonl").read_bytes() == expected
    assert paid_calls(run_dir) <= full_paid + 1          # stopped calls were cached, not paid again


def test_max_cost_stops_within_the_calls_in_flight_and_resumes(tmp_path: Path, server: FakeOpenAIServer) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text(f"models:\n  fake: {{input: {PRICE_PER_MTOK}, output: {PRICE_PER_MTOK}}}\n")
    config = write_config(tmp_path, server.base_url)
    expected, _ = full(tmp_path, config, "--prices", prices)          # episodes carry their cost too
    run_dir = tmp_path / "run"
    stopped = run_cli("run", config, "--out", run_dir, "--prices", prices, "--max-cost", "1.5")
    assert stopped.returncode == 3, stopped.stderr
    records = [r for r in call_records(run_dir) if r["cache"] == "write"]
    assert records and all(r["cost_usd"] is not None and r["cost_usd"] > 0 for r in records)
    most = max(r["cost_usd"] for r in records)
    spent = spent_usd(run_dir)
    assert 1.5 <= spent <= 1.5 + 2 * most                # concurrency 2: at most two calls were in flight
    last = stopped.stderr.strip().splitlines()[-1]
    assert last.startswith(f"planner-loop: stopped at --max-cost 1.5: spent {len(records)} paid calls, ${spent:,.4f}")
    resumed = run_cli("run", config, "--out", run_dir, "--prices", prices, "--max-cost", "1000")
    assert resumed.returncode == 0, resumed.stderr
    # episodes record what each reply costs, cached or not: the resumed run equals the uninterrupted one
    assert (run_dir / "episodes.jsonl").read_bytes() == expected
    assert "spent" in resumed.stderr and "$" in resumed.stderr


def test_max_cost_without_a_price_is_refused_before_anything_is_written(tmp_path: Path,
                                                                       server: FakeOpenAIServer) -> None:
    config = write_config(tmp_path, server.base_url)
    refused = run_cli("run", config, "--out", tmp_path / "run", "--max-cost", "1")
    assert refused.returncode == 2 and "no price for model 'fake'" in refused.stderr
    assert refused.stderr.strip().count("\n") == 0 and not (tmp_path / "run").exists()


def test_dry_run_bounds_the_real_run(tmp_path: Path, server: FakeOpenAIServer) -> None:
    config = write_config(tmp_path, server.base_url)
    run_dir = tmp_path / "run"
    dry = run_cli("run", config, "--out", run_dir, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert server.requests == 0 and not run_dir.exists()
    assert "dry run: 8 episodes to run" in dry.stdout and "calls" in dry.stdout and "bounds:" in dry.stdout

    experiment = load_experiment(config)
    estimate = asyncio.run(estimate_run(experiment, config_file=config,
                                        prices=resolve_prices(experiment, config_file=config)))
    done = run_cli("run", config, "--out", run_dir)
    assert done.returncode == 0, done.stderr
    paid = [r for r in call_records(run_dir) if r["cache"] == "write"]
    every = [r for r in call_records(run_dir) if r.get("error") is None]
    assert estimate.total("calls_low") <= len(paid) and len(every) <= estimate.total("calls_high")
    assert sum(r["usage"]["prompt_tokens"] for r in every) <= estimate.total("prompt_tokens_high")
    assert sum(r["usage"]["completion_tokens"] for r in every) <= estimate.total("completion_tokens_high")
    # a resumed run directory: only the episodes still to run are counted
    again = run_cli("run", config, "--out", run_dir, "--dry-run")
    assert "dry run: 0 episodes to run (8 already done)" in again.stdout
