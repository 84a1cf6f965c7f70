"""Run directories: a run killed mid-way (real subprocess, SIGKILL) resumes to the same records.

The fake OpenAI server runs in this test process; ``planner-loop run`` subprocesses talk to it over
real HTTP, so the server's request counter sees every call that reached the endpoint.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.loop_scripting import ScriptedReplies

from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.runs import RunStore

CLI = str(Path(sys.executable).parent / "planner-loop")
GENERATOR = ["pick up the blue block\npick up the red block\n[PLAN END]",
             "I would rather not.",
             "put down the red block\n[PLAN END]"]
CRITIC = {"put down the red block": "Verdict: valid"}


def write_config(folder: Path, base_url: str, *, limit: int = 4, seeds: tuple[int, ...] = (0,)) -> Path:
    config = f"""
name: resume
instances: {{set: blocksworld/3-5, limit: {limit}}}
prompt: {{encoding: nl, shots: 1}}
generator: {{model: "openai:fake@{base_url}", max_tokens: 64, timeout_s: 20}}
conditions:
  - {{name: sound, system: llm+sound, feedback: all-errors, max_rounds: 3, context: history}}
  - {{name: critic, system: llm+llm, max_rounds: 3}}
seeds: {list(seeds)}
concurrency: 2
"""
    path = folder / "resume.yaml"
    path.write_text(config, encoding="utf-8")
    return path


def normalised(records: list[dict[str, Any]]) -> list[str]:
    """Records as sorted canonical JSON (call ids included: they derive from the requests)."""
    return sorted(json.dumps(record, sort_keys=True) for record in records)


def completed_calls(run_dir: Path) -> int:
    path = run_dir / "calls.jsonl"
    if not path.exists():
        return 0
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.endswith("}")]
    return sum(json.loads(line)["cache"] == "write" for line in lines)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300, check=False)


def test_kill_and_resume_matches_uninterrupted_run(tmp_path: Path) -> None:
    script = ScriptedReplies(GENERATOR, CRITIC)
    with FakeOpenAIServer(script, latency_s=0.08) as server:
        config = write_config(tmp_path, server.base_url)
        full = run_cli("run", str(config), "--out", str(tmp_path / "full"))
        assert full.returncode == 0, full.stderr
        full_requests = server.requests
        expected = RunStore(tmp_path / "full").episodes()
        assert len(expected) == 8

        killed_dir = tmp_path / "killed"
        before = server.requests
        process = subprocess.Popen([CLI, "run", str(config), "--out", str(killed_dir)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        episodes = killed_dir / "episodes.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if episodes.exists() and episodes.read_bytes().count(b"\n") >= 2:
                break
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        at_kill = server.requests - before
        in_flight = at_kill - completed_calls(killed_dir)
        partial = RunStore(killed_dir).episodes()
        assert 2 <= len(partial) < 8, "the run must be killed mid-way"

        resumed = run_cli("run", str(config), "--out", str(killed_dir))
        assert resumed.returncode == 0, resumed.stderr
        assert "already done" in resumed.stderr
        total = server.requests - before

    got = RunStore(killed_dir).episodes()
    assert normalised(got) == normalised(expected)
    assert (killed_dir / "episodes.jsonl").read_bytes() == (tmp_path / "full" / "episodes.jsonl").read_bytes()
    assert len({r["key"] for r in got}) == len(got) == 8
    # Every call finished before the kill came from the cache; only calls cut off in flight repeat.
    assert full_requests <= total <= full_requests + in_flight
    assert in_flight <= 2 * 2   # concurrency 2 episodes, at most generator + a critic call each


def test_resume_refuses_a_changed_config_and_show_reads_the_run(tmp_path: Path) -> None:
    script = ScriptedReplies(GENERATOR, CRITIC)
    with FakeOpenAIServer(script) as server:
        config = write_config(tmp_path, server.base_url, limit=1)
        first = run_cli("run", str(config), "--out", str(tmp_path / "run"))
        assert first.returncode == 0, first.stderr
        requests = server.requests
        again = run_cli("run", str(config), "--out", str(tmp_path / "run"))
        assert again.returncode == 0 and server.requests == requests   # nothing left to do
        changed = write_config(tmp_path, server.base_url, limit=1, seeds=(0, 1))
        refused = run_cli("run", str(changed), "--out", str(tmp_path / "run"))
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0 and "different config" in refused.stderr
    assert "Traceback" not in refused.stderr

    summary = run_cli("show", str(tmp_path / "run"))
    assert summary.returncode == 0, summary.stderr
    assert "sound/instance-1/seed0" in summary.stdout and "critic/instance-1/seed0" in summary.stdout
    transcript = run_cli("show", str(tmp_path / "run"), "critic/instance-1/seed0")
    assert transcript.returncode == 0, transcript.stderr
    for text in ("round 1", "round 3", "pick up the blue block", "ground truth", "no plan read", "critic reply",
                 "termination", "accepted"):
        assert text in transcript.stdout, text
    missing = run_cli("show", str(tmp_path / "run"), "nope")
    assert missing.returncode == 2 and "no episode" in missing.stderr


def test_bad_config_and_unreachable_endpoint_exit_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ninstances: {set: blocksworld/3-5}\nconditions:\n  - {name: a, system: llm+llm, votse: 3}\n")
    result = run_cli("run", str(bad), "--out", str(tmp_path / "r"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"planner-loop: error: {bad}:4: conditions[0:a].votse: unknown key")
    assert result.stderr.strip().count("\n") == 0

    with FakeOpenAIServer(ScriptedReplies(GENERATOR)) as server:
        url = server.base_url
    config = write_config(tmp_path, url, limit=1)
    result = run_cli("run", str(config), "--out", str(tmp_path / "dead"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("planner-loop: error:")
    assert RunStore(tmp_path / "dead").episodes() == []


def test_torn_last_line_is_discarded_on_resume(tmp_path: Path) -> None:
    store_dir = tmp_path / "run"
    store_dir.mkdir()
    (store_dir / "episodes.jsonl").write_text('{"key": "a/i/seed0"}\n{"key": "b/i/se', encoding="utf-8")
    store = RunStore(store_dir)
    assert store.finished_keys() == {"a/i/seed0"}
    store.repair()
    store.append({"key": "c/i/seed0"})
    assert [r["key"] for r in store.episodes()] == ["a/i/seed0", "c/i/seed0"]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL semantics")
def test_cli_help_lists_run_and_show() -> None:
    result = run_cli("--help")
    assert result.returncode == 0 and " run " in result.stdout and " show " in result.stdout


def test_finished_run_is_written_in_job_order(tmp_path: Path) -> None:
    script = ScriptedReplies(GENERATOR, CRITIC)
    with FakeOpenAIServer(script, latency_s=0.01) as server:
        config = write_config(tmp_path, server.base_url, limit=3)
        done = run_cli("run", str(config), "--out", str(tmp_path / "run"), "--concurrency", "4")
    assert done.returncode == 0, done.stderr
    keys = [r["key"] for r in RunStore(tmp_path / "run").episodes()]
    assert keys == [f"{c}/instance-{i}/seed0" for c in ("sound", "critic") for i in (1, 2, 3)]
