"""Overhead of the LLM layer, measured against its limits in the same run.

1. Throughput: calls/s through ``open_model`` (cache off, retries on, call log on) against the fake
   server with fixed latency L, driven by C workers that each make calls back to back; the limit is
   C/L. The bare ``openai`` client driven the same way is measured too. The fake server runs in a child
   process so it does not share the interpreter lock with the client.
2. Scale: C = 512 workers against L = 1 s through the whole layer (response cache read-write and call
   log on); the limit is C/L.
3. Adaptive concurrency: C workers against a server that answers 429 (with Retry-After) whenever more
   than K requests are in flight; the limit is the server's capacity K/L, and no call may fail.
4. Embedded model: generated tokens/s through the layer (openai client -> loopback HTTP ->
   llama.cpp server) versus the very same llama.cpp server called in-process
   (``handle_chat_completions``): same weights, threads and prompts, runs interleaved, order
   alternating between rounds.

Usage: ``.venv/bin/python benchmarks/llm_overhead.py [--calls 3200] [--latency 0.2] [--concurrency 64]
[--rounds 5] [--skip-embedded] [--skip-scale] [--skip-adaptive]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai

from planner_loop.errors import ModelError
from planner_loop.llm import CallLog, ChatMessage, ResponseCache, SamplingParams, open_model
from planner_loop.llm.embedded import LocalChatModel, LocalServerConfig

SERVER_CHILD = """
import sys
from planner_loop.llm.fake_server import FakeOpenAIServer
capacity = int(sys.argv[2]) if len(sys.argv) > 2 else None
with FakeOpenAIServer(lambda req: "ok " + req["messages"][-1]["content"], latency_s=float(sys.argv[1]),
                      capacity=capacity, retry_after_s=0.05) as server:
    print(server.base_url, flush=True)
    sys.stdin.read()
    print(server.requests, server.max_in_flight, server.rate_limited, flush=True)
"""


def start_server(latency: float, capacity: int | None = None) -> tuple[subprocess.Popen[str], str]:
    args = [sys.executable, "-c", SERVER_CHILD, str(latency)] + ([str(capacity)] if capacity else [])
    child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


def stop_server(child: subprocess.Popen[str]) -> list[int]:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.close()
    counts = [int(x) for x in child.stdout.readline().split()]
    child.wait(10)
    return counts


async def layer_throughput(base_url: str, calls: int, concurrency: int, log_path: Path,
                           cache: ResponseCache | None = None) -> tuple[float, float]:
    """(calls/s, client CPU ms per call) through open_model."""
    model = open_model(f"openai:fake@{base_url}", cache=cache, call_log=CallLog(log_path),
                       concurrency=concurrency, timeout_s=30, env={})
    params = SamplingParams()
    # warm the connection pool so connection set-up is not billed to the measured window
    await asyncio.gather(*(model.complete([ChatMessage("user", f"warm {i}")], params) for i in range(concurrency)))

    async def worker(first: int) -> list[str]:
        return [(await model.complete([ChatMessage("user", f"q{i}")], params))[0].text
                for i in range(first, calls, concurrency)]

    start, cpu = time.perf_counter(), time.process_time()
    texts = await asyncio.gather(*(worker(w) for w in range(concurrency)))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    await model.aclose()
    assert all(text == f"ok q{i}" for w, chunk in enumerate(texts)
               for text, i in zip(chunk, range(w, calls, concurrency), strict=True))
    return calls / elapsed, cpu / calls * 1000


async def bare_client_throughput(base_url: str, calls: int, concurrency: int) -> tuple[float, float]:
    """Baseline: the bare openai client driven by the same C workers, no cache/retry/log layer."""
    client = openai.AsyncOpenAI(api_key="x", base_url=base_url, max_retries=0, timeout=30,
                                http_client=openai.DefaultAsyncHttpxClient(trust_env=False))

    async def one(text: str) -> str:
        reply = await client.chat.completions.create(model="fake", messages=[{"role": "user", "content": text}],
                                                     temperature=0.0, max_tokens=512, seed=0)
        return reply.choices[0].message.content or ""

    async def worker(first: int) -> list[str]:
        return [await one(f"q{i}") for i in range(first, calls, concurrency)]

    await asyncio.gather(*(one(f"warm {i}") for i in range(concurrency)))
    start, cpu = time.perf_counter(), time.process_time()
    texts = await asyncio.gather(*(worker(w) for w in range(concurrency)))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    await client.close()
    assert texts[7][0] == "ok q7"
    return calls / elapsed, cpu / calls * 1000


def throughput(calls: int, latency: float, concurrency: int) -> None:
    child = subprocess.Popen([sys.executable, "-c", SERVER_CHILD, str(latency)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdin is not None
    base_url = child.stdout.readline().strip()
    with tempfile.TemporaryDirectory() as tmp:
        bare, bare_cpu = asyncio.run(bare_client_throughput(base_url, calls, concurrency))
        rate, cpu = asyncio.run(layer_throughput(base_url, calls, concurrency, Path(tmp) / "calls.jsonl"))
    child.stdin.close()
    requests, in_flight, _ = child.stdout.readline().split()
    child.wait(10)
    limit = concurrency / latency
    print(f"fake server L={latency * 1000:.0f} ms, C={concurrency} workers, {calls} calls "
          f"(+{concurrency} warm-up), cache off, call log on")
    print(f"  layer: {rate:.1f} calls/s; limit C/L = {limit:.1f} calls/s; ratio = {rate / limit:.3f} "
          f"(server saw {requests} requests, at most {in_flight} at once)")
    print(f"  client CPU per call: layer {cpu:.2f} ms, bare openai client {bare_cpu:.2f} ms; "
          f"bare client {bare:.1f} calls/s (ratio {bare / limit:.3f}); layer/bare = {rate / bare:.3f}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def scale(calls: int, latency: float, concurrency: int) -> None:
    child, base_url = start_server(latency)
    with tempfile.TemporaryDirectory() as tmp:
        with ResponseCache(Path(tmp) / "cache.sqlite") as cache:
            rate, cpu = asyncio.run(layer_throughput(base_url, calls, concurrency, Path(tmp) / "calls.jsonl", cache))
    requests, in_flight, _ = stop_server(child)
    limit = concurrency / latency
    print(f"scale: L={latency:g} s, C={concurrency} workers, {calls} calls (+{concurrency} warm-up), "
          f"cache read-write, call log on")
    print(f"  layer: {rate:.1f} calls/s; limit C/L = {limit:.1f}; ratio = {rate / limit:.3f} "
          f"(server saw {requests} requests, at most {in_flight} at once); client CPU {cpu:.2f} ms/call; "
          f"load average {os.getloadavg()[0]:.1f}")


async def adaptive_run(base_url: str, calls: int, workers: int) -> tuple[float, int, int, int, int]:
    log = CallLog(None)
    model = open_model(f"openai:fake@{base_url}", cache=None, call_log=log, concurrency=workers, timeout_s=30,
                       env={})
    params = SamplingParams()
    failed = 0

    async def worker(first: int) -> None:
        nonlocal failed
        for i in range(first, calls, workers):
            try:
                [reply] = await model.complete([ChatMessage("user", f"q{i}")], params)
                assert reply.text == f"ok q{i}"
            except ModelError:  # counted: the benchmark reports failed calls
                failed += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(workers)))
    elapsed = time.perf_counter() - start
    limiter = model.limiter
    await model.aclose()
    return calls / elapsed, failed, limiter.lowest, limiter.decreases, log.summary().retries


def adaptive(calls: int, latency: float, capacity: int, workers: int) -> None:
    child, base_url = start_server(latency, capacity)
    rate, failed, lowest, decreases, retries = asyncio.run(adaptive_run(base_url, calls, workers))
    requests, in_flight, limited = stop_server(child)
    limit = capacity / latency
    print(f"adaptive: server capacity K={capacity} at L={latency * 1000:.0f} ms (429 + Retry-After above K), "
          f"{workers} workers, {calls} calls")
    print(f"  layer: {rate:.1f} calls/s; capacity K/L = {limit:.1f}; ratio = {rate / limit:.3f}; failed calls "
          f"{failed}; 429s {limited} of {requests} requests; limit cut {decreases} times, lowest {lowest}; "
          f"retries {retries}; at most {in_flight} served at once; load average {os.getloadavg()[0]:.1f}")


EMBEDDED_PROMPTS = [
    "Describe how to stack block a on block b, step by step.",
    "Explain what a plan is in automated planning.",
    "List three facts about the blocks world domain.",
]


def embedded(rounds: int, max_tokens: int) -> None:
    config = LocalServerConfig()
    model = open_model("local", cache=None, call_log=None, concurrency=1, timeout_s=600, env={},
                       local_server=config)
    assert isinstance(model, LocalChatModel)
    direct = model.server
    layer_rates: list[float] = []
    direct_rates: list[float] = []

    async def through_layer(prompt: str) -> float:
        start = time.perf_counter()
        [reply] = await model.complete([ChatMessage("user", prompt)], SamplingParams(max_tokens=max_tokens))
        return reply.completion_tokens / (time.perf_counter() - start)

    def in_process(prompt: str) -> float:
        start = time.perf_counter()
        result = direct.handle_chat({"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
                                     "temperature": 0.0, "seed": 0})
        return int(result["usage"]["completion_tokens"]) / (time.perf_counter() - start)

    async def run_all() -> None:
        await through_layer("warm up")  # starts the server
        in_process("warm up")
        for index in range(rounds):
            for prompt in EMBEDDED_PROMPTS:
                # alternate which side goes first so drifting machine load hits both equally
                if index % 2 == 0:
                    direct_rates.append(in_process(prompt))
                    layer_rates.append(await through_layer(prompt))
                else:
                    layer_rates.append(await through_layer(prompt))
                    direct_rates.append(in_process(prompt))
        await model.aclose()

    asyncio.run(run_all())
    layer = statistics.median(layer_rates)
    base = statistics.median(direct_rates)
    print(f"embedded SmolLM2-135M Q4_1, threads={config.threads}, poll={config.poll}, max_tokens={max_tokens}, "
          f"{len(layer_rates)} generations each side (median)")
    print(f"  layer: {layer:.1f} tok/s; xllamacpp in-process: {base:.1f} tok/s; ratio = {layer / base:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--skip-embedded", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-adaptive", action="store_true")
    parser.add_argument("--scale-calls", type=int, default=4096)
    parser.add_argument("--adaptive-calls", type=int, default=4000)
    args = parser.parse_args()
    throughput(args.calls, args.latency, args.concurrency)
    if not args.skip_scale:
        scale(args.scale_calls, 1.0, 512)
    if not args.skip_adaptive:
        adaptive(args.adaptive_calls, 0.1, 32, 128)
    if not args.skip_embedded:
        embedded(args.rounds, args.max_tokens)


if __name__ == "__main__":
    main()
