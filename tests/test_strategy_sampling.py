"""``cot``, ``self-consistency``, ``reflection`` and ``constrained`` end to end through the fake OpenAI
server (real HTTP, scripted replies): rounds, the chosen plan, recorded cost and termination."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from helpers.loop_scripting import checked_plan
from helpers.strategy_episodes import (
    BAD,
    BAD_STEPS,
    GOOD,
    GOOD_STEPS,
    expected_cost,
    is_critic,
    last_user,
    run_strategy,
)

from planner_loop.errors import ConfigError
from planner_loop.experiment import parse_experiment
from planner_loop.records import Budget
from planner_loop.strategies.registry import build_strategy


def test_cot_reads_the_plan_from_the_final_answer_only() -> None:
    # The reasoning names a wrong first step; only the answer after the marker is the plan.
    reply = "Reasoning: I could pick up the red block, but it is under nothing.\nFINAL ANSWER:\n" + GOOD
    record, server = run_strategy("llm-only", "cot", {"style": "state-tracking"}, lambda r: reply)
    assert server.requests == 1 and record.termination == "max_rounds" and len(record.rounds) == 1
    assert "the state before it" in server.received[0]["messages"][-1]["content"]
    assert record.rounds[0].plan == GOOD_STEPS and record.final.valid is True
    assert record.strategy.name == "cot" and record.strategy.params == {"style": "state-tracking", "max_rounds": 1}
    assert record.usage.calls == 1 and record.usage.cost_usd == pytest.approx(expected_cost(record))


def test_cot_without_the_marker_has_no_plan_and_refines_with_a_verifier() -> None:
    def responder(request: Mapping[str, Any]) -> str:
        retried = any(m["role"] == "assistant" for m in request["messages"])
        return "FINAL ANSWER:\n" + GOOD if retried else "I think:\n" + GOOD   # first reply lacks the marker
    record, server = run_strategy("llm+sound", "cot", {}, responder, max_rounds=3)
    assert [r.plan for r in record.rounds] == [None, GOOD_STEPS] and server.requests == 2
    assert record.rounds[0].extraction is not None and record.rounds[0].extraction.method == "none"
    assert record.rounds[0].parse_error == "no final answer after the marker"
    assert record.termination == "accepted" and record.final.round == 2


def sampler(plans: list[str]) -> Any:
    """Generator replies chosen by the request's seed (sample i has seed 1000*episode_seed + i)."""
    def responder(request: Mapping[str, Any]) -> str:
        if is_critic(request):
            return "Verdict: valid" if "white" in checked_plan(last_user(request)) else "Verdict: invalid"
        return plans[int(request["seed"]) % len(plans)]
    return responder


def test_self_consistency_majority_picks_the_most_frequent_plan() -> None:
    plans = [BAD, GOOD, GOOD.replace("[PLAN END]", "\n[PLAN END]"), BAD + " ", "no idea"]
    record, server = run_strategy("llm-only", "self-consistency", {"k": 5, "select": "majority"}, sampler(plans))
    assert server.requests == 5 and len(record.rounds) == 5
    assert {r["seed"] for r in server.received} == {0, 1, 2, 3, 4}
    assert all(r["temperature"] == 0.7 for r in server.received)
    # BAD and GOOD appear twice each once normalised; the tie goes to the earliest (BAD, sample 1)
    assert record.final.round == 1 and record.rounds[0].plan == BAD_STEPS and record.final.valid is False
    assert record.termination == "max_rounds"
    assert record.strategy.params == {"k": 5, "select": "majority", "temperature": 0.7, "oracle": False}
    assert record.usage.calls == 5 and record.usage.cost_usd == pytest.approx(expected_cost(record))


def test_self_consistency_majority_with_a_clear_winner() -> None:
    record, _ = run_strategy("llm-only", "self-consistency", {"k": 3}, sampler([BAD, GOOD, GOOD + " "]))
    assert record.final.round == 2 and record.final.valid is True and record.rounds[1].plan == GOOD_STEPS


def test_self_consistency_oracle_is_labelled_and_takes_the_first_valid_sample() -> None:
    record, server = run_strategy("llm+sound", "self-consistency", {"k": 4, "select": "oracle"},
                                  sampler([BAD, BAD + " ", GOOD, BAD + "  "]))
    assert record.strategy.params["oracle"] is True and server.requests == 4
    assert record.final.round == 3 and record.final.valid is True and record.termination == "accepted"
    assert [r.verdict.valid for r in record.rounds] == [False, False, True, False]


def test_self_consistency_critic_chooses_what_the_critic_accepts() -> None:
    # the critic accepts any plan mentioning the white block: GOOD (sample 2) here
    record, server = run_strategy("llm+llm", "self-consistency", {"k": 3, "select": "critic"},
                                  sampler([BAD, GOOD, BAD + " "]))
    assert server.requests == 6 and record.usage.calls == 6
    assert [r.usage.calls for r in record.rounds] == [2, 2, 2]
    assert record.final.round == 2 and record.final.accepted is True and record.termination == "accepted"


@pytest.mark.parametrize(("select", "system"), [("critic", "llm-only"), ("oracle", "llm+llm"),
                                                ("majority", "llm+sound")])
def test_self_consistency_refuses_a_condition_that_cannot_select(select: str, system: str) -> None:
    with pytest.raises(ConfigError, match=f"self-consistency with select: {select}"):
        parse_experiment({"name": "t", "instances": {"set": "blocksworld/3-5"},
                          "conditions": [{"name": "c", "system": system,
                                          "strategy": {"name": "self-consistency", "params": {"select": select}}}]})


def reviewer(first: str, verdicts: list[str]) -> Any:
    def responder(request: Mapping[str, Any]) -> str:
        reviews = sum(1 for m in request["messages"] if m["role"] == "assistant")
        return first if reviews == 0 else verdicts[min(reviews - 1, len(verdicts) - 1)]
    return responder


def test_reflection_revises_then_confirms() -> None:
    record, server = run_strategy("llm-only", "reflection", {"reviews": 3},
                                  reviewer(BAD, ["Step 2 picks up with a full hand. Corrected:\n" + GOOD,
                                                 "PLAN CONFIRMED"]))
    assert server.requests == 3 and len(record.rounds) == 3
    assert [r.plan for r in record.rounds] == [BAD_STEPS, GOOD_STEPS, GOOD_STEPS]
    assert record.rounds[2].extraction is not None and record.rounds[2].extraction.method == "kept"
    assert record.rounds[2].verdict.valid is True and record.rounds[2].verdict.detail["kind"] == "self-review"
    assert record.termination == "accepted" and record.final.valid is True
    # the review happens in the same conversation: the earlier reply is an assistant turn
    assert server.received[1]["messages"][-2] == {"role": "assistant", "content": BAD}
    assert "PLAN CONFIRMED" in server.received[1]["messages"][-1]["content"]
    assert record.usage.cost_usd == pytest.approx(expected_cost(record))


def test_reflection_confirming_a_wrong_plan_is_not_rescued() -> None:
    record, _ = run_strategy("llm-only", "reflection", {}, reviewer(BAD, ["PLAN CONFIRMED"]))
    assert len(record.rounds) == 2 and record.termination == "accepted" and record.final.valid is False


def test_reflection_stops_after_its_reviews() -> None:
    record, server = run_strategy("llm-only", "reflection", {"reviews": 1}, reviewer(BAD, [GOOD]))
    assert server.requests == 2 and record.termination == "max_rounds" and record.final.valid is True


def test_constrained_sends_the_plan_schema_and_reads_json() -> None:
    reply = json.dumps({"plan": [{"action": s[1:-1].split()[0], "args": s[1:-1].split()[1:]} for s in GOOD_STEPS]})
    record, server = run_strategy("llm+sound", "constrained", {"strategy": "refine"}, lambda r: reply, max_rounds=2)
    sent = server.received[0]
    schema = sent["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["plan"]["items"]["properties"]["action"]["enum"] == ["pick-up", "put-down", "stack",
                                                                                      "unstack"]
    assert '{"plan"' in sent["messages"][-1]["content"]        # the prompt asks for the JSON form too
    assert record.prompt is not None and record.prompt.constrained is True
    assert record.rounds[0].extraction is not None and record.rounds[0].extraction.method == "json"
    assert record.termination == "accepted" and record.final.valid is True
    assert record.strategy.name == "constrained"
    assert record.strategy.params == {"strategy": "refine", "params": {"max_rounds": 2, "context": "last"}}


def test_constrained_wraps_self_consistency() -> None:
    reply = json.dumps({"plan": [{"action": "pick-up", "args": ["b"]}]})
    record, server = run_strategy("llm-only", "constrained", {"strategy": "self-consistency", "params": {"k": 2}},
                                  lambda r: reply)
    assert server.requests == 2 and all("response_format" in r for r in server.received)
    assert record.strategy.params["strategy"] == "self-consistency" and record.final.round == 1


@pytest.mark.parametrize(("name", "params", "message"), [
    ("cot", {"style": "loud"}, "strategy cot: style"),
    ("self-consistency", {"k": 0}, "strategy self-consistency: k"),
    ("reflection", {"revews": 2}, "reflection: revews: unknown parameter"),
    ("constrained", {"strategy": "cot"}, "strategy constrained: strategy"),
    ("constrained", {"params": {"k": 2}}, "refine takes no parameters"),
])
def test_bad_parameters_are_refused(name: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_strategy(name, params)


def test_a_config_names_the_strategy_and_budget_and_keeps_old_hashes() -> None:
    base = {"name": "t", "instances": {"set": "blocksworld/3-5"}, "conditions": [{"name": "c", "system": "llm-only"}]}
    plain = parse_experiment(base)
    assert plain.conditions[0].strategy.name == "refine" and plain.conditions[0].budget == Budget()
    explicit = parse_experiment({**base, "conditions": [{"name": "c", "system": "llm-only",
                                                          "strategy": {"name": "refine"}, "budget": {}}]})
    assert explicit.hash() == plain.hash()
    spent = parse_experiment({**base, "conditions": [{"name": "c", "system": "llm-only",
                                                       "budget": {"max_calls": 3}}]})
    assert spent.hash() != plain.hash() and spent.conditions[0].budget.max_calls == 3
    with pytest.raises(ConfigError, match="unknown strategy 'cott'"):
        parse_experiment({**base, "conditions": [{"name": "c", "system": "llm-only", "strategy": {"name": "cott"}}]})
