"""The ``conversation`` context policy through the real fake OpenAI server: one chat that grows turn by turn.

The generator answers with a distinct wrong plan each round (chosen by how many replies the chat
already holds), the sound verifier rejects each, and the request the server receives in round k+1
must be exactly round k's request plus the model's reply (assistant) and the feedback (user).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from planner_loop.experiment import parse_experiment
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.runs import RunStore, run_experiment

# problems/blocksworld/3-5/instance-1: every reply below fails at its first step.
WRONG = ["pick up the blue block", "pick up the yellow block", "pick up the blue block\nput down the blue block",
         "stack the red block on top of the blue block"]


class Recorder:
    """Answers the generator by turn number and keeps every request it saw."""

    def __init__(self) -> None:
        self.requests: list[list[dict[str, str]]] = []

    def __call__(self, request: Mapping[str, Any]) -> str:
        messages = [dict(m) for m in request["messages"]]
        self.requests.append(messages)
        turn = sum(m["role"] == "assistant" for m in messages)
        return WRONG[turn % len(WRONG)] + "\n[PLAN END]"


def _run(tmp: Path, context: str) -> tuple[dict[str, Any], list[list[dict[str, str]]]]:
    recorder = Recorder()
    with FakeOpenAIServer(recorder) as server:
        config = parse_experiment({
            "name": "conv",
            "instances": {"set": "blocksworld/3-5", "ids": ["instance-1"]},
            "prompt": {"encoding": "nl", "shots": 1},
            "generator": {"model": f"openai:fake@{server.base_url}", "max_tokens": 100},
            "conditions": [{"name": "c", "system": "llm+sound", "feedback": "first-error", "max_rounds": 4,
                            "context": context}],
            "cache": {"mode": "off"},
        })
        asyncio.run(run_experiment(config, tmp / "run"))
    (record,) = list(RunStore(tmp / "run").episodes())
    return record, recorder.requests


def test_conversation_messages_grow_turn_by_turn(tmp_path: Path) -> None:
    record, requests = _run(tmp_path, "conversation")
    assert record["context_policy"] == "conversation" and len(record["rounds"]) == 4
    assert len(requests) == 4
    for number in range(1, 4):
        before, after = record["rounds"][number - 1], record["rounds"][number]
        assert after["messages"][: len(before["messages"])] == before["messages"]
        added = after["messages"][len(before["messages"]):]
        assert [m["role"] for m in added] == ["assistant", "user"]
        assert added[0]["content"] == before["reply"]
        assert before["verdict"]["feedback"] in added[1]["content"]
        # the server saw exactly what the record says was sent
        assert requests[number] == after["messages"]
    assert [len(r["messages"]) for r in record["rounds"]] == [2, 4, 6, 8]
    assert [m["content"] for m in record["rounds"][3]["messages"] if m["role"] == "assistant"] == [
        r["reply"] for r in record["rounds"][:3]]


def test_history_restates_attempts_in_one_prompt(tmp_path: Path) -> None:
    record, _ = _run(tmp_path, "history")
    assert [len(r["messages"]) for r in record["rounds"]] == [2, 2, 2, 2]
    last = record["rounds"][3]["messages"][1]["content"]
    for earlier in record["rounds"][:3]:
        assert earlier["reply"].removesuffix("\n[PLAN END]") in last
        assert earlier["verdict"]["feedback"] in last


def test_show_prints_the_conversation_turn_by_turn(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from planner_loop.cli.main import app

    record, _ = _run(tmp_path, "conversation")
    shown = CliRunner().invoke(app, ["show", str(tmp_path / "run"), record["key"]], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    # each feedback is a new user turn after the model's earlier reply, in order
    positions = [shown.output.find(r["verdict"]["feedback"].splitlines()[0]) for r in record["rounds"][:3]]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    # the chat is shown once, each round adding only its new turns: one system prompt, the first user
    # prompt plus a user turn per feedback, and each round's reply
    assert shown.output.count("system:") == 1 and shown.output.count("user:") == 4
    assert shown.output.count("reply:") == 4
