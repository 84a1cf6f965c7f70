"""The fake OpenAI server speaks real HTTP: checked with the openai client and plain httpx."""

from __future__ import annotations

import asyncio
import time

import httpx
import openai
import pytest

from planner_loop.llm.fake_server import FakeOpenAIServer


def test_models_and_chat_through_openai_client() -> None:
    with FakeOpenAIServer(lambda req: "hello " + req["messages"][-1]["content"], models=["m1"]) as server:
        client = openai.OpenAI(api_key="x", base_url=server.base_url, max_retries=0)
        assert [m.id for m in client.models.list()] == ["m1"]
        reply = client.chat.completions.create(model="m1", messages=[{"role": "user", "content": "world"}])
        assert reply.choices[0].message.content == "hello world"
        assert reply.usage is not None and reply.usage.prompt_tokens == 1
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="other", messages=[{"role": "user", "content": "x"}])
        assert server.requests == 2
        client.close()


def test_scripted_faults_in_order() -> None:
    with FakeOpenAIServer(faults=["429", "500", "401", "malformed", None], retry_after_s=0.25) as server:
        client = httpx.Client(base_url=server.base_url)
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        first = client.post("/chat/completions", json=body)
        assert first.status_code == 429 and first.headers["retry-after"] == "0.25"
        assert client.post("/chat/completions", json=body).status_code == 500
        assert client.post("/chat/completions", json=body).status_code == 401
        garbled = client.post("/chat/completions", json=body)
        assert garbled.status_code == 200
        with pytest.raises(ValueError):
            garbled.json()
        assert client.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"] == "echo: x"
        assert server.faults_injected == ["429", "500", "401", "malformed"]
        client.close()


def test_truncated_and_hang_faults_break_the_client() -> None:
    with FakeOpenAIServer(faults=["truncated", "hang"]) as server:
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        with httpx.Client(base_url=server.base_url, timeout=0.5) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                client.post("/chat/completions", json=body)
            with pytest.raises(httpx.ReadTimeout):
                client.post("/chat/completions", json=body)


def test_seeded_fault_rate_is_reproducible() -> None:
    def run() -> list[str]:
        with FakeOpenAIServer(fault_rate=0.5, fault_kinds=("500", "429"), seed=7) as server:
            with httpx.Client(base_url=server.base_url) as client:
                for _ in range(20):
                    client.post("/chat/completions", json={"model": "m", "messages": []})
            return list(server.faults_injected)

    first = run()
    assert 3 < len(first) < 17
    assert run() == first


def test_latency_overlaps_for_concurrent_requests() -> None:
    async def burst(url: str) -> float:
        async with httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_connections=64)) as client:
            start = time.perf_counter()
            await asyncio.gather(*(client.post("/chat/completions", json={"model": "m", "messages": []})
                                   for _ in range(64)))
            return time.perf_counter() - start

    with FakeOpenAIServer(latency_s=0.2) as server:
        elapsed = asyncio.run(burst(server.base_url))
        assert server.requests == 64
        assert server.max_in_flight > 32
    assert elapsed < 2.0  # serialised would take 12.8 s


def test_n_choices_and_honour_n_switch() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 3}
    with FakeOpenAIServer(lambda req: ["a", "b", "c", "d"]) as server:
        data = httpx.post(server.base_url + "/chat/completions", json=body).json()
        assert [c["message"]["content"] for c in data["choices"]] == ["a", "b", "c"]
    with FakeOpenAIServer(honour_n=False) as server:
        data = httpx.post(server.base_url + "/chat/completions", json=body).json()
        assert len(data["choices"]) == 1


def test_unknown_fault_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        FakeOpenAIServer(faults=["explode"])
