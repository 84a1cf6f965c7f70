"""Prompts put the unchanging text first so provider prefix caches hit; cached prompt tokens are recorded."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from helpers.loop_scripting import ScriptedReplies
from helpers.run_cli import CRITIC, GENERATOR, write_config

from planner_loop.domains import get_domain
from planner_loop.experiment import InstancesConfig, load_experiment, load_instance_pool
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.orchestration import run_experiment
from planner_loop.prompts import ExampleBank, PromptBuilder


@pytest.fixture(scope="module")
def bank() -> ExampleBank:
    return ExampleBank(get_domain("blocksworld"), load_instance_pool(InstancesConfig(set="blocksworld/3-5")))


def shared_prefix(a: str, b: str) -> str:
    return a[: len(os.path.commonprefix([a, b]))]


@pytest.mark.parametrize("encoding", ["nl", "pddl"])
def test_prompts_of_two_instances_differ_only_from_the_instance_statement(bank: ExampleBank, encoding: str) -> None:
    builder = PromptBuilder(bank.domain, encoding, allow_no_plan=True)
    one, two = bank.task("instance-1"), bank.task("instance-2")
    first, second = builder.first_prompt(one, []), builder.first_prompt(two, [])
    assert first[0] == second[0]                                        # the system message
    common = shared_prefix(first[1].content, second[1].content)
    statement = builder.statement(one)
    # everything before the statement is shared: rules, domain text, instructions, reply options
    assert first[1].content == first[1].content[: len(first[1].content) - len(statement)] + statement
    assert len(common) >= len(first[1].content) - len(statement)
    assert bank.domain.describe(encoding).strip() in common
    assert builder.templates["generator"][encoding]["no_plan_option"].strip() in common
    differing = first[1].content[len(common):]
    assert differing and differing in statement                         # only the statement differs


def test_with_examples_the_shared_prefix_still_holds_the_domain_text(bank: ExampleBank) -> None:
    builder = PromptBuilder(bank.domain, "nl")
    examples = {i: asyncio.run(bank.examples(i, 1)) for i in ("instance-1", "instance-3")}
    texts = [builder.first_prompt(bank.task(i), examples[i])[1].content for i in examples]
    common = shared_prefix(*texts)
    # next-by-id examples depend on the query, so they come after the unchanging domain text
    assert bank.domain.describe("nl").strip() in common
    example_state = builder.problem_text(examples["instance-1"][0].task).init
    assert example_state not in common and example_state in texts[0]


@pytest.mark.parametrize("context", ["conversation", "last"])
def test_a_later_round_begins_with_the_first_rounds_messages(bank: ExampleBank, context: str) -> None:
    builder = PromptBuilder(bank.domain, "nl")
    task = bank.task("instance-4")
    first = builder.generator_messages(task, [], [], context)
    later = builder.generator_messages(task, [], [("pick up the red block", "The plan fails at step 1.")], context)
    assert later[: len(first)] == first and len(later) > len(first)


def test_cached_prompt_tokens_reach_the_episode_records(tmp_path: Path) -> None:
    with FakeOpenAIServer(ScriptedReplies(GENERATOR, CRITIC), prefix_cache=True) as server:
        config = write_config(tmp_path, server.base_url, critic=False, concurrency=1)
        asyncio.run(run_experiment(load_experiment(config), tmp_path / "run", config_file=config, prices={}))
    records = [json.loads(line) for line in (tmp_path / "run" / "episodes.jsonl").read_text().splitlines()]
    cached = [r["usage"]["cached_prompt_tokens"] for record in records for r in record["rounds"]]
    # the first call found nothing cached; every later one (other instances too) hit the shared system text
    assert cached.count(0) == 1 and len(set(cached) - {0}) == 1 and max(cached) > 0
    assert sum(record["usage"]["cached_prompt_tokens"] for record in records) == sum(cached)
