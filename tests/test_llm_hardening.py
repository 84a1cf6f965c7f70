"""Nothing a model says breaks the layer: surrogates, huge replies, torn logs, damaged caches, leaked keys."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from planner_loop.llm import CallLog, ChatMessage, ResponseCache, SamplingParams, open_model, read_calls
from planner_loop.llm.cache import CacheError
from planner_loop.llm.cache_health import check_cache, repair_cache
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.llm.textsafety import MAX_REPLY_CHARS, TRUNCATION_MARKER, clean_text, redact

CLI = Path(sys.executable).parent / "planner-loop"


def one_call(base_url: str, cache: ResponseCache | None, log: CallLog | None, text: str = "q") -> list:
    async def go() -> list:
        model = open_model(f"openai:m@{base_url}", cache=cache, call_log=log, concurrency=2, timeout_s=10, env={})
        try:
            return await model.complete([ChatMessage("user", text)], SamplingParams())
        finally:
            await model.aclose()

    return asyncio.run(go())


def test_a_reply_with_a_lone_surrogate_is_cached_and_replayed(tmp_path: Path) -> None:
    with FakeOpenAIServer(lambda req: "move a \ud800 then b") as server:
        with ResponseCache(tmp_path / "c.sqlite") as cache:
            [first] = one_call(server.base_url, cache, CallLog(tmp_path / "calls.jsonl"))
        with ResponseCache(tmp_path / "c.sqlite", mode="replay") as cache:
            [again] = one_call(server.base_url, cache, CallLog(tmp_path / "calls.jsonl"))
        assert server.requests == 1
    assert first.text == again.text == "move a \ufffd then b" and again.cached
    records = read_calls(tmp_path / "calls.jsonl")
    assert [r.replies for r in records.records] == [["move a \ufffd then b"]] * 2 and not records.skipped_lines
    (tmp_path / "calls.jsonl").read_text(encoding="utf-8")  # valid UTF-8 throughout


def test_an_old_cache_entry_with_a_surrogate_is_normalised_on_read(tmp_path: Path) -> None:
    with FakeOpenAIServer(lambda req: "fine") as server:
        with ResponseCache(tmp_path / "c.sqlite") as cache:
            one_call(server.base_url, cache, None)
        db = sqlite3.connect(tmp_path / "c.sqlite")
        db.execute("UPDATE responses SET reply = ?", ('{"text": "x\\udc80y", "finish_reason": "stop", '
                                                      '"prompt_tokens": 1, "completion_tokens": 1}',))
        db.commit()
        db.close()
        with ResponseCache(tmp_path / "c.sqlite", mode="replay") as cache:
            [reply] = one_call(server.base_url, cache, CallLog(tmp_path / "calls.jsonl"))
    assert reply.text == "x\ufffdy"


def test_huge_replies_are_bounded_and_the_cut_is_recorded(tmp_path: Path) -> None:
    with FakeOpenAIServer(lambda req: "(move a b) " * 200_000) as server:
        [reply] = one_call(server.base_url, None, CallLog(tmp_path / "calls.jsonl"))
    assert reply.truncated and len(reply.text) == MAX_REPLY_CHARS + len(TRUNCATION_MARKER)
    assert reply.text.endswith(TRUNCATION_MARKER)
    [record] = read_calls(tmp_path / "calls.jsonl").records
    assert record.truncated == [0]


def test_a_torn_last_line_does_not_break_reading_or_the_next_record(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    with FakeOpenAIServer(lambda req: "ok") as server:
        one_call(server.base_url, None, CallLog(path), "first")
        whole = path.read_text()
        path.write_text(whole + whole[: len(whole) // 2])  # a second record torn mid-write
        assert len(read_calls(path).records) == 1 and read_calls(path).skipped_lines == (2,)
        one_call(server.base_url, None, CallLog(path), "second")
    contents = read_calls(path)
    assert [r.messages[0]["content"] for r in contents.records] == ["first", "second"]
    assert contents.skipped_lines == (2,)


def test_redaction_masks_userinfo_headers_and_keys() -> None:
    text = redact("GET http://bob:hunter2@h/v1 failed; Authorization: Bearer abc.def key sk-live1234 x",
                  ["hunter2"])
    assert "hunter2" not in text and "abc.def" not in text and "sk-live1234" not in text and "bob" not in text
    assert clean_text("ok") == "ok" and clean_text("\udfff") == "\ufffd"


def test_a_damaged_cache_gives_one_line_and_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with FakeOpenAIServer(lambda req: "ok") as server:
        with ResponseCache(path) as cache:
            for i in range(3):
                one_call(server.base_url, cache, None, f"q{i}")
        db = sqlite3.connect(path)
        db.execute("UPDATE responses SET reply = 'not json' WHERE rowid = 1")
        db.commit()
        db.close()
        health = check_cache(path)
        assert not health.ok and health.unreadable_entries == 1 and health.entries == 3
        with ResponseCache(path, mode="replay") as cache, pytest.raises(CacheError, match="cache repair"):
            for i in range(3):
                one_call(server.base_url, cache, None, f"q{i}")
    checked = subprocess.run([str(CLI), "cache", "check", "--cache", str(path)], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 1 and "not readable" in checked.stdout and "Traceback" not in checked.stderr
    repaired = subprocess.run([str(CLI), "cache", "repair", "--cache", str(path)], capture_output=True, text=True,
                              timeout=60)
    assert repaired.returncode == 0 and "kept 2 entries, dropped 1" in repaired.stdout
    assert check_cache(path).ok and check_cache(path).entries == 2
    assert list(tmp_path.glob("c.sqlite.damaged-*"))


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"\x00garbage" * 1000)
    with ResponseCache(path) as cache, pytest.raises(CacheError, match="response cache"):
        cache.stats()
    result = subprocess.run([str(CLI), "cache", "stats", "--cache", str(path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "response cache" in result.stderr
    assert repair_cache(path).kept == 0 and check_cache(path).ok
