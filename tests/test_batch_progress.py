"""Progress in batch mode: what the pending batches are doing (status, request counts, time waited)."""

from __future__ import annotations

import asyncio
import io
import re
import time
from pathlib import Path

from helpers.loop_scripting import ScriptedReplies
from helpers.run_cli import CRITIC, GENERATOR, run_cli, write_config
from rich.console import Console

from planner_loop.cli.run_display import RunDisplay, batch_text, span, status_text
from planner_loop.llm import CallLog, ChatMessage, ResponseCache, RetryPolicy, SamplingParams, open_model
from planner_loop.llm.batch import BatchingModel, BatchStatus
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.run_meter import RunProgress

FAST = RetryPolicy(max_attempts=3, initial_s=0.01, max_wait_s=0.05)
QUESTIONS = [f"question {i}" for i in range(5)]


def scripted(request: dict) -> str:
    return f"plan for {request['messages'][-1]['content']}"


async def until(check, what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


def test_pending_batches_follow_the_retrieve_replies(tmp_path: Path) -> None:
    # the fake batch stays in_progress (delay 60 s) until the test lets it finish
    with FakeOpenAIServer(scripted, batch_delay_s=60) as server:
        async def main() -> None:
            inner = open_model(f"openai:gpt-4o-mini@{server.base_url}", cache=ResponseCache(tmp_path / "c.sqlite"),
                               call_log=CallLog(tmp_path / "calls.jsonl"), concurrency=8, timeout_s=5, retry=FAST,
                               env={})
            model = BatchingModel(inner, tmp_path / "batches.json", poll_interval_s=0.01, linger_s=10)
            assert model.pending_batches == ()
            model.set_active(len(QUESTIONS))
            asked = asyncio.gather(*(model.complete([ChatMessage("user", q)], SamplingParams()) for q in QUESTIONS))
            try:
                await until(lambda: model.pending_batches, "the first poll")
                (first,) = model.pending_batches
                assert (first.batch_id, first.status, first.completed, first.failed, first.total) == (
                    "batch_fake_1", "in_progress", 0, 0, len(QUESTIONS))
                assert 0.0 <= first.waiting_s < 30
                fake = server.batch.batches["batch_fake_1"]
                fake.status = "validating"              # what the next retrieve replies is what the model shows
                fake.counts = {"total": 5, "completed": 3, "failed": 1}
                await until(lambda: model.pending_batches[0].status == "validating", "a poll seeing validating")
                (later,) = model.pending_batches
                assert (later.completed, later.failed, later.total) == (3, 1, 5)
                assert later.waiting_s >= first.waiting_s
                server.batch.delay_s = 0.0
                fake.status = "in_progress"             # finishes on the next poll
                replies = await asyncio.wait_for(asked, 20)
            finally:
                await model.aclose()
            assert [r[0].text for r in replies] == [f"plan for {q}" for q in QUESTIONS]
            assert model.pending_batches == ()          # nothing waited on once the batch is read

        asyncio.run(main())


def test_a_batch_status_reads_a_reply_without_request_counts() -> None:
    class Reply:
        status = "validating"
        request_counts = None

    assert BatchStatus.of("batch_x", Reply()) == BatchStatus("batch_x", "validating", 0, 0, 0, 0.0)


def progress(*batches: BatchStatus) -> RunProgress:
    return RunProgress(2, 8, 1, 1, 10, 1234, 0, by_condition={"sound": (2, 8)}, cost_usd=0.5, batches=batches)


def test_status_text_names_the_pending_batches() -> None:
    one = BatchStatus("batch_a", "in_progress", 120, 0, 512, 190.0)
    assert status_text(progress(one)).endswith("; batch in_progress: 120/512 done, 0 failed, waiting 3m10s")
    assert "batch" not in status_text(progress())
    several = (one, BatchStatus("batch_b", "validating", 0, 0, 0, 5.0),
               BatchStatus("batch_c", "in_progress", 30, 2, 64, 7300.0))
    assert batch_text(several) == "3 batches (2 in_progress, 1 validating): 150/576 done, 2 failed, waiting up to 2h01m"
    assert batch_text([BatchStatus("batch_d", "validating", waiting_s=42.9)]) == "batch validating, waiting 42s"
    assert [span(s) for s in (0, 59.9, 60, 3599, 3600, 90061)] == ["0s", "59s", "1m00s", "59m59s", "1h00m", "25h01m"]


def test_both_displays_show_the_pending_batches() -> None:
    state = progress(BatchStatus("batch_a", "finalizing", 512, 3, 515, 61.0))
    plain = io.StringIO()
    RunDisplay(Console(file=plain, force_terminal=False, width=400), "exp", every_s=0.0).update(state)
    assert "exp: 2/8 episodes" in plain.getvalue()
    assert "; batch finalizing: 512/515 done, 3 failed, waiting 1m01s" in plain.getvalue()
    live = RunDisplay(Console(file=io.StringIO(), force_terminal=True, width=400), "exp", every_s=0.0)
    try:
        live.update(state)
        assert live._bar.tasks[0].fields["status"].endswith(" · batch finalizing: 512/515 done, 3 failed, waiting 1m01s")
    finally:
        live.stop()


def test_a_batch_run_prints_progress_lines_naming_its_batches(tmp_path: Path) -> None:
    with FakeOpenAIServer(ScriptedReplies(GENERATOR, CRITIC), batch_delay_s=0.3) as server:
        config = write_config(tmp_path, server.base_url, name="progress")
        result = run_cli("run", config, "--out", tmp_path / "run", "--batch", "--batch-poll", "0.05",
                         "--progress-every", "0.1")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("[") and "progress: " in line]
    named = [line for line in lines if re.search(r"; batch in_progress: 0/\d+ done, 0 failed, waiting \d+s$", line)]
    assert named, result.stderr
    assert any(re.search(r"; batch in_progress: 0/4 done, 0 failed, waiting \d+s$", line) for line in named)  # round 1
    assert len(named) < len(lines)                   # lines between batches name none
