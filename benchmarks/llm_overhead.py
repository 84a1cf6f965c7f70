"""Overhead of the LLM layer, measured against its limits in the same run.

1. Throughput: calls/s through ``open_model`` (cache off, retries on, call log on) against the fake
   server with fixed latency L, driven by C workers that each make calls back to back; the limit is
   C/L. The bare ``openai`` client driven the same way is measured too. The fake server runs in a child
   process so it does not share the interpreter lock with the client.
2. Scale: C = 512 workers against L = 1 s through the whole layer (response cache read-write and call
   log on); the limit is C/L. Measured twice: *sustained* (workers start spread over one latency, as
   the episodes of a running study are; calls finishing inside a fixed window after two more latencies
   are counted) and *cold burst* (all C workers start at the same instant, a fixed number of calls).
3. Adaptive concurrency: C workers against a server that answers 429 (with Retry-After) whenever more
   than K requests are in flight; the limit is the server's capacity K/L, and no call may fail.
   Sustained, as in 2.
4. Embedded model: generated tokens/s through the layer (openai client -> loopback HTTP ->
   llama.cpp server) versus the very same llama.cpp server called in-process
   (``handle_chat_completions``): same weights, threads and prompts, runs interleaved, order
   alternating between rounds.

Scale, cold burst and adaptive runs pace the garbage collector as ``planner-loop run`` does
(:func:`planner_loop.llm.collector.paced_collection`); the sustained scale run is also measured with
the default collector, to show what the pacing is worth.

Why two figures at scale: when C workers fire at one instant, their replies come back as one burst
each round and the last of a burst waits for the client to process the C - 1 before it, so every
round takes L plus about C/2 times the client's CPU per call until the bursts smear out; the
sustained window measures the rate a running study holds.

Usage: ``.venv/bin/python benchmarks/llm_overhead.py [--calls 3200] [--latency 0.2] [--concurrency 64]
[--rounds 5] [--scale-window 6] [--scale-calls 3072] [--adaptive-window 10] [--skip-embedded]
[--skip-scale] [--skip-adaptive]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import openai

from planner_loop.errors import ModelError
from planner_loop.llm.collector import paced_collection
from planner_loop.llm import CallLog, ChatMessage, ResponseCache, SamplingParams, open_model
from planner_loop.llm.embedded import LocalChatModel, LocalServerConfig
from planner_loop.llm.openai_backend import OpenAIChatModel

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


@dataclass(frozen=True)
class Sustained:
    """Calls finishing inside the measured window, and what they cost."""

    rate: float
    cpu_ms: float
    latency_median: float
    latency_p99: float
    failed: int
    started: int
    errors: tuple[str, ...] = ()


async def sustained(complete: Callable[[str], Awaitable[str]], concurrency: int, latency: float,
                    window: float) -> Sustained:
    """C workers, started spread over one latency, call back to back; calls that finish between
    3 L and 3 L + ``window`` after the start are counted (client CPU is read at both edges)."""
    start = time.perf_counter()
    opens, closes = start + 3 * latency, start + 3 * latency + window
    ends: list[float] = []
    latencies: list[float] = []
    cpu: dict[str, float] = {}
    counter = itertools.count()
    failed = 0
    errors: list[str] = []

    async def mark(at: float, edge: str) -> None:
        await asyncio.sleep(at - time.perf_counter())
        cpu[edge] = time.process_time()

    async def worker(index: int) -> None:
        nonlocal failed
        await asyncio.sleep(index * latency / concurrency)
        while time.perf_counter() < closes:
            call = next(counter)
            sent = time.perf_counter()
            try:
                text = await complete(f"q{call}")
            except ModelError as error:  # counted: the benchmark reports failed calls
                failed += 1
                errors.append(str(error))
                continue
            assert text == f"ok q{call}", text
            end = time.perf_counter()
            if opens <= end <= closes:
                ends.append(end)
                latencies.append(end - sent)

    await asyncio.gather(mark(opens, "open"), mark(closes, "close"), *(worker(w) for w in range(concurrency)))
    latencies.sort()
    return Sustained(rate=len(ends) / window, cpu_ms=(cpu["close"] - cpu["open"]) / len(ends) * 1000,
                     latency_median=statistics.median(latencies),
                     latency_p99=latencies[int(len(latencies) * 0.99)], failed=failed, started=next(counter),
                     errors=tuple(sorted(set(errors))))


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


async def layer_sustained(base_url: str, concurrency: int, latency: float, window: float, log: CallLog,
                          cache: ResponseCache | None) -> tuple[Sustained, OpenAIChatModel]:
    model = open_model(f"openai:fake@{base_url}", cache=cache, call_log=log, concurrency=concurrency,
                       timeout_s=30, env={})
    assert isinstance(model, OpenAIChatModel)
    params = SamplingParams()

    async def complete(text: str) -> str:
        return (await model.complete([ChatMessage("user", text)], params))[0].text

    result = await sustained(complete, concurrency, latency, window)
    await model.aclose()
    return result, model


def scale(window: float, calls: int, latency: float, concurrency: int) -> None:
    limit = concurrency / latency
    print(f"scale: L={latency:g} s, C={concurrency} workers, cache read-write, call log on")
    for paced in (True, False):
        child, base_url = start_server(latency)
        with tempfile.TemporaryDirectory() as tmp, ResponseCache(Path(tmp) / "cache.sqlite") as cache:
            with paced_collection() if paced else contextlib.nullcontext():
                held, _ = asyncio.run(layer_sustained(base_url, concurrency, latency, window,
                                                      CallLog(Path(tmp) / "calls.jsonl"), cache))
        requests, in_flight, _ = stop_server(child)
        how = "collector paced as `run` paces it" if paced else "default collector"
        print(f"  sustained, {how} ({window:g} s window after a {3 * latency:g} s ramp): {held.rate:.1f} calls/s; "
              f"limit C/L = {limit:.1f}; ratio = {held.rate / limit:.3f}; latency median "
              f"{held.latency_median:.3f} s, p99 {held.latency_p99:.3f} s; client CPU {held.cpu_ms:.2f} ms/call; "
              f"failed {held.failed}; server saw {requests} requests, at most {in_flight} at once; "
              f"load average {os.getloadavg()[0]:.1f}")
    if calls <= 0:
        return
    child, base_url = start_server(latency)
    with tempfile.TemporaryDirectory() as tmp, ResponseCache(Path(tmp) / "cache.sqlite") as cache:
        with paced_collection():
            rate, cpu = asyncio.run(layer_throughput(base_url, calls, concurrency, Path(tmp) / "calls.jsonl", cache))
    stop_server(child)
    print(f"  cold burst (all {concurrency} start at once after a warm-up, {calls} calls): {rate:.1f} calls/s; "
          f"ratio = {rate / limit:.3f}; client CPU {cpu:.2f} ms/call")


def adaptive(window: float, latency: float, capacity: int, workers: int) -> None:
    child, base_url = start_server(latency, capacity)
    log = CallLog(None)
    with paced_collection():
        held, model = asyncio.run(layer_sustained(base_url, workers, latency, window, log, None))
    requests, in_flight, limited = stop_server(child)
    limiter = model.limiter
    limit = capacity / latency
    print(f"adaptive: server capacity K={capacity} at L={latency * 1000:.0f} ms (429 + Retry-After above K), "
          f"{workers} workers, sustained over {window:g} s after a {3 * latency:g} s ramp")
    print(f"  layer: {held.rate:.1f} calls/s; capacity K/L = {limit:.1f}; ratio = {held.rate / limit:.3f}; "
          f"failed calls {held.failed} of {held.started}; 429s {limited} of {requests} requests; limit cut "
          f"{limiter.decreases} times, lowest {limiter.lowest}; retries {log.summary().retries}; at most "
          f"{in_flight} served at once; client CPU {held.cpu_ms:.2f} ms/call; load average {os.getloadavg()[0]:.1f}")
    for message in held.errors[:3]:
        print(f"  failed: {message}")


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
    parser.add_argument("--scale-window", type=float, default=6.0, help="seconds of sustained calls to count")
    parser.add_argument("--scale-calls", type=int, default=3072, help="calls of the cold-burst run (0: skip it)")
    parser.add_argument("--adaptive-window", type=float, default=10.0)
    args = parser.parse_args()
    throughput(args.calls, args.latency, args.concurrency)
    if not args.skip_scale:
        scale(args.scale_window, args.scale_calls, 1.0, 512)
    if not args.skip_adaptive:
        adaptive(args.adaptive_window, 0.1, 32, 128)
    if not args.skip_embedded:
        embedded(args.rounds, args.max_tokens)


if __name__ == "__main__":
    main()
