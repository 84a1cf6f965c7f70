"""Prices and cached tokens, reasoning models' parameters and tokens, through the fake server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from planner_loop.errors import ConfigError
from planner_loop.llm import CallLog, ChatMessage, Completion, SamplingParams, load_price_table, open_model, read_calls
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.llm.pricing import cost_usd, load_prices

SYSTEM = "You plan in the blocks world. " * 20


def calls(spec: str, questions: list[str], params: SamplingParams, log: CallLog, **kwargs: object) -> list[Completion]:
    async def go() -> list[Completion]:
        model = open_model(spec, cache=None, call_log=log, concurrency=4, timeout_s=10, env={}, **kwargs)
        try:
            out = []
            for q in questions:  # one after another, so the prefix is "seen" before the second call
                out += await model.complete([ChatMessage("system", SYSTEM), ChatMessage("user", q)], params)
            return out
        finally:
            await model.aclose()

    return asyncio.run(go())


def test_shipped_prices_give_cost_with_cached_prompt_tokens(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.jsonl")
    with FakeOpenAIServer(lambda req: "stack a on b", prefix_cache=True) as server:
        first, second = calls(f"openai:gpt-4o@{server.base_url}", ["q one", "q two"], SamplingParams(), log)
    price = load_price_table()["gpt-4o"]
    assert first.cached_prompt_tokens == 0 and second.cached_prompt_tokens == len(SYSTEM.split())
    assert second.cost_usd == pytest.approx(price.cost(second.prompt_tokens, second.completion_tokens,
                                                       second.cached_prompt_tokens))
    assert second.cost_usd < first.cost_usd  # the cached prefix is billed at the cached rate
    records = read_calls(tmp_path / "calls.jsonl").records
    assert [r.cached_prompt_tokens for r in records] == [0, len(SYSTEM.split())]
    assert log.summary().cost_usd == pytest.approx(first.cost_usd + second.cost_usd)
    assert log.summary().unpriced_models == ()


def test_unknown_model_has_null_cost_and_is_listed(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.jsonl")
    with FakeOpenAIServer(lambda req: "x") as server:
        [reply] = calls(f"openai:mystery-model@{server.base_url}", ["q"], SamplingParams(), log)
    assert reply.cost_usd is None and log.summary().unpriced_models == (f"openai:mystery-model@{server.base_url}",)


def test_price_file_overrides_and_dated_names(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("models:\n  gpt-4o: {input: 1, output: 2}\n  my-model: {input: 0.5, cached_input: 0.1, output: 1}\n")
    table = load_price_table(path)
    assert table["gpt-4o"].input_per_mtok == 1 and "o3" in table and table["my-model"].cached_input_per_mtok == 0.1
    assert cost_usd(table, "gpt-4o-2024-08-06", 1_000_000, 0) == pytest.approx(1.0)
    assert cost_usd(table, "gpt-4o", 1_000_000, 1_000_000, batch=True) == pytest.approx(1.5)
    legacy = tmp_path / "legacy.yaml"
    legacy.write_text("gpt-4o: {input_per_mtok: 2.5, output_per_mtok: 10.0}\n")
    assert load_prices(legacy)["gpt-4o"].output_per_mtok == 10.0


@pytest.mark.parametrize(("text", "where", "words"), [
    ("models:\n  a: {input: 1, output: 2}\n  a: {input: 3, output: 4}\n", ":3", "given twice (lines 2 and 3)"),
    ("models:\n  a: {input: 1}\n", ":2", "needs output"),
    ("models:\n  a: {input: -1, output: 2}\n", ":2", "must be a number >= 0"),
    ("models:\n  a: {input: 1, output: 2, extra: 3}\n", ":2", "unknown field 'extra'"),
    ("models: [\n", ":2", "not valid YAML"),
    ("[" * 5000, "", "nested too deeply"),
    ("- 1\n", ":1", "must map model names"),
])
def test_bad_price_files_name_file_and_line(tmp_path: Path, text: str, where: str, words: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_price_table(path)
    assert f"{path}{where}:" in str(caught.value) and words in str(caught.value)


def test_binary_price_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_price_table(path)


def test_reasoning_model_gets_no_temperature_and_its_tokens_are_recorded(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.jsonl")
    reply = {"content": "(unstack a b)", "reasoning_content": "first I think", "reasoning_tokens": 40}
    with FakeOpenAIServer(lambda req: reply, refuse_params=("temperature", "max_tokens")) as server:
        [out] = calls(f"openai:o3-mini@{server.base_url}", ["q"], SamplingParams(reasoning_effort="low",
                                                                                max_tokens=99), log)
        sent = server.received[0]
    assert "temperature" not in sent and sent["max_completion_tokens"] == 99 and sent["reasoning_effort"] == "low"
    assert out.text == "(unstack a b)" and out.reasoning_content == "first I think"
    assert out.reasoning_tokens == 40 and out.completion_tokens >= 40
    [record] = read_calls(tmp_path / "calls.jsonl").records
    assert record.reasoning_tokens == 40 and record.reasoning_content == ["first I think"]
    assert record.replies == ["(unstack a b)"] and record.params["sent_temperature"] is None


def test_a_400_naming_temperature_is_retried_once_without_it(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.jsonl")
    with FakeOpenAIServer(lambda req: "ok", refuse_params=("temperature",)) as server:
        replies = calls(f"openai:some-new-reasoner@{server.base_url}", ["a", "b"], SamplingParams(), log)
        assert [("temperature" in r) for r in server.received] == [True, False, False]
    assert [r.text for r in replies] == ["ok", "ok"]


def test_reasoning_content_alone_is_never_the_answer(tmp_path: Path) -> None:
    log = CallLog(tmp_path / "calls.jsonl")
    with FakeOpenAIServer(lambda req: {"content": None, "reasoning_content": "(move a b)"}) as server:
        [out] = calls(f"openai:deepseek-r1@{server.base_url}", ["q"], SamplingParams(), log)
    assert out.text == "" and out.reasoning_content == "(move a b)"


def test_max_completion_tokens_and_effort_enter_the_cache_key_only_when_set() -> None:
    from planner_loop.llm import request_key

    plain = request_key("openai", None, "m", [ChatMessage("user", "q")], SamplingParams(), 0)
    assert "reasoning_effort" not in SamplingParams().to_json()
    assert plain != request_key("openai", None, "m", [ChatMessage("user", "q")],
                                SamplingParams(reasoning_effort="high"), 0)
    with pytest.raises(ValueError, match="reasoning_effort"):
        SamplingParams(reasoning_effort="extreme")
