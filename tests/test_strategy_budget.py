"""No strategy exceeds its budget: every built-in strategy, under call and token limits drawn by
hypothesis, through the fake OpenAI server; a stop for the budget is recorded as ``budget``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helpers.loop_scripting import checked_plan
from helpers.strategy_episodes import BAD, GOOD, is_critic, last_user, run_strategy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner_loop.records import Budget


def responder(request: Mapping[str, Any]) -> str:
    """Never a valid answer, so only the budget (or a strategy's own limit) ends an episode."""
    if is_critic(request):
        return "Verdict: valid" if checked_plan(last_user(request)).count("\n") > 8 else "Verdict: invalid"
    prompt = last_user(request)
    if "Propose up to" in prompt:
        return "put down the red block\nunstack the orange block from on top of the blue block"
    if "CALL simulate" in prompt or "TOOL RESULT" in prompt:
        return "CALL validate\n" + BAD + "\nEND CALL"
    if "PLAN CONFIRMED" in prompt:
        return "Step 2 is wrong.\n" + BAD
    if "FINAL ANSWER:" in prompt:
        return "FINAL ANSWER:\n" + BAD
    return BAD if int(request.get("seed") or 0) % 2 == 0 else GOOD.replace("put down the orange", "pick up the x")


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("llm+sound", "refine", {}),
    ("llm+sound", "cot", {}),
    ("llm-only", "self-consistency", {"k": 6}),
    ("llm+llm", "self-consistency", {"k": 4, "select": "critic"}),
    ("llm-only", "reflection", {"reviews": 6}),
    ("llm-only", "tree-search", {"breadth": 2, "proposals": 2, "depth": 4}),
    ("llm+llm", "tree-search", {"breadth": 1, "proposals": 2, "depth": 3, "scorer": "critic"}),
    ("llm-only", "tool-use", {"max_tool_calls": 6}),
    ("llm+sound", "constrained", {"strategy": "refine"}),
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), max_calls=st.integers(0, 7),
       max_tokens=st.one_of(st.none(), st.integers(0, 3000)))
def test_no_strategy_exceeds_its_budget(case: tuple[str, str, dict[str, Any]], max_calls: int,
                                        max_tokens: int | None) -> None:
    system, name, params = case
    budget = Budget(max_calls=max_calls, max_tokens=max_tokens)
    record, server = run_strategy(system, name, params, responder, budget,
                                  max_rounds=6 if system == "llm+sound" else None)
    assert server.requests == record.usage.calls <= max_calls
    assert record.usage.calls == sum(r.usage.calls for r in record.rounds)
    assert record.strategy.budget == budget
    if max_tokens is not None and len(record.rounds) > 1:
        # tokens are checked between calls: everything before the last step stayed under the limit
        before_last = sum(r.usage.total_tokens for r in record.rounds[:-1])
        assert before_last < max_tokens
    if record.termination != "budget":
        assert record.termination in ("max_rounds", "accepted")
    if max_calls == 0 or max_tokens == 0:
        assert record.termination == "budget" and server.requests == 0
