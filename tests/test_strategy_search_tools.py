"""``tree-search`` and ``tool-use`` end to end through the fake OpenAI server (real HTTP, scripted replies)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from helpers.loop_scripting import checked_plan
from helpers.strategy_episodes import BAD, GOOD, GOOD_STEPS, expected_cost, is_critic, last_user, run_strategy

from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.records import Budget

ORDER = GOOD.splitlines()[:-1]   # the six actions of the valid plan, in words


def taken(request: Mapping[str, Any]) -> int:
    """How many actions the expansion prompt says were taken."""
    prompt = last_user(request)
    if "taken so far" not in prompt:
        return 0
    block = prompt.split("taken so far, in order:\n", 1)[1].split("\nPropose", 1)[0]
    return len([line for line in block.splitlines() if line.strip()])


def expander(request: Mapping[str, Any]) -> str:
    """Proposes an inapplicable action first, then the right one, then a legal detour."""
    n = taken(request)
    return f"pick up the red block\n{ORDER[min(n, 5)]}\nput down the red block"


def test_tree_search_with_the_simulator_finds_the_plan() -> None:
    record, server = run_strategy("llm-only", "tree-search", {"breadth": 1, "proposals": 3}, expander)
    assert server.requests == len(record.rounds) == 6
    assert record.termination == "accepted" and record.final.round == 6 and record.final.valid is True
    assert record.rounds[-1].plan == GOOD_STEPS
    first = record.rounds[0].verdict.detail["candidates"]
    assert [c["applicable"] for c in first] == [False, True, False]
    assert first[1] == {"action": "(unstack c b)", "applicable": True, "h": 2.0}
    assert [len(r.plan or []) for r in record.rounds] == [1, 2, 3, 4, 5, 6]
    assert record.usage.cost_usd == pytest.approx(expected_cost(record))
    assert record.strategy.params["scorer"] == "simulator"


def test_tree_search_breadth_two_expands_two_nodes_per_level() -> None:
    record, server = run_strategy("llm-only", "tree-search", {"breadth": 2, "proposals": 3, "depth": 2,
                                                              "heuristic": "h-add"}, expander)
    # level 1: one expansion of the root; level 2: two children (unstack c b, and ... only one is applicable)
    level_one = record.rounds[0].verdict.detail["candidates"]
    applicable = sum(c["applicable"] for c in level_one)
    assert server.requests == 1 + applicable and record.termination == "max_rounds"
    assert record.final.valid is False and record.final.round in range(2, 2 + applicable)


def test_tree_search_stops_at_the_budget_with_the_best_prefix_as_answer() -> None:
    record, server = run_strategy("llm-only", "tree-search", {"breadth": 1}, expander, Budget(max_calls=3))
    assert server.requests == 3 and record.termination == "budget" and record.final.round == 3
    assert record.rounds[2].plan == GOOD_STEPS[:3]


def test_tree_search_with_the_critic_scores_prefixes() -> None:
    def responder(request: Mapping[str, Any]) -> str:
        if is_critic(request):
            plan = checked_plan(last_user(request))
            return "Verdict: valid" if plan.count("\n") >= 1 and "put down the orange" in plan else "Verdict: invalid"
        return expander(request)
    record, server = run_strategy("llm+llm", "tree-search", {"breadth": 1, "proposals": 3, "scorer": "critic"},
                                  responder)
    # the critic accepts (unstack c b) (put-down c): an invalid plan the critic wrongly accepts
    assert record.termination == "accepted" and record.final.accepted is True and record.final.valid is False
    assert record.rounds[-1].usage.calls == 1 + 3 and server.requests == record.usage.calls


def tool_user(request: Mapping[str, Any]) -> str:
    """Checks BAD, then GOOD, then answers GOOD."""
    results = [m["content"] for m in request["messages"] if m["role"] == "user" and "TOOL RESULT" in m["content"]]
    if not results:
        return "Let me check.\nCALL validate\n" + BAD + "\nEND CALL"
    if len(results) == 1:
        return "CALL simulate\n" + GOOD + "\nEND CALL"
    return "Final plan:\n" + GOOD


def test_tool_use_text_protocol_answers_from_the_sound_validator() -> None:
    record, server = run_strategy("llm-only", "tool-use", {"max_tool_calls": 3}, tool_user)
    assert server.requests == len(record.rounds) == 3
    details = [r.verdict.detail for r in record.rounds]
    assert [d.get("tool") for d in details] == ["validate", "simulate", None]
    assert details[1]["calls"] == 2
    second_prompt = server.received[1]["messages"]
    assert second_prompt[-1]["content"].startswith("TOOL RESULT (validate):")
    assert "Step 1 (pick up the blue block) cannot be taken" in second_prompt[-1]["content"]
    assert "After step 6" in server.received[2]["messages"][-1]["content"]
    assert record.final.round == 3 and record.final.valid is True and record.termination == "max_rounds"
    assert record.usage.calls == 3 and record.usage.cost_usd == pytest.approx(expected_cost(record))


def test_tool_use_stops_answering_tools_at_its_limit() -> None:
    record, server = run_strategy("llm-only", "tool-use", {"max_tool_calls": 1}, tool_user)
    assert server.requests == 2
    assert "No more tool calls" in server.received[1]["messages"][-1]["content"]
    # the second reply is a call the strategy no longer answers: read as the answer
    assert record.rounds[-1].verdict.detail.get("tool") is None and record.final.round == 2


def test_tool_use_within_a_call_budget() -> None:
    record, server = run_strategy("llm-only", "tool-use", {}, tool_user, Budget(max_calls=2))
    assert server.requests == 2 and record.termination == "budget" and record.usage.calls == 2


def function_user(request: Mapping[str, Any]) -> Any:
    """Calls validate(BAD) as an OpenAI function call, then answers GOOD."""
    answered = [m for m in request["messages"] if m["role"] == "tool"]
    if not answered:
        return {"content": None, "tool_calls": [{"id": "call_1", "name": "validate",
                                                 "arguments": json.dumps({"plan": BAD})}]}
    return "Checked. Final plan:\n" + GOOD


def test_tool_use_with_openai_function_calling() -> None:
    record, server = run_strategy("llm-only", "tool-use", {"protocol": "functions"}, function_user)
    assert server.requests == 2 and len(record.rounds) == 2
    first = server.received[0]
    assert [t["function"]["name"] for t in first["tools"]] == ["simulate", "validate"]
    second = server.received[1]["messages"]
    assert second[-2]["role"] == "assistant" and second[-2]["tool_calls"][0]["id"] == "call_1"
    assert second[-1]["role"] == "tool" and second[-1]["tool_call_id"] == "call_1"
    assert second[-1]["content"].startswith("The plan is not valid.")
    assert record.rounds[0].verdict.detail["tool"] == "validate" and record.rounds[0].plan == ["(pick-up b)",
                                                                                               "(pick-up a)"]
    assert record.final.round == 2 and record.final.valid is True
    assert record.usage.calls == 2 and record.usage.cost_usd == pytest.approx(expected_cost(record))
    # the recorded chat keeps the tool turns
    assert record.rounds[1].messages[-1].role == "tool"


def test_function_calls_survive_the_response_cache(tmp_path: Any) -> None:
    import asyncio

    from planner_loop.llm import ResponseCache, SamplingParams, open_model
    from planner_loop.llm.protocol import ChatMessage
    from planner_loop.strategies.tools import function_specs

    params = SamplingParams(max_tokens=50, tools=function_specs(("validate",)))
    messages = [ChatMessage("user", "check a plan")]

    async def ask(base_url: str, cache: ResponseCache) -> Any:
        model = open_model(f"openai:fake@{base_url}", cache=cache, call_log=None, concurrency=1, timeout_s=10)
        try:
            return (await model.complete(messages, params))[0]
        finally:
            await model.aclose()

    cache = ResponseCache(tmp_path / "cache.sqlite", "read-write")
    try:
        with FakeOpenAIServer(function_user) as server:
            first = asyncio.run(ask(server.base_url, cache))
            again = asyncio.run(ask(server.base_url, cache))
            assert server.requests == 1
    finally:
        cache.close()
    assert first.tool_calls and again.cached and again.tool_calls == first.tool_calls
    assert json.loads(again.tool_calls[0].arguments) == {"plan": BAD}
