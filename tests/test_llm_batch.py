"""Batch API mode against the fake server: same replies as live mode, resumable, failed items retried."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from planner_loop.errors import ModelError
from planner_loop.llm import CallLog, ChatMessage, Completion, ResponseCache, RetryPolicy, SamplingParams, open_model
from planner_loop.llm.batch import BatchingModel
from planner_loop.llm.calls import read_calls
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.llm.pricing import load_price_table

FAST = RetryPolicy(max_attempts=3, initial_s=0.01, max_wait_s=0.05)
QUESTIONS = [f"question {i}" for i in range(6)]


def scripted(request: dict) -> str:
    asked = request["messages"][-1]["content"]
    return f"plan for {asked} at t={request.get('temperature')}"


def ask(text: str) -> list[ChatMessage]:
    return [ChatMessage("system", "You are a planner."), ChatMessage("user", text)]


def inner_model(server: FakeOpenAIServer, tmp: Path, name: str, log: CallLog | None = None):
    return open_model(f"openai:gpt-4o-mini@{server.base_url}", cache=ResponseCache(tmp / f"{name}.sqlite"),
                      call_log=log, concurrency=8, timeout_s=5, retry=FAST, env={})


def key(c: Completion) -> tuple:
    return (c.text, c.finish_reason, c.prompt_tokens, c.completion_tokens)


async def ask_all(model, questions: list[str], params: SamplingParams) -> list[list[Completion]]:
    return await asyncio.gather(*(model.complete(ask(q), params) for q in questions))


def test_batch_gives_the_same_completions_as_live_mode(tmp_path: Path) -> None:
    params = SamplingParams(n=2, temperature=0.7)
    with FakeOpenAIServer(scripted) as server:
        async def live() -> list[list[Completion]]:
            model = inner_model(server, tmp_path, "live")
            try:
                return await ask_all(model, QUESTIONS, params)
            finally:
                await model.aclose()

        async def batched() -> list[list[Completion]]:
            model = BatchingModel(inner_model(server, tmp_path, "batch", CallLog(tmp_path / "calls.jsonl")),
                                  tmp_path / "batches.json", poll_interval_s=0.02, linger_s=10)
            model.set_active(len(QUESTIONS))
            try:
                return await ask_all(model, QUESTIONS, params)
            finally:
                await model.aclose()

        live_replies = asyncio.run(live())
        live_requests = server.requests
        batch_replies = asyncio.run(batched())
        assert server.requests == live_requests  # no live chat request in batch mode
        assert server.batch.batches_created == 1 and server.batch.items_answered == len(QUESTIONS)
    assert [[key(c) for c in r] for r in batch_replies] == [[key(c) for c in r] for r in live_replies]
    assert {c.batch_id for r in batch_replies for c in r} == {"batch_fake_1"}
    # half price: the batch discount applies to the same tokens
    price = load_price_table()["gpt-4o-mini"]
    first = batch_replies[0][0]
    assert first.cost_usd == pytest.approx(price.cost(first.prompt_tokens, first.completion_tokens) / 2)
    records = read_calls(tmp_path / "calls.jsonl").records
    assert {r.batch_id for r in records} == {"batch_fake_1"} and len(records) == len(QUESTIONS)
    state = json.loads((tmp_path / "batches.json").read_text())
    assert [b["id"] for b in state["batches"]] == ["batch_fake_1"]


def test_batch_results_are_served_from_the_cache_afterwards(tmp_path: Path) -> None:
    with FakeOpenAIServer(scripted) as server:
        async def go() -> list[list[Completion]]:
            model = BatchingModel(inner_model(server, tmp_path, "c"), tmp_path / "b.json", poll_interval_s=0.02)
            model.set_active(2)
            try:
                await ask_all(model, QUESTIONS[:2], SamplingParams())
                model.set_active(2)
                return await ask_all(model, QUESTIONS[:2], SamplingParams())
            finally:
                await model.aclose()

        again = asyncio.run(go())
        assert server.batch.batches_created == 1
    assert all(c.cached for r in again for c in r)


def test_a_killed_process_resumes_by_polling_the_same_batch(tmp_path: Path) -> None:
    state = tmp_path / "batches.json"
    with FakeOpenAIServer(scripted, batch_delay_s=0.6) as server:
        async def killed() -> None:
            model = BatchingModel(inner_model(server, tmp_path, "k1"), state, poll_interval_s=0.05)
            model.set_active(3)
            task = asyncio.create_task(ask_all(model, QUESTIONS[:3], SamplingParams()))
            while server.batch.retrievals < 1:  # submitted and polled once: now kill it
                await asyncio.sleep(0.01)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await model.aclose()

        asyncio.run(killed())
        assert server.batch.batches_created == 1 and state.exists()

        async def resumed() -> tuple[list[list[Completion]], int]:
            model = BatchingModel(inner_model(server, tmp_path, "k2"), state, poll_interval_s=0.05)
            model.set_active(3)
            try:
                return await ask_all(model, QUESTIONS[:3], SamplingParams()), model.submitted
            finally:
                await model.aclose()

        replies, submitted = asyncio.run(resumed())
        assert submitted == 0 and server.batch.batches_created == 1 and server.batch.uploads == 1
    assert [r[0].text for r in replies] == [f"plan for {q} at t=0.0" for q in QUESTIONS[:3]]
    assert {r[0].batch_id for r in replies} == {"batch_fake_1"}


def test_failed_items_are_retried_in_a_later_batch(tmp_path: Path) -> None:
    with FakeOpenAIServer(scripted, batch_failed_items=2) as server:
        async def go() -> list[list[Completion]]:
            model = BatchingModel(inner_model(server, tmp_path, "f"), tmp_path / "b.json", poll_interval_s=0.02,
                                  linger_s=0.2)
            model.set_active(4)  # two callers get their replies and stop: the two retries wait for the linger
            try:
                return await ask_all(model, QUESTIONS[:4], SamplingParams())
            finally:
                await model.aclose()

        replies = asyncio.run(go())
        assert server.batch.items_failed == 2 and server.batch.batches_created == 2
    assert [r[0].text for r in replies] == [f"plan for {q} at t=0.0" for q in QUESTIONS[:4]]
    assert sorted(r[0].batch_id for r in replies) == ["batch_fake_1"] * 2 + ["batch_fake_2"] * 2


def test_an_item_failing_in_every_batch_is_a_model_error(tmp_path: Path) -> None:
    with FakeOpenAIServer(scripted, batch_failed_items=10) as server:
        async def go() -> None:
            model = BatchingModel(inner_model(server, tmp_path, "e"), tmp_path / "b.json", poll_interval_s=0.02,
                                  max_item_attempts=2)
            model.set_active(1)
            try:
                await model.complete(ask("doomed"), SamplingParams())
            finally:
                await model.aclose()

        with pytest.raises(ModelError, match="batch item failed in 2 batches"):
            asyncio.run(go())
        assert server.batch.batches_created == 2


def test_linger_flushes_when_the_active_count_is_unknown(tmp_path: Path) -> None:
    with FakeOpenAIServer(scripted) as server:
        async def go() -> list[Completion]:
            model = BatchingModel(inner_model(server, tmp_path, "l"), tmp_path / "b.json", poll_interval_s=0.02,
                                  linger_s=0.1)
            try:
                return await model.complete(ask("alone"), SamplingParams())
            finally:
                await model.aclose()

        [reply] = asyncio.run(go())
    assert reply.text == "plan for alone at t=0.0" and reply.batch_id == "batch_fake_1"
