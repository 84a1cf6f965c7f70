"""Adaptive concurrency: backs off on 429s from a server that rate-limits, climbs back, loses nothing."""

from __future__ import annotations

import asyncio

from planner_loop.llm import AdaptiveLimiter, CallLog, ChatMessage, RetryPolicy, SamplingParams, open_model
from planner_loop.llm.fake_server import FakeOpenAIServer


def test_limiter_cuts_once_per_overload_and_climbs_back() -> None:
    async def go() -> None:
        limiter = AdaptiveLimiter(20)
        async with limiter.slot() as early, limiter.slot() as also_early:
            limiter.rate_limited(early)
            limiter.rate_limited(also_early)  # same overload: no second cut
        assert limiter.limit == 19 and limiter.decreases == 1  # 20 * 0.95
        for _ in range(200):
            limiter.succeeded()
        assert limiter.limit == 20

    asyncio.run(go())


def test_limiter_never_admits_more_than_its_limit() -> None:
    async def go() -> int:
        limiter = AdaptiveLimiter(3)
        peak = 0

        async def one() -> None:
            nonlocal peak
            async with limiter.slot():
                peak = max(peak, limiter.in_flight)
                await asyncio.sleep(0.001)

        await asyncio.gather(*(one() for _ in range(50)))
        return peak

    assert asyncio.run(go()) == 3


def test_model_backs_off_against_a_rate_limiting_server_and_no_call_fails() -> None:
    log = CallLog(None)
    with FakeOpenAIServer(lambda req: "ok", latency_s=0.02, capacity=6, retry_after_s=0.01) as server:
        async def go() -> tuple[list[str], int, int]:
            model = open_model(f"openai:m@{server.base_url}", cache=None, call_log=log, concurrency=32,
                               timeout_s=5, retry=RetryPolicy(max_attempts=10, initial_s=0.01, max_wait_s=0.05),
                               env={})
            try:
                replies = await asyncio.gather(*(model.complete([ChatMessage("user", f"q{i}")], SamplingParams())
                                                 for i in range(200)))
                return [r[0].text for r in replies], model.limiter.lowest, model.limiter.decreases
            finally:
                await model.aclose()

        texts, lowest, decreases = asyncio.run(go())
        assert server.rate_limited > 0 and server.max_in_flight <= 6
    assert texts == ["ok"] * 200 and decreases >= 1 and lowest < 32
    assert log.summary().rate_limited == server.rate_limited and log.summary().failures == 0
