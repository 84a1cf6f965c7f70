"""No file the LLM layer writes (cache, call log, weight stamps) and no message it prints holds the API key."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planner_loop.errors import ModelError
from planner_loop.llm import CallLog, ChatMessage, ResponseCache, RetryPolicy, SamplingParams, open_model
from planner_loop.llm.fake_server import FakeOpenAIServer

KEY = "sk-LEAKCHECK-5f3a9c1e7b2d4a6f8e0c"
CLI = Path(sys.executable).parent / "planner-loop"


def files_containing(root: Path, secret: str) -> list[Path]:
    needle = secret.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_api_key_is_used_but_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PLANNER_LOOP_CACHE", str(tmp_path / "home" / "cache.sqlite"))
    retry = RetryPolicy(max_attempts=4, initial_s=0.01)
    with FakeOpenAIServer(lambda req: "ok", api_key=KEY, faults=["429", "500", None]) as good, \
            FakeOpenAIServer(api_key="a-different-key") as rejecting:
        cache = ResponseCache(tmp_path / "run" / "cache.sqlite")
        log = CallLog(tmp_path / "run" / "calls.jsonl")

        async def go() -> str:
            model = open_model(f"openai:m@{good.base_url}", cache=cache, call_log=log, concurrency=4,
                               timeout_s=5, retry=retry)
            await asyncio.gather(*(model.complete([ChatMessage("user", f"q{i}")], SamplingParams(n=2))
                                   for i in range(5)))
            await model.aclose()
            refused = open_model(f"openai:m@{rejecting.base_url}", cache=cache, call_log=log, concurrency=1,
                                 timeout_s=5, retry=retry)
            try:
                await refused.complete([ChatMessage("user", "q")], SamplingParams())
            except ModelError as error:  # the server echoes the key it was given
                return str(error)
            finally:
                await refused.aclose()
            return ""

        message = asyncio.run(go())
        cache.close()
        assert set(good.authorizations) == {f"Bearer {KEY}"}
        assert rejecting.authorizations == [f"Bearer {KEY}"]
        result = subprocess.run([str(CLI), "models", "check", f"openai:m@{rejecting.base_url}"],
                                capture_output=True, text=True, env=os.environ.copy(), timeout=60)
    assert "HTTP 401" in message and KEY not in message
    assert result.returncode == 2 and "HTTP 401" in result.stderr
    assert KEY not in result.stdout + result.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "calls.jsonl" for p in written) and any(p.name == "cache.sqlite" for p in written)
    assert files_containing(tmp_path, KEY) == []
    assert files_containing(tmp_path, KEY[3:]) == []
