"""A response cache locked by another process: one clear line naming the file, a bounded wait, nothing lost.

The other process is real: a python subprocess opens the sqlite file, takes ``BEGIN EXCLUSIVE``, writes one
row inside that transaction and holds the lock until told on stdin to commit and let go. The cache is in WAL
mode, so readers are never blocked by it; writers, ``cache check`` and ``cache repair`` are.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import pytest

from planner_loop.llm import CallLog, ChatMessage, ResponseCache, SamplingParams, open_model
from planner_loop.llm.cache import CachedReply, CacheError
from planner_loop.llm.cache_health import check_cache, repair_cache
from planner_loop.llm.calls import read_calls
from planner_loop.llm.fake_server import FakeOpenAIServer

CLI = Path(sys.executable).parent / "planner-loop"
WAIT_S = 0.5
LOCKED = "another process holds it locked"
HELD = CachedReply(text="held", finish_reason="stop", prompt_tokens=1, completion_tokens=1)
HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
db.execute("INSERT INTO responses (key, model, created, reply) VALUES ('held', 'm', 0, ?)", (sys.argv[2],))
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
db.close()
print("released", flush=True)
"""


class LockHolder:
    """Another process holding ``BEGIN EXCLUSIVE`` on the cache at ``path`` until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), HELD.to_json()],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)

    def __enter__(self) -> LockHolder:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line == "locked\n", self.process.stderr.read() if self.process.stderr else line
        return self

    def release(self) -> None:
        """Commit the held row, let go of the lock and wait for the process to end."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline() == "released\n"
        assert self.process.wait(timeout=10) == 0

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def reply(i: int) -> CachedReply:
    return CachedReply(text=f"reply {i}", finish_reason="stop", prompt_tokens=i, completion_tokens=1)


def stored_cache(tmp_path: Path, entries: int = 3) -> Path:
    """A cache file with ``entries`` replies under the keys ``k0``, ``k1``, ..."""
    path = tmp_path / "responses.sqlite"
    with ResponseCache(path) as cache:
        for i in range(entries):
            cache.put(f"k{i}", "m", reply(i))
    return path


def assert_one_clear_line(message: str, path: Path) -> None:
    assert "\n" not in message.strip() and "Traceback" not in message
    assert str(path) in message and LOCKED in message


def test_a_write_to_a_locked_cache_fails_in_one_line_within_the_wait_and_works_once_released(
        tmp_path: Path) -> None:
    path = stored_cache(tmp_path)
    assert ResponseCache(path).busy_timeout_s == 30.0            # the default wait is unchanged
    with LockHolder(path) as holder, ResponseCache(path, busy_timeout_s=WAIT_S) as cache:
        started = time.monotonic()
        assert cache.get("k1") == reply(1)                       # WAL: a reader is not blocked by the writer
        assert cache.get("held") is None                         # ... and does not see its uncommitted row
        assert time.monotonic() - started < WAIT_S
        started = time.monotonic()
        with pytest.raises(CacheError) as raised:
            cache.put("new", "m", reply(9))
        waited = time.monotonic() - started
        assert WAIT_S * 0.8 <= waited < 5                        # it waited for the lock, but not for 30 s
        assert_one_clear_line(str(raised.value), path)
        assert "planner-loop cache check" in str(raised.value)
        assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
        holder.release()
        cache.put("new", "m", reply(9))                          # the same object works again
        assert cache.get("new") == reply(9)
        assert [cache.get(f"k{i}") for i in range(3)] == [reply(i) for i in range(3)]
        assert cache.get("held") == HELD and cache.stats().entries == 5


def test_a_model_call_on_a_locked_cache_fails_with_the_same_line(tmp_path: Path) -> None:
    path = stored_cache(tmp_path)
    log = CallLog(tmp_path / "calls.jsonl")

    async def call(cache: ResponseCache, base_url: str) -> str:
        model = open_model(f"openai:m@{base_url}", cache=cache, call_log=log, concurrency=1, timeout_s=10, env={})
        try:
            [completion] = await model.complete([ChatMessage("user", "q")], SamplingParams())
        finally:
            await model.aclose()
        return completion.text

    with FakeOpenAIServer(lambda request: "ok") as server, ResponseCache(path, busy_timeout_s=WAIT_S) as cache:
        with LockHolder(path) as holder:
            started = time.monotonic()
            with pytest.raises(CacheError) as raised:
                asyncio.run(call(cache, server.base_url))
            assert time.monotonic() - started < 5                # not retried, not the 30 s default
            assert_one_clear_line(str(raised.value), path)
            # the endpoint answered (and was paid) before the cache refused the write: the call is logged
            [paid] = read_calls(log.path).records
            assert paid.cache == "write" and paid.error is None and server.requests == 1
            holder.release()
        assert asyncio.run(call(cache, server.base_url)) == "ok"
        assert asyncio.run(call(cache, server.base_url)) == "ok"  # ... and this one came from the cache
        assert server.requests == 2


def test_check_and_repair_refuse_a_locked_cache_and_leave_it_in_place(tmp_path: Path) -> None:
    path = stored_cache(tmp_path)
    inode = path.stat().st_ino
    with LockHolder(path) as holder:
        for doing, action in (("check", check_cache), ("repair", repair_cache)):
            started = time.monotonic()
            with pytest.raises(CacheError, match=f"cannot {doing} response cache") as raised:
                action(path, busy_timeout_s=WAIT_S)
            assert WAIT_S * 0.8 <= time.monotonic() - started < 5
            assert_one_clear_line(str(raised.value), path)
        holder.release()
    # repair did not swap the file under the writer: its commit landed in the cache, nothing was lost
    assert path.stat().st_ino == inode
    assert not list(tmp_path.glob("*.damaged-*")) and not list(tmp_path.glob("*.repairing*"))
    health = check_cache(path, busy_timeout_s=WAIT_S)
    assert health.ok and health.entries == 4
    assert repair_cache(path, busy_timeout_s=WAIT_S).kept == 4
    with ResponseCache(path) as cache:
        assert cache.get("held") == HELD and [cache.get(f"k{i}") for i in range(3)] == [reply(i) for i in range(3)]


def test_cache_check_and_repair_commands_exit_with_one_line_while_locked(tmp_path: Path) -> None:
    path = stored_cache(tmp_path)
    with LockHolder(path) as holder:
        started = time.monotonic()
        commands = [subprocess.Popen([str(CLI), "cache", doing, "--cache", str(path)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True) for doing in ("check", "repair")]
        results = [command.communicate(timeout=60) for command in commands]
        elapsed = time.monotonic() - started                     # both ran at once, under the 5 s default wait
        assert holder.process.poll() is None                     # the lock was held for the whole of both calls
        holder.release()
    for doing, command, (stdout, stderr) in zip(("check", "repair"), commands, results, strict=True):
        assert command.returncode == 2, (stdout, stderr)
        assert stdout == "" and stderr.count("\n") == 1
        assert stderr.startswith(f"planner-loop: error: {path}: cannot {doing} response cache: database is locked")
        assert_one_clear_line(stderr, path)
    assert elapsed < 25                                          # well under the cache's own 30 s wait
    assert not list(tmp_path.glob("*.damaged-*"))
    checked = subprocess.run([str(CLI), "cache", "check", "--cache", str(path)], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0 and "entries: 4" in checked.stdout and "status:  ok" in checked.stdout
