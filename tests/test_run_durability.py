"""Run directories under abuse: two runs on one directory, kills, torn lines, Ctrl-C, a full or read-only disk,
failed starts. ``planner-loop run`` runs in subprocesses against the fake OpenAI server in this process."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.loop_scripting import ScriptedReplies
from helpers.run_cli import CLI, CRITIC, GENERATOR, call_records, run_cli, write_config

from planner_loop.experiment import load_experiment
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.runs import RunStore, run_experiment


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(ScriptedReplies(GENERATOR, CRITIC), latency_s=0.05) as fake:
        yield fake


def wait_for(predicate: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def full_run(tmp_path: Path, config: Path) -> bytes:
    done = run_cli("run", config, "--out", tmp_path / "full")
    assert done.returncode == 0, done.stderr
    return (tmp_path / "full" / "episodes.jsonl").read_bytes()


def test_second_run_on_a_directory_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    with FakeOpenAIServer(ScriptedReplies(GENERATOR, CRITIC), latency_s=0.5) as server:
        config = write_config(tmp_path, server.base_url, limit=1, seeds=(0,), concurrency=1)
        expected = full_run(tmp_path, config)
        single = server.requests
        run_dir = tmp_path / "run"
        first = subprocess.Popen([CLI, "run", str(config), "--out", str(run_dir)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        wait_for(lambda: (run_dir / "manifest.json").exists())
        second = run_cli("run", config, "--out", run_dir)
        assert first.poll() is None, "the first run must still hold the directory"
        _, first_err = first.communicate(timeout=120)
        assert server.requests - single <= single                         # nothing paid twice
    assert first.returncode == 0, first_err
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert f"PID {first.pid}" in second.stderr and second.stderr.strip().count("\n") == 0
    assert (run_dir / "episodes.jsonl").read_bytes() == expected          # the holder's records are intact
    assert not list(run_dir.glob("*.tmp"))


def test_stale_lock_of_a_killed_run_is_taken_over(tmp_path: Path, server: FakeOpenAIServer) -> None:
    config = write_config(tmp_path, server.base_url, limit=1, seeds=(0,))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    dead = subprocess.Popen(["sleep", "30"])
    dead.kill()
    dead.wait()
    (run_dir / "run.lock").write_text(f"{dead.pid}\n")
    done = run_cli("run", config, "--out", run_dir)
    assert done.returncode == 0, done.stderr
    assert len(RunStore(run_dir).episodes()) == 2


def test_torn_last_lines_of_both_logs_are_repaired_and_rerun_from_the_cache(tmp_path: Path,
                                                                            server: FakeOpenAIServer) -> None:
    config = write_config(tmp_path, server.base_url)
    expected = full_run(tmp_path, config)
    requests = server.requests
    torn = tmp_path / "torn"
    shutil.copytree(tmp_path / "full", torn)
    for name in ("episodes.jsonl", "calls.jsonl"):
        data = (torn / name).read_bytes()
        (torn / name).write_bytes(data[: data.rstrip(b"\n").rfind(b"\n") + 1 + 25])   # half a last line
    assert RunStore(torn).finished_keys() == {json.loads(line)["key"] for line in expected.splitlines()[:-1]}
    done = run_cli("run", config, "--out", torn)
    assert done.returncode == 0, done.stderr
    assert "repaired a torn last line of episodes.jsonl, calls.jsonl" in done.stderr
    assert (torn / "episodes.jsonl").read_bytes() == expected
    assert server.requests == requests                                     # the lost episode came from the cache
    assert all(isinstance(record, dict) for record in call_records(torn))
    assert (torn / "calls.jsonl").read_bytes().endswith(b"\n")


def test_sigint_stops_cleanly_and_says_how_to_resume(tmp_path: Path, server: FakeOpenAIServer) -> None:
    config = write_config(tmp_path, server.base_url, seeds=(0, 1, 2), concurrency=1)
    expected = full_run(tmp_path, config)
    full_requests = server.requests
    run_dir = tmp_path / "run"
    process = subprocess.Popen([CLI, "run", str(config), "--out", str(run_dir), "--progress-every", "0.2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: lines(run_dir / "episodes.jsonl") >= 2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    (message,) = [line for line in stderr.splitlines() if "interrupted" in line]
    saved = lines(run_dir / "episodes.jsonl")
    assert message.startswith(f"planner-loop: interrupted: {saved} of 12 episodes saved in {run_dir}")
    assert 2 <= saved < 12
    # every call that finished was logged whole (no torn line) and every finished call was cached
    assert (run_dir / "calls.jsonl").read_bytes().endswith(b"\n")
    assert "episodes (sound" in stderr and "ETA" in stderr                 # plain progress lines off a terminal
    command = shlex.split(message.split("resume with: ", 1)[1])
    assert command[:2] == ["planner-loop", "run"]
    resumed = subprocess.run([CLI, *command[1:]], capture_output=True, text=True, timeout=120, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert (run_dir / "episodes.jsonl").read_bytes() == expected
    assert f"next: planner-loop report {run_dir}" in resumed.stderr
    # the calls in flight at the signal were finished and cached: nothing is paid twice
    assert server.requests - full_requests <= full_requests


@pytest.mark.slow
def test_sigkill_at_random_points_always_resumes_to_the_same_records(tmp_path: Path) -> None:
    with FakeOpenAIServer(ScriptedReplies(GENERATOR, CRITIC), latency_s=0.02) as fake:
        config = write_config(tmp_path, fake.base_url, limit=2, seeds=(0,), concurrency=2)
        expected = full_run(tmp_path, config)
        # the working part of a run: from its manifest to its last episode
        work = (tmp_path / "full" / "episodes.jsonl").stat().st_mtime - (tmp_path / "full" / "manifest.json").stat().st_mtime
        experiment = load_experiment(config)
        rng = random.Random(7)
        killed_with_work = 0
        for trial in range(20):
            run_dir = tmp_path / f"k{trial}"
            process = subprocess.Popen([CLI, "run", str(config), "--out", str(run_dir)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if trial % 5 == 0:
                time.sleep(rng.uniform(0.0, 1.0))            # during start-up
            else:
                wait_for(lambda: (run_dir / "manifest.json").exists() or process.poll() is not None)
                time.sleep(rng.uniform(0.0, work * 1.1))
            process.send_signal(signal.SIGKILL)
            process.wait()
            killed_with_work += (run_dir / "manifest.json").exists() and lines(run_dir / "episodes.jsonl") < 4
            asyncio.run(run_experiment(experiment, run_dir, config_file=config))   # resume in-process
            assert (run_dir / "episodes.jsonl").read_bytes() == expected, trial
    assert killed_with_work >= 10


def _mount_tmpfs(where: Path, options: str) -> bool:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True,
                          check=False)
    return done.returncode == 0


def test_full_disk_fails_with_one_line_and_resumes_when_space_returns(tmp_path: Path,
                                                                      server: FakeOpenAIServer) -> None:
    mount = tmp_path / "disk"
    if not _mount_tmpfs(mount, "size=4m"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        config = write_config(tmp_path, server.base_url, seeds=(0, 1, 2))
        expected = full_run(tmp_path, config)
        run_dir = mount / "run"
        filler = mount / "filler"
        free = shutil.disk_usage(mount).free
        filler.write_bytes(b"\0" * (free - 200 * 1024))
        failed = run_cli("run", config, "--out", run_dir)
        assert failed.returncode == 2, failed.stderr
        assert "Traceback" not in failed.stderr, failed.stderr
        last = failed.stderr.strip().splitlines()[-1]       # after the plain progress lines
        assert last.startswith("planner-loop: error: ") and str(run_dir) in last, last
        assert "no space left on device" in last or "disk is full" in last, last
        assert "resume" in last
        kept = RunStore(run_dir).episodes()
        assert kept and all(record["key"] for record in kept)             # finished episodes survived
        filler.unlink()
        resumed = run_cli("run", config, "--out", run_dir)
        assert resumed.returncode == 0, resumed.stderr
        assert (run_dir / "episodes.jsonl").read_bytes() == expected
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_read_only_directory_fails_with_one_line(tmp_path: Path, server: FakeOpenAIServer) -> None:
    mount = tmp_path / "ro"
    if not _mount_tmpfs(mount, "ro,size=64k"):
        pytest.skip("cannot mount a read-only tmpfs here (needs root)")
    try:
        config = write_config(tmp_path, server.base_url, limit=1, seeds=(0,))
        failed = run_cli("run", config, "--out", mount / "run")
        assert failed.returncode == 2 and "Traceback" not in failed.stderr
        assert failed.stderr.strip() == f"planner-loop: error: cannot write {mount / 'run'}: read-only file system"
        assert server.requests == 0
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_failed_start_leaves_nothing_that_blocks_the_next_run(tmp_path: Path, server: FakeOpenAIServer) -> None:
    run_dir = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    config = write_config(tmp_path, server.base_url, limit=1, seeds=(0,))
    for spec, words in (("nope:model", "model spec"), ("openai:gpt-4o", "OPENAI_API_KEY"),
                        ("openai:m@http://user:SECRET@127.0.0.1:9/v1", "credentials")):
        refused = run_cli("run", config, "--out", run_dir, "--model", spec, env=env)
        assert refused.returncode == 2 and words in refused.stderr, refused.stderr
        assert "SECRET" not in refused.stderr and "Traceback" not in refused.stderr
        assert not run_dir.exists(), spec                       # checked before anything was written
    # a run that started but finished no episode (dead endpoint) leaves a directory another config may use
    with FakeOpenAIServer(ScriptedReplies(GENERATOR)) as gone:
        dead_url = gone.base_url
    dead = write_config(tmp_path, dead_url, name="dead", limit=1, seeds=(0,))
    failed = run_cli("run", dead, "--out", run_dir)
    assert failed.returncode == 2 and RunStore(run_dir).episodes() == []
    done = run_cli("run", config, "--out", run_dir)
    assert done.returncode == 0, done.stderr
    assert RunStore(run_dir).manifest()["name"] == "durable" and len(RunStore(run_dir).episodes()) == 2
