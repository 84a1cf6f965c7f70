"""``run --batch``: the same episodes as live mode, round by round, resumable after SIGKILL, failed items retried."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.loop_scripting import ScriptedReplies
from helpers.run_cli import CLI, CRITIC, GENERATOR, call_records, run_cli, write_config

from planner_loop.errors import ConfigError
from planner_loop.experiment import load_experiment, parse_experiment
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.llm.pricing import Price
from planner_loop.orchestration import run_experiment

BATCH = "batch: {enabled: true, poll_s: 0.02}\n"


def run(config: Path, run_dir: Path, prices: dict[str, Price] | None = None) -> bytes:
    result = asyncio.run(run_experiment(load_experiment(config), run_dir, config_file=config,
                                        prices={} if prices is None else prices))
    assert result.stopped is None and result.ran == result.total == 8
    return (run_dir / "episodes.jsonl").read_bytes()


def batches(run_dir: Path) -> list[dict[str, Any]]:
    return list(json.loads((run_dir / "batches.json").read_text())["batches"])


def live_episodes(tmp_path: Path, server: FakeOpenAIServer) -> bytes:
    live = run(write_config(tmp_path, server.base_url, name="live"), tmp_path / "live")
    assert server.batch.batches_created == 0
    return live


def test_batch_mode_gives_the_episodes_of_live_mode_round_by_round(tmp_path: Path) -> None:
    with FakeOpenAIServer(ScriptedReplies(GENERATOR, CRITIC), batch_delay_s=0.05) as server:
        live = live_episodes(tmp_path, server)
        live_requests = server.requests
        run_dir = tmp_path / "batch"
        batched = run(write_config(tmp_path, server.base_url, name="batched", extra=BATCH), run_dir)
        assert server.requests == live_requests                      # no live chat request in batch mode
    assert batched.replace(b"batched", b"live") == live
    listed = batches(run_dir)
    paid = [r for r in call_records(run_dir) if r["cache"] == "write"]
    assert paid and {r["batch_id"] for r in paid} == {b["id"] for b in listed}
    # round-synchronous: one job per round of the episodes (generator rounds, critic votes between them),
    # not one per request; every request went out once
    assert len(listed) <= 6 < len(paid)
    ids = [cid for b in listed for cid in b["custom_ids"]]
    assert len(ids) == len(set(ids)) == len(paid)
    assert len(listed[0]["custom_ids"]) == 4                        # round 1: 2 instances x 2 seeds (shared)


def test_batch_prices_are_half_the_live_prices(tmp_path: Path) -> None:
    prices = {"fake": Price(1000.0, 2000.0)}
    with FakeOpenAIServer(ScriptedReplies(GENERATOR, CRITIC), batch_delay_s=0.02) as server:
        live = run(write_config(tmp_path, server.base_url, name="live"), tmp_path / "live", prices)
        batched = run(write_config(tmp_path, server.base_url, name="live", extra=BATCH), tmp_path / "batch", prices)

    def costs(text: bytes) -> tuple[list[float], list[dict[str, Any]]]:
        found: list[float] = []

        def strip(value: Any) -> Any:
            if isinstance(value, dict):
                if isinstance(value.get("cost_usd"), float):
                    found.append(value["cost_usd"])
                return {k: strip(v) for k, v in value.items() if k != "cost_usd"}
            return [strip(v) for v in value] if isinstance(value, list) else value

        records = [strip(json.loads(line)) for line in text.splitlines()]
        return found, records

    live_costs, live_rest = costs(live)
    batch_costs, batch_rest = costs(batched)
    assert batch_rest == live_rest                          # only the dollars differ
    assert live_costs and len(batch_costs) == len(live_costs)
    assert batch_costs == pytest.approx([c / 2 for c in live_costs])
    paid = [r for r in call_records(tmp_path / "batch") if r["cache"] == "write"]
    assert all(r["batch_id"] and r["cost_usd"] > 0 for r in paid)


def test_failed_batch_items_are_retried_in_a_later_batch(tmp_path: Path) -> None:
    with FakeOpenAIServer(ScriptedReplies(GENERATOR, CRITIC), batch_failed_items=3) as server:
        live = live_episodes(tmp_path, server)
        run_dir = tmp_path / "batch"
        batched = run(write_config(tmp_path, server.base_url, name="live", extra=BATCH), run_dir)
        assert server.batch.items_failed == 3
    assert batched == live
    assert not [r for r in call_records(run_dir) if r.get("error")]
    resent = [cid for cid in {c for b in batches(run_dir) for c in b["custom_ids"]}
              if sum(cid in b["custom_ids"] for b in batches(run_dir)) > 1]
    assert len(resent) == 3                                  # each failed item went into one more batch


def test_a_killed_batch_run_resumes_by_polling_the_same_batch(tmp_path: Path) -> None:
    with FakeOpenAIServer(ScriptedReplies(GENERATOR, CRITIC), batch_delay_s=0.4) as server:
        live = live_episodes(tmp_path, server)
        config = write_config(tmp_path, server.base_url, name="live")
        run_dir = tmp_path / "batch"
        options = ["run", str(config), "--out", str(run_dir), "--batch", "--batch-poll", "0.05"]
        process = subprocess.Popen([CLI, *options], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while server.batch.retrievals < 2 or not (run_dir / "batches.json").exists():
                assert process.poll() is None and time.monotonic() < deadline, "the run ended before a poll"
                time.sleep(0.01)
            os.kill(process.pid, signal.SIGKILL)                 # between polls of the first batch
        finally:
            process.wait(timeout=30)
        assert [b["id"] for b in batches(run_dir)] == ["batch_fake_1"]
        assert server.batch.batches["batch_fake_1"].status == "in_progress"
        assert not (run_dir / "episodes.jsonl").exists() or not (run_dir / "episodes.jsonl").read_bytes()
        resumed = run_cli(*options, timeout=120)
        assert resumed.returncode == 0, resumed.stderr
        assert "paid calls, cost unknown (no price for fake: give one with --prices FILE)" in resumed.stderr
        assert "$0.0000" not in resumed.stderr
        created = server.batch.batches_created
    assert (run_dir / "episodes.jsonl").read_bytes() == live
    listed = batches(run_dir)
    assert listed[0]["id"] == "batch_fake_1" and len(listed) == created   # nothing submitted twice
    ids = [cid for b in listed for cid in b["custom_ids"]]
    assert len(ids) == len(set(ids))
    first = [r for r in call_records(run_dir) if r.get("batch_id") == "batch_fake_1"]
    assert len(first) == len(listed[0]["custom_ids"])       # the resumed process used the first batch's results


def test_batch_mode_refuses_a_model_on_this_machine_before_writing(tmp_path: Path) -> None:
    config = parse_experiment({"name": "local-batch", "instances": {"set": "blocksworld/3-5", "limit": 1},
                               "conditions": [{"name": "sound", "system": "llm+sound"}],
                               "batch": {"enabled": True}})
    with pytest.raises(ConfigError, match="batch mode needs an endpoint"):
        asyncio.run(run_experiment(config, tmp_path / "run", prices={}))
    assert not (tmp_path / "run").exists()


def test_the_dry_run_prices_a_batch_run_at_half(tmp_path: Path) -> None:
    from planner_loop.run_estimate import describe, estimate_run

    prices = {"fake": Price(1000.0, 2000.0)}
    live = write_config(tmp_path, "http://127.0.0.1:9/v1", name="live")
    batched = write_config(tmp_path, "http://127.0.0.1:9/v1", name="batched", extra=BATCH)
    live_estimate = asyncio.run(estimate_run(load_experiment(live), config_file=live, prices=prices))
    batch_estimate = asyncio.run(estimate_run(load_experiment(batched), config_file=batched, prices=prices))
    assert batch_estimate.total("calls_high") == live_estimate.total("calls_high")
    assert batch_estimate.total("cost_high") == pytest.approx(live_estimate.total("cost_high") / 2)
    assert "at Batch API prices" in describe(batch_estimate)[-2] and "Batch" not in "".join(describe(live_estimate))


def test_a_resumed_priced_batch_run_prices_its_cached_replies_at_the_batch_rate(tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  fake: {input: 1000.0, output: 1000.0}\n")
    with FakeOpenAIServer(ScriptedReplies(GENERATOR, CRITIC), batch_delay_s=0.02) as server:
        config = write_config(tmp_path, server.base_url, name="priced")
        options = ["--batch", "--batch-poll", "0.02", "--prices", str(prices)]
        full = run_cli("run", config, "--out", tmp_path / "full", *options)
        assert full.returncode == 0, full.stderr
        expected = (tmp_path / "full" / "episodes.jsonl").read_bytes()
        run_dir = tmp_path / "run"
        stopped = run_cli("run", config, "--out", run_dir, *options, "--max-calls", "6")
        assert stopped.returncode == 3, stopped.stderr
        resumed = run_cli("run", config, "--out", run_dir, *options)
        assert resumed.returncode == 0, resumed.stderr
    reads = [r for r in call_records(run_dir) if r["cache"] == "read"]
    assert reads, "the resumed run must read replies the stopped one paid for"
    assert (run_dir / "episodes.jsonl").read_bytes() == expected
    costs = [r["usage"]["cost_usd"] for r in map(json.loads, expected.splitlines())]
    assert all(c is not None and c > 0 for c in costs)
    batch_paid = [r for r in call_records(tmp_path / "full") if r["cache"] == "write"]
    tokens = sum(r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"] for r in batch_paid)
    assert sum(r["cost_usd"] for r in batch_paid) == pytest.approx(tokens * 1000.0 / 1e6 / 2)   # half the live rate


def test_the_cache_keeps_the_batch_that_answered() -> None:
    from planner_loop.llm.cache import CachedReply

    reply = CachedReply(text="put down the red block", finish_reason="stop", prompt_tokens=7, completion_tokens=5,
                        batch_id="batch_fake_3")
    assert CachedReply.from_json(reply.to_json()) == reply
    assert CachedReply.from_json(CachedReply("a", "stop", 1, 1).to_json()).batch_id is None
