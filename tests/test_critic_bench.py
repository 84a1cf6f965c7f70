"""The critic benchmark: labelled plans (validator-checked, reproducible) and scripted critics whose
confusion is known, run through the real fake OpenAI server and reproduced exactly."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from planner_loop.cli.main import app
from planner_loop.critic_bench import ERROR_TYPES, MUTATIONS, CriticBenchConfig, read_plan_set, run_bench
from planner_loop.critic_bench.config import CriticCondition
from planner_loop.critic_bench.plans import position_of
from planner_loop.domains import get_domain
from planner_loop.experiment import InstancesConfig, load_instances
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.planning.plan import parse_plan
from planner_loop.planning.validator import validate

SET = "blocksworld/planbench-4-5"
CRITIC_MARK = "plan checker"


def _checked_plan(prompt: str) -> str:
    blocks = re.findall(r"\[PLAN\]\n(.*?)\n\[PLAN END\]", prompt, re.S)
    return blocks[-1].strip()


class ScriptedCritic:
    """Says *valid* for optimal plans and deleted steps, gives no verdict on swaps, *invalid* otherwise."""

    def __init__(self, by_text: Mapping[str, str]) -> None:
        self.by_text = by_text      # rendered plan -> kind
        self.requests = 0

    def __call__(self, request: Mapping[str, Any]) -> str:
        messages = request["messages"]
        assert CRITIC_MARK in messages[0]["content"]
        self.requests += 1
        kind = self.by_text[_checked_plan(messages[-1]["content"])]
        if kind in ("optimal", "delete-step"):
            return "Looks fine.\nVerdict: valid"
        if kind == "swap-steps":
            return "I cannot tell."
        return "Step 1 fails.\nVerdict: invalid"

    @staticmethod
    def expected(kind: str, valid: bool) -> str:
        said = {"optimal": True, "delete-step": True, "swap-steps": None}.get(kind, False)
        if said is None:
            return "unreadable"
        return ("tp" if said else "fn") if valid else ("fp" if said else "tn")


def _rendered_kinds(out: Path) -> dict[str, str]:
    domain = get_domain("blocksworld")
    _, rows = read_plan_set(out / "plans" / "manifest.jsonl")
    mapping: dict[str, str] = {}
    for row in rows:
        text = domain.render_plan(row.plan, "nl").strip()
        assert mapping.get(text, row.kind) == row.kind
        mapping[text] = row.kind
    return mapping


def _config(spec: str, conditions: tuple[CriticCondition, ...]) -> CriticBenchConfig:
    return CriticBenchConfig(model=spec, conditions=conditions, seed=3)


def test_plan_set_is_labelled_balanced_and_reproducible(tmp_path: Path) -> None:
    from planner_loop.critic_bench.runner import build

    config = CriticBenchConfig(seed=3)
    rows = build(SET, 4, config, tmp_path / "a")
    build(SET, 4, config, tmp_path / "b")
    files = sorted(p.name for p in (tmp_path / "a" / "plans").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b" / "plans").iterdir())
    for name in files:
        assert (tmp_path / "a" / "plans" / name).read_bytes() == (tmp_path / "b" / "plans" / name).read_bytes()
    other = build(SET, 4, CriticBenchConfig(seed=4), tmp_path / "c")
    assert [r.steps for r in other] != [r.steps for r in rows]

    domain = get_domain("blocksworld")
    tasks = {i.id: domain.load_task(i.problem) for i in load_instances(InstancesConfig(set=SET, limit=4))}
    per_instance = Counter(r.instance for r in rows)
    assert len(per_instance) == 4
    for instance in per_instance:
        mine = [r for r in rows if r.instance == instance]
        assert sum(r.valid for r in mine) == sum(not r.valid for r in mine)          # balanced
        assert {r.kind for r in mine if not r.valid} == set(MUTATIONS)
        optimal = next(r for r in mine if r.kind == "optimal")
        assert len(optimal.steps) == optimal.optimal_length
    for row in rows:
        report = validate(tasks[row.instance], parse_plan("\n".join(row.steps)))
        assert report.valid == row.valid and row.error_type in ERROR_TYPES
        if row.kind in ("optimal", "non-optimal"):
            assert row.valid and (row.kind == "optimal") == (len(row.steps) == row.optimal_length)
        else:
            assert row.failed_step == report.failed_step
            assert row.position == position_of(report.failed_step, len(row.steps))
        if row.kind == "drop-last":
            assert row.failure == "goal" and row.position == "goal"


def test_scripted_critic_confusion_is_reproduced_exactly(tmp_path: Path) -> None:
    from planner_loop.critic_bench.runner import build

    build(SET, 3, CriticBenchConfig(seed=3), tmp_path / "probe")
    script = ScriptedCritic(_rendered_kinds(tmp_path / "probe"))
    conditions = (CriticCondition(name="binary", critic_mode="binary"),
                  CriticCondition(name="detailed", critic_mode="detailed", reference_guided=True))
    with FakeOpenAIServer(script) as server:
        result = run_bench(SET, tmp_path / "run", _config(f"openai:fake@{server.base_url}", conditions), limit=3)
    assert script.requests == 2 * len(result.plans)
    expected: dict[tuple[str, str], Counter[str]] = {}
    for condition in ("binary", "detailed"):
        for row in result.plans:
            expected.setdefault((condition, row.error_type), Counter())[ScriptedCritic.expected(row.kind, row.valid)] += 1
    got = {(c.condition, c.error_type): c for c in result.by_error_type}
    assert set(got) == set(expected)
    for key, counts in expected.items():
        cell = got[key]
        assert (cell.tp, cell.fp, cell.tn, cell.fn, cell.unreadable) == tuple(
            counts[k] for k in ("tp", "fp", "tn", "fn", "unreadable"))
        assert cell.n == sum(counts.values())
    delete = got[("binary", "delete-step")].rates()
    assert delete["fpr"] == 100.0 and delete["fpr_low"] is not None and delete["fpr_low"] < 100.0
    assert got[("binary", "swap-steps")].rates()["unreadable_rate"] == 100.0
    assert got[("binary", "insert-step")].rates()["fpr"] == 0.0
    for name in ("tables/by_error_type.md", "tables/by_error_type.csv", "tables/by_position.md",
                 "tables/by_position.csv", "plots/fpr_by_error_type.png", "plots/fpr_by_position.png", "report.md"):
        assert (tmp_path / "run" / name).stat().st_size > 0
    assert "| binary | delete-step |" in (tmp_path / "run" / "tables" / "by_error_type.md").read_text()


def test_cli_json_lines(tmp_path: Path) -> None:
    from planner_loop.critic_bench.runner import build

    build(SET, 2, CriticBenchConfig(seed=0), tmp_path / "probe")
    script = ScriptedCritic(_rendered_kinds(tmp_path / "probe"))
    config = tmp_path / "bench.yaml"
    with FakeOpenAIServer(script) as server:
        config.write_text(f"model: openai:fake@{server.base_url}\nconditions:\n  - {{name: bin, critic_mode: binary}}\n")
        result = CliRunner().invoke(app, ["critic-bench", "--set", SET, "--limit", "2", "--config", str(config),
                                          "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [line["error_type"] for line in lines] == list(ERROR_TYPES)
    for line in lines:
        assert line["condition"] == "bin"
        assert line["n"] == line["tp"] + line["fp"] + line["tn"] + line["fn"] + line["unreadable"]
    valid = lines[0]
    assert valid["fp"] == valid["tn"] == 0 and valid["tp"] == 2 and valid["fn"] == valid["n"] - 2


def test_bad_config_is_one_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "bench.yaml"
    config.write_text("conditions:\n  - {name: x, critic_mode: loud}\n")
    result = CliRunner().invoke(app, ["critic-bench", "--set", SET, "--config", str(config), "--out", str(tmp_path / "o")])
    assert result.exit_code != 0
    from planner_loop.critic_bench import load_bench_config
    from planner_loop.errors import ConfigError

    with pytest.raises(ConfigError, match="critic_mode"):
        load_bench_config(config)


@pytest.mark.slow
def test_embedded_model_runs_offline(tmp_path: Path) -> None:
    conditions = (CriticCondition(name="binary", critic_mode="binary", max_tokens=16),)
    result = run_bench(SET, tmp_path / "local", CriticBenchConfig(model="local", conditions=conditions), limit=1)
    assert sum(c.n for c in result.by_error_type) == len(result.plans) > 0
    assert (tmp_path / "local" / "plots" / "fpr_by_error_type.png").is_file()
