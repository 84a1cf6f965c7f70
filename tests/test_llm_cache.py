"""Response cache: the key covers exactly what decides a completion; modes; sharing between processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from planner_loop.errors import ConfigError
from planner_loop.llm.cache import CachedReply, ResponseCache, default_cache_path, request_key
from planner_loop.llm.protocol import ChatMessage, SamplingParams

MESSAGES = (ChatMessage("system", "s"), ChatMessage("user", "u"))
REPLY = CachedReply(text="t", finish_reason="stop", prompt_tokens=3, completion_tokens=1)


def key(**changes: object) -> str:
    args: dict[str, object] = {"kind": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m",
                               "messages": MESSAGES, "params": SamplingParams(), "sample_index": 0}
    args.update(changes)
    return request_key(**args)  # type: ignore[arg-type]


def test_key_changes_with_everything_that_decides_a_completion() -> None:
    base = key()
    variants = [
        key(kind="local"), key(base_url="http://127.0.0.1:2/v1"), key(model="m2"),
        key(messages=(ChatMessage("system", "s"), ChatMessage("user", "u2"))),
        key(messages=(ChatMessage("user", "s"), ChatMessage("user", "u"))),
        key(params=SamplingParams(temperature=0.5)), key(params=SamplingParams(max_tokens=5)),
        key(params=SamplingParams(seed=1)), key(params=SamplingParams(seed=None)),
        key(params=SamplingParams(stop=("x",))), key(params=SamplingParams(json_schema={"type": "object"})),
        key(params=SamplingParams(grammar='root ::= "a"')), key(sample_index=1),
    ]
    assert base not in variants and len(set(variants)) == len(variants)
    # n only says how many samples: sample 0 of an n=4 request is the same request as n=1
    assert key(params=SamplingParams(n=4)) == base
    assert len(base) == 64 and base == key()


def test_modes(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with ResponseCache(path) as cache:
        assert cache.get("k") is None
        cache.put("k", "spec", REPLY)
        assert cache.get("k") == REPLY
    with ResponseCache(path, mode="off") as cache:
        assert cache.get("k") is None
        cache.put("k2", "spec", REPLY)
    with ResponseCache(path, mode="replay") as cache:
        assert cache.get("k") == REPLY
        cache.put("k3", "spec", REPLY)  # replay never writes
        stats = cache.stats()
        assert (stats.entries, dict(stats.by_model)) == (1, {"spec": 1})
        assert stats.size_bytes > 0
    with ResponseCache(path) as cache:
        assert cache.clear() == 1 and cache.stats().entries == 0
    with pytest.raises(ConfigError, match="cache mode"):
        ResponseCache(path, mode="write-only")


def test_default_location_follows_environment(tmp_path: Path) -> None:
    assert default_cache_path({"PLANNER_LOOP_CACHE": str(tmp_path / "x.sqlite")}) == tmp_path / "x.sqlite"
    assert default_cache_path({}) == Path.home() / ".cache" / "planner-loop" / "responses.sqlite"


def test_unusable_cache_path_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot open response cache"):
        ResponseCache(blocker / "c.sqlite").get("k")


WRITER = """
import sys
from planner_loop.llm.cache import CachedReply, ResponseCache
cache = ResponseCache(sys.argv[1])
for i in range(300):
    cache.put(f"{sys.argv[2]}-{i}", "m", CachedReply("t", "stop", 1, 1))
    cache.get(f"{sys.argv[2]}-{i // 2}")
"""


def test_two_processes_write_the_same_cache(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    ResponseCache(path).stats()  # create the file and WAL mode first
    workers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name], stderr=subprocess.PIPE)
               for name in ("a", "b")]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err.decode()
    with ResponseCache(path) as cache:
        assert cache.stats().entries == 600
