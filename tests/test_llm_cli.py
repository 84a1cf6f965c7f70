"""``planner-loop models check`` and ``planner-loop cache stats|clear`` as a user runs them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from planner_loop.llm import ChatMessage, ResponseCache, SamplingParams, open_model
from planner_loop.llm.fake_server import FakeOpenAIServer

CLI = Path(sys.executable).parent / "planner-loop"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, env={**base, **(env or {})},
                          timeout=120)


def test_check_round_trip_through_openai_base_url() -> None:
    with FakeOpenAIServer(lambda req: "ready", models=["my-model"]) as server:
        result = run("models", "check", "openai:my-model", env={"OPENAI_BASE_URL": server.base_url})
        assert server.requests == 1
    assert result.returncode == 0, result.stderr
    assert "reply:   'ready'" in result.stdout
    assert "latency:" in result.stdout and "tokens:  6 prompt, 1 completion" in result.stdout


def test_check_failures_exit_2_with_one_line() -> None:
    with FakeOpenAIServer(models=["known"]) as server:
        unknown = run("models", "check", f"openai:unknown@{server.base_url}")
        url = server.base_url
    unreachable = run("models", "check", f"openai:known@{url}")
    no_key = run("models", "check", "openai:gpt-4o")
    bad_spec = run("models", "check", "gpt-4o")
    for result, needle in ((unknown, "'unknown' unknown at this endpoint"), (unreachable, "endpoint unreachable"),
                           (no_key, "OPENAI_API_KEY is not set"), (bad_spec, "unknown model spec")):
        assert result.returncode == 2
        assert needle in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_cache_stats_and_clear(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with FakeOpenAIServer() as server:
        with ResponseCache(path) as cache:
            model = open_model(f"openai:m@{server.base_url}", cache=cache, call_log=None, concurrency=2,
                               timeout_s=5, env={})

            async def go() -> None:
                for i in range(3):
                    await model.complete([ChatMessage("user", str(i))], SamplingParams())
                await model.aclose()

            asyncio.run(go())
    stats = run("cache", "stats", "--cache", str(path))
    assert stats.returncode == 0 and "entries: 3" in stats.stdout and "openai:m@" in stats.stdout
    cleared = run("cache", "clear", "--cache", str(path))
    assert cleared.returncode == 0 and "removed 3 entries" in cleared.stdout
    assert "entries: 0" in run("cache", "stats", "--cache", str(path)).stdout
    env_default = run("cache", "stats", env={"PLANNER_LOOP_CACHE": str(tmp_path / "env.sqlite")})
    assert str(tmp_path / "env.sqlite") in env_default.stdout
