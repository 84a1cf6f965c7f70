"""The OpenAI-compatible backend, end to end through the real openai client and the fake server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from planner_loop.errors import ModelError, ReplayMissError
from planner_loop.llm import (
    CallLog,
    ChatMessage,
    Completion,
    OpenAIChatModel,
    Price,
    ResponseCache,
    RetryPolicy,
    SamplingParams,
    open_model,
)
from planner_loop.llm.fake_server import FakeOpenAIServer

FAST_RETRY = RetryPolicy(max_attempts=8, initial_s=0.01, max_wait_s=0.1)


def ask(i: int) -> list[ChatMessage]:
    return [ChatMessage("system", "You are a generator."), ChatMessage("user", f"question {i}")]


def answer(request: dict) -> str:
    return "answer to " + request["messages"][-1]["content"]


def model_for(server: FakeOpenAIServer, *, cache: ResponseCache | None = None, call_log: CallLog | None = None,
              concurrency: int = 16, timeout_s: float = 2.0, retry: RetryPolicy = FAST_RETRY,
              **kwargs: object) -> OpenAIChatModel:
    return open_model(f"openai:fake@{server.base_url}", cache=cache, call_log=call_log, concurrency=concurrency,
                      timeout_s=timeout_s, retry=retry, env={}, **kwargs)  # type: ignore[arg-type]


def run_calls(model: OpenAIChatModel, count: int, params: SamplingParams = SamplingParams()) -> list[Completion]:
    async def go() -> list[list[Completion]]:
        try:
            return await asyncio.gather(*(model.complete(ask(i), params) for i in range(count)))
        finally:
            await model.aclose()

    return [replies[0] for replies in asyncio.run(go())]


def call_once(model: OpenAIChatModel, messages: Sequence[ChatMessage], params: SamplingParams) -> list[Completion]:
    async def go() -> list[Completion]:
        try:
            return await model.complete(messages, params)
        finally:
            await model.aclose()

    return asyncio.run(go())


def test_200_calls_survive_30_percent_transient_faults(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.jsonl")
    with FakeOpenAIServer(answer, fault_rate=0.3, seed=3, retry_after_s=0.01) as server:
        # 12 attempts: a call failing for good needs 12 faults in a row (p ~ 200 * 0.3**12 = 1e-4)
        patient = RetryPolicy(max_attempts=12, initial_s=0.01, max_wait_s=0.1)
        replies = run_calls(model_for(server, call_log=log, concurrency=32, timeout_s=0.5, retry=patient), 200)
        faults = len(server.faults_injected)
        assert server.requests == 200 + faults
    assert [r.text for r in replies] == [f"answer to question {i}" for i in range(200)]
    assert 40 < faults < 90
    assert sum(r.retries for r in replies) == faults
    assert {"429", "500", "503", "hang", "malformed", "truncated"} <= set(server.faults_injected)
    summary = log.summary()
    assert (summary.calls, summary.http_calls, summary.failures, summary.retries) == (200, 200, 0, faults)
    records = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert sum(r["retries"] for r in records) == faults


@pytest.mark.parametrize(("fault", "needle"), [
    ("400", "HTTP 400"),
    ("401", "check OPENAI_API_KEY"),
    ("404", "unknown at this endpoint"),
    ("quota", "quota exhausted"),
])
def test_non_retryable_errors_surface_at_once(fault: str, needle: str, tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.jsonl")
    with FakeOpenAIServer(answer, faults=[fault]) as server:
        start = time.perf_counter()
        with pytest.raises(ModelError, match=needle):
            call_once(model_for(server, call_log=log), ask(0), SamplingParams())
        assert time.perf_counter() - start < 1.5
        assert server.requests == 1
    [record] = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert needle in record["error"] and record["retries"] == 0 and record["replies"] == []
    assert log.summary().failures == 1


def test_unreachable_endpoint_is_a_clear_model_error() -> None:
    with FakeOpenAIServer() as server:
        url = server.base_url
    model = open_model(f"openai:fake@{url}", cache=None, call_log=None, concurrency=1, timeout_s=1.0,
                       retry=RetryPolicy(max_attempts=2, initial_s=0.01), env={})
    with pytest.raises(ModelError, match="endpoint unreachable.*after 2 attempts"):
        call_once(model, ask(0), SamplingParams())


def test_retry_after_is_honoured() -> None:
    with FakeOpenAIServer(answer, faults=["429"], retry_after_s=0.6) as server:
        start = time.perf_counter()
        [reply] = call_once(model_for(server, retry=RetryPolicy(initial_s=0.001, max_wait_s=0.01)), ask(1),
                            SamplingParams())
        elapsed = time.perf_counter() - start
    assert reply.retries == 1 and reply.text == "answer to question 1"
    assert elapsed >= 0.6


def test_retries_stop_at_max_attempts() -> None:
    with FakeOpenAIServer(answer, faults=["500"] * 5) as server:
        with pytest.raises(ModelError, match="HTTP 500.*after 3 attempts"):
            call_once(model_for(server, retry=RetryPolicy(max_attempts=3, initial_s=0.001)), ask(0),
                      SamplingParams())
        assert server.requests == 3


def test_rate_limit_429s_have_their_own_longer_budget() -> None:
    policy = RetryPolicy(max_attempts=3, initial_s=0.001, max_wait_s=0.002, max_rate_limited_attempts=12)
    with FakeOpenAIServer(answer, faults=["429"] * 10, retry_after_s=0.0) as server:
        [reply] = call_once(model_for(server, retry=policy), ask(2), SamplingParams())
        assert reply.retries == 10 and server.requests == 11
    with FakeOpenAIServer(answer, faults=["429"] * 20, retry_after_s=0.0) as server:
        with pytest.raises(ModelError, match="HTTP 429.*after 12 attempts"):
            call_once(model_for(server, retry=policy), ask(2), SamplingParams())
        assert server.requests == 12
    with FakeOpenAIServer(answer, faults=["429", "500", "500", "500"], retry_after_s=0.0) as server:
        with pytest.raises(ModelError, match="HTTP 500.*after 3 attempts"):  # other errors keep max_attempts
            call_once(model_for(server, retry=policy), ask(2), SamplingParams())


def test_repeated_run_makes_zero_http_requests(tmp_path: Path) -> None:
    with FakeOpenAIServer(answer) as server:
        with ResponseCache(tmp_path / "cache.sqlite") as cache:
            first = run_calls(model_for(server, cache=cache), 30)
        assert server.requests == 30
        log = CallLog(tmp_path / "again.jsonl")
        with ResponseCache(tmp_path / "cache.sqlite") as cache:  # a fresh connection, as a new run would open
            again = run_calls(model_for(server, cache=cache, call_log=log, concurrency=3, timeout_s=9), 30)
        assert server.requests == 30
    assert [r.text for r in again] == [r.text for r in first]
    assert all(r.cached and not f.cached for r, f in zip(again, first, strict=True))
    assert log.summary().cache_hits == 30
    assert {json.loads(line)["cache"] for line in (tmp_path / "again.jsonl").read_text().splitlines()} == {"read"}


def test_replay_serves_hits_and_fails_loudly_on_a_miss(tmp_path: Path) -> None:
    with FakeOpenAIServer(answer) as server:
        with ResponseCache(tmp_path / "cache.sqlite") as cache:
            run_calls(model_for(server, cache=cache), 2)
        with ResponseCache(tmp_path / "cache.sqlite", mode="replay") as cache:
            replayed = run_calls(model_for(server, cache=cache), 2)
            assert [r.text for r in replayed] == ["answer to question 0", "answer to question 1"]
            with pytest.raises(ReplayMissError, match="replay: no cached reply"):
                call_once(model_for(server, cache=cache), ask(99), SamplingParams())
        assert server.requests == 2


def test_errors_are_never_cached(tmp_path: Path) -> None:
    with FakeOpenAIServer(answer, faults=["400"]) as server:
        with ResponseCache(tmp_path / "cache.sqlite") as cache:
            with pytest.raises(ModelError):
                call_once(model_for(server, cache=cache), ask(0), SamplingParams())
            assert cache.stats().entries == 0
            [reply] = call_once(model_for(server, cache=cache), ask(0), SamplingParams())
            assert not reply.cached and cache.stats().entries == 1
        assert server.requests == 2


def test_cache_off_always_asks(tmp_path: Path) -> None:
    with FakeOpenAIServer(answer) as server:
        with ResponseCache(tmp_path / "cache.sqlite", mode="off") as cache:
            run_calls(model_for(server, cache=cache), 3)
            run_calls(model_for(server, cache=cache), 3)
            assert cache.stats().entries == 0
        assert server.requests == 6


def test_n_samples_in_one_request_when_supported() -> None:
    with FakeOpenAIServer(lambda req: ["x", "y", "z"]) as server:
        replies = call_once(model_for(server, prices={"fake": Price(1.0, 2.0)}), ask(0), SamplingParams(n=3))
        assert server.requests == 1 and server.received[0]["n"] == 3
    assert [r.text for r in replies] == ["x", "y", "z"]
    assert len({r.call_id for r in replies}) == 1
    # usage is per request: sums over the samples equal what the server reported
    assert sum(r.prompt_tokens for r in replies) == 6 and sum(r.completion_tokens for r in replies) == 3
    assert sum(r.cost_usd or 0 for r in replies) == pytest.approx((6 * 1.0 + 3 * 2.0) / 1e6)


def test_n_samples_emulated_with_seed_plus_index_when_server_ignores_n() -> None:
    with FakeOpenAIServer(lambda req: f"seed={req.get('seed')}", honour_n=False) as server:
        replies = call_once(model_for(server), ask(0), SamplingParams(n=3, seed=5, temperature=0.7))
        assert server.requests == 3
    assert [r.text for r in replies] == ["seed=5", "seed=6", "seed=7"]


def test_concurrency_limit_per_model() -> None:
    with FakeOpenAIServer(answer, latency_s=0.05) as server:
        run_calls(model_for(server, concurrency=4), 24)
        assert server.max_in_flight == 4


def test_constraints_and_sampling_reach_the_server() -> None:
    schema = {"type": "object", "properties": {"plan": {"type": "array"}}, "required": ["plan"]}
    with FakeOpenAIServer(answer) as server:
        call_once(model_for(server), ask(0), SamplingParams(json_schema=schema, stop=("END",), seed=9,
                                                            temperature=0.5, max_tokens=33))
        call_once(model_for(server), ask(0), SamplingParams(grammar='root ::= "a"', seed=None))
        sent_schema, sent_grammar = server.received
    assert sent_schema["response_format"]["json_schema"]["schema"] == schema
    assert (sent_schema["stop"], sent_schema["seed"], sent_schema["temperature"], sent_schema["max_tokens"]) == (
        ["END"], 9, 0.5, 33)
    assert sent_grammar["grammar"] == 'root ::= "a"' and "seed" not in sent_grammar


def test_role_and_fields_recorded_per_call(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.jsonl")
    with FakeOpenAIServer(answer) as server:
        model = model_for(server, call_log=log, role="generator")

        async def go() -> None:
            await model.complete(ask(1), SamplingParams())
            await model.complete(ask(2), SamplingParams(), role="critic")
            await model.aclose()

        asyncio.run(go())
    first, second = (json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines())
    assert (first["role"], second["role"]) == ("generator", "critic")
    assert first["replies"] == ["answer to question 1"] and first["finish_reasons"] == ["stop"]
    assert first["messages"][-1] == {"role": "user", "content": "question 1"}
    assert set(first) >= {"call_id", "model", "request_hash", "params", "usage", "latency_s", "cache", "retries",
                          "error"}
    assert first["cache"] == "off" and first["error"] is None and len(first["request_hash"]) == 64


def test_model_survives_a_new_event_loop(tmp_path: Path) -> None:
    with FakeOpenAIServer(answer) as server:
        model = model_for(server, concurrency=2)
        first = asyncio.run(model.complete(ask(1), SamplingParams()))
        second = asyncio.run(model.complete(ask(2), SamplingParams()))
        asyncio.run(model.aclose())
        assert server.requests == 2
    assert (first[0].text, second[0].text) == ("answer to question 1", "answer to question 2")


def test_n_samples_emulated_when_server_rejects_n() -> None:
    with FakeOpenAIServer(lambda req: f"seed={req.get('seed')}", reject_n=True) as server:
        model = model_for(server)

        async def go() -> tuple[list[Completion], list[Completion]]:
            try:
                return (await model.complete(ask(0), SamplingParams(n=2, seed=1)),
                        await model.complete(ask(1), SamplingParams(n=2, seed=1)))
            finally:
                await model.aclose()

        first, second = asyncio.run(go())
        # one refused n=2 request, then separate calls; the model remembers not to ask again
        assert server.requests == 1 + 2 + 2
        assert [r.get("n") for r in server.received] == [2, None, None, None, None]
    assert [c.text for c in first] == [c.text for c in second] == ["seed=1", "seed=2"]
