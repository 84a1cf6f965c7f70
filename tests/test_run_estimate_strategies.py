"""``run --dry-run`` bounds every strategy: ``experiments/strategies.yaml`` (plus critic-scored
conditions with several votes) run against the fake OpenAI server stays, per condition and per
episode, within the dry run's calls and tokens, and refine's bound is exactly its rounds × (1 + votes)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.run_cli import run_cli
from helpers.strategy_episodes import is_critic, last_user

from planner_loop.experiment import load_experiment
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.orchestration import resolve_prices
from planner_loop.run_estimate import estimate_run
from planner_loop.runs import RunStore
from planner_loop.strategies.registry import build_strategy

CONFIG = Path(__file__).resolve().parents[1] / "experiments" / "strategies.yaml"
PLAN = "pick up the red block\nput down the red block\n[PLAN END]"
CRITIC_CONDITIONS = [
    {"name": "refine-critic", "system": "llm+llm", "max_rounds": 3, "votes": 3},
    {"name": "sc-critic", "system": "llm+llm", "votes": 2,
     "strategy": {"name": "self-consistency", "params": {"k": 3, "select": "critic"}}},
    {"name": "tree-critic", "system": "llm+llm", "votes": 2,
     "strategy": {"name": "tree-search", "params": {"breadth": 2, "proposals": 2, "depth": 3, "scorer": "critic"}}},
]


def spender(request: Mapping[str, Any]) -> str:
    """Replies that make every strategy spend as much as it may: no plan is ever accepted or confirmed,
    every tool call allowed is made."""
    if is_critic(request):
        return "Verdict: invalid"
    prompt = last_user(request)
    if "response_format" in request:
        return '{"plan": [{"action": "pick-up", "args": ["a"]}]}'
    if "Propose up to" in prompt:
        return "pick up the red block\nunstack the red block from on top of the blue block\nput down the red block"
    if "PLAN CONFIRMED" in prompt:
        return "The second action is wrong.\n" + PLAN
    if "No more tool calls" not in prompt and any("CALL simulate" in str(m.get("content"))
                                                  for m in request["messages"]):
        return "CALL simulate\n" + PLAN + "\nEND CALL"
    if "FINAL ANSWER:" in prompt:
        return "Thinking about it.\nFINAL ANSWER:\n" + PLAN
    return PLAN


def with_critics(folder: Path) -> Path:
    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    data["conditions"] = [*data["conditions"], *CRITIC_CONDITIONS]
    path = folder / "strategies.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_each_strategy_declares_its_most_calls() -> None:
    config = load_experiment(CONFIG)
    by_name = {c.name: c for c in config.conditions}

    def most(name: str, votes: int = 0) -> int:
        condition = by_name[name]
        strategy = build_strategy(condition.strategy.name, condition.strategy.params)
        return int(strategy.max_calls(condition, votes))   # type: ignore[attr-defined]

    assert most("refine-large") == 12 and most("refine-large", 2) == 12      # 12 × 3, capped at 12 calls
    assert most("sc-majority-large", 5) == 12                                # majority asks no critic
    assert most("tree-search-small") == 4                                    # 1 + 11 × 1 expansions, capped
    unbudgeted = {name: by_name[name].model_copy(update={"budget": by_name[name].budget.model_copy(
        update={"max_calls": None})}) for name in by_name}
    cases = {"refine-small": (0, 4), "cot-large": (3, 12 * 4), "sc-majority-small": (3, 4),
             "sc-oracle-large": (0, 12), "reflection-large": (0, 12), "tree-search-large": (0, 1 + 11 * 2),
             "tool-use-small": (0, 4), "constrained-large": (2, 12 * 3)}
    for name, (votes, expected) in cases.items():
        condition = unbudgeted[name]
        strategy = build_strategy(condition.strategy.name, condition.strategy.params)
        assert strategy.max_calls(condition, votes) == expected, name   # type: ignore[attr-defined]


def test_dry_run_bounds_every_strategy_of_the_strategies_config(tmp_path: Path) -> None:
    config = with_critics(tmp_path)
    out = tmp_path / "run"
    with FakeOpenAIServer(spender, latency_s=0.002) as server:
        model = f"openai:M@{server.base_url}"
        dry = run_cli("run", config, "--limit", "2", "--model", model, "--out", out, "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert server.requests == 0 and not out.exists()
        assert "condition tree-critic (tree-search): at most " in dry.stdout
        experiment = load_experiment(config).with_overrides(model=model, limit=2)   # as the CLI applies them
        estimate = asyncio.run(estimate_run(experiment, config_file=config,
                                            prices=resolve_prices(experiment, config_file=config)))
        done = run_cli("run", config, "--limit", "2", "--model", model, "--out", out, timeout=600)
        assert done.returncode == 0, done.stderr
    records = RunStore(out).episodes()
    bounds = {need.name: need for need in estimate.conditions}
    assert len(records) == 2 * len(bounds) == 38 and sum(n.episodes for n in bounds.values()) == 38
    for name, need in bounds.items():
        episodes = [r for r in records if r["condition"] == name]
        calls = [r["usage"]["calls"] for r in episodes]
        tokens = [r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"] for r in episodes]
        assert max(calls) <= need.calls_per_episode and max(tokens) <= need.tokens_per_episode, name
        assert need.calls_low <= sum(calls) <= need.calls_high, name
        assert sum(tokens) <= need.tokens_high, name
    # refine's bound is what a never-accepted episode makes: rounds × (1 + votes), capped by the budget
    assert bounds["refine-small"].calls_per_episode == 4 and bounds["refine-large"].calls_per_episode == 12
    assert bounds["refine-critic"].calls_per_episode == 3 * (1 + 3)
    assert bounds["sc-critic"].calls_per_episode == 3 * (1 + 2)
    assert bounds["tree-critic"].calls_per_episode == (1 + 2 * 2) * (1 + 2 * 2)
    for name in ("refine-small", "refine-large", "refine-critic", "sc-critic", "reflection-small"):
        assert {r["usage"]["calls"] for r in records if r["condition"] == name} == {bounds[name].calls_per_episode}
    assert sum(n.calls_high for n in bounds.values()) == estimate.total("calls_high")
    # a token budget caps the bound: at most the limit plus one step
    small = load_experiment(config).conditions[0].budget.max_tokens
    assert small is not None and bounds["reflection-small"].tokens_per_episode < 3 * small


@pytest.mark.parametrize("name", ["refine", "cot", "self-consistency", "reflection", "tree-search", "tool-use",
                                  "constrained"])
def test_every_builtin_strategy_declares_a_bound(name: str) -> None:
    strategy = build_strategy(name, {"select": "oracle"} if name == "self-consistency" else {})
    assert callable(getattr(strategy, "episode_bound", None)) and callable(getattr(strategy, "max_calls", None))
