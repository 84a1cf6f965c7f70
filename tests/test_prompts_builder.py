"""Prompt building: encodings, shots, the example rule, context policies, template overrides."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from planner_loop.domains import get_domain
from planner_loop.errors import ConfigError
from planner_loop.experiment import InstancesConfig, load_instance_pool
from planner_loop.prompts import ExampleBank, PromptBuilder, load_templates


@pytest.fixture(scope="module")
def bank() -> ExampleBank:
    domain = get_domain("blocksworld")
    return ExampleBank(domain, load_instance_pool(InstancesConfig(set="blocksworld/3-5")))


def test_next_by_id_rule_wraps_and_never_returns_the_query(bank: ExampleBank) -> None:
    ids = [inst.id for inst in bank.pool]
    assert ids[:3] == ["instance-1", "instance-2", "instance-3"] and ids[-1] == "instance-100"
    assert bank.example_ids("instance-1", 2) == ["instance-2", "instance-3"]
    assert bank.example_ids("instance-9", 1) == ["instance-10"]
    assert bank.example_ids("instance-100", 2) == ["instance-1", "instance-2"]
    assert bank.example_ids("instance-5", 0) == []
    assert "instance-7" not in bank.example_ids("instance-7", 99)
    with pytest.raises(ConfigError):
        bank.example_ids("instance-7", 100)


def test_nl_one_shot_prompt_is_planbench_shaped(bank: ExampleBank) -> None:
    builder = PromptBuilder(bank.domain, "nl")
    examples = asyncio.run(bank.examples("instance-1", 1))
    assert len(examples[0].plan.steps) == 8          # optimal plan of instance-2 (manifest: 8)
    system, user = builder.first_prompt(bank.task("instance-1"), examples)
    assert system.role == "system" and user.role == "user"
    text = user.content
    assert text.count("[STATEMENT]") == 2 and text.count("\n[PLAN END]") == 1
    assert text.index("\n[PLAN END]") < text.rindex("[STATEMENT]")       # the example comes first
    assert text.rstrip().endswith("My plan is as follows:\n\n[PLAN]")
    assert "As initial conditions I have that, the red block is on top of the yellow block" in text
    assert "My goal is to have that the red block is on top of the blue block" in text
    assert "pick up the red block\nstack the red block on top of the orange block" in text
    assert bank.domain.describe("nl").strip()[:40] in text
    zero = builder.first_prompt(bank.task("instance-1"), [])[1].content
    assert zero.count("[STATEMENT]") == 1 and "solved correctly" not in zero


def test_pddl_prompt_and_constrained_format(bank: ExampleBank) -> None:
    builder = PromptBuilder(bank.domain, "pddl", constrained=True)
    examples = asyncio.run(bank.examples("instance-1", 2))
    text = builder.first_prompt(bank.task("instance-1"), examples)[1].content
    assert "(define (domain" in text and text.count("(define (problem") == 3
    assert "(pick-up a)\n(stack a c)" in text
    assert '{"plan": [{"action": NAME' in text
    assert text.rstrip().endswith("Plan:")


def test_context_policies(bank: ExampleBank) -> None:
    builder = PromptBuilder(bank.domain, "nl")
    task = bank.task("instance-1")
    attempts = [("reply one", "feedback one"), ("reply two", "feedback two")]
    last = builder.generator_messages(task, [], attempts, "last")
    chat = builder.generator_messages(task, [], attempts, "conversation")
    history = builder.generator_messages(task, [], attempts, "history")
    assert [m.role for m in last] == ["system", "user", "assistant", "user"]
    assert last[2].content == "reply two" and "feedback two" in last[3].content
    assert [m.content for m in chat if m.role == "assistant"] == ["reply one", "reply two"]
    assert "feedback one" in chat[3].content and "feedback two" in chat[5].content
    # history restates every attempt in one user prompt, before the query's statement
    assert [m.role for m in history] == ["system", "user"]
    text = history[1].content
    assert text.index("reply one") < text.index("feedback one") < text.index("reply two") < text.index("feedback two")
    assert text.index("feedback two") < text.rindex("[STATEMENT]") and text.rstrip().endswith("[PLAN]")
    for policy in ("last", "conversation", "history"):
        assert builder.generator_messages(task, [], [], policy) == builder.first_prompt(task, [])
    with pytest.raises(ConfigError):
        builder.generator_messages(task, [], attempts, "everything")


def test_no_plan_reply_form_is_offered_only_when_asked(bank: ExampleBank) -> None:
    task = bank.task("instance-1")
    plain = PromptBuilder(bank.domain, "nl").first_prompt(task, [])[1].content
    offered = PromptBuilder(bank.domain, "nl", allow_no_plan=True).first_prompt(task, [])[1].content
    assert "NO PLAN EXISTS" not in plain and "NO PLAN EXISTS" in offered
    assert offered.index("NO PLAN EXISTS") < offered.rindex("[STATEMENT]")


def test_domain_prompts_yaml_overrides_templates(tmp_path: Path) -> None:
    (tmp_path / "domain.pddl").write_text("(define (domain x))")
    (tmp_path / "prompts.yaml").write_text("generator:\n  nl:\n    system: Be brief.\n")
    templates = load_templates(tmp_path / "domain.pddl")
    assert templates["generator"]["nl"]["system"] == "Be brief."
    assert "[STATEMENT]" in templates["generator"]["nl"]["problem"]      # the rest is kept
    (tmp_path / "prompts.yaml").write_text("planner: {}\n")
    with pytest.raises(ConfigError):
        load_templates(tmp_path / "domain.pddl")


def test_unknown_encoding_is_a_config_error(bank: ExampleBank) -> None:
    with pytest.raises(ConfigError):
        PromptBuilder(bank.domain, "latex")
