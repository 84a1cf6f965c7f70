"""Experiment configs: validation, derived defaults, overrides, hashing, instance sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner_loop.errors import ConfigError
from planner_loop.experiment import (
    CriticCondition,
    ExperimentConfig,
    InstancesConfig,
    load_experiment,
    load_instances,
    parse_experiment,
    SoundCondition,
)

ROOT = Path(__file__).resolve().parents[1]
PLANBENCH = ROOT.parent / "shared" / "planbench" / "plan-bench" / "instances" / "blocksworld" / "generated_basic"


def base(**conditions: object) -> dict[str, object]:
    return {"name": "t", "instances": {"set": "blocksworld/3-5"},
            "conditions": [{"name": "c", "system": "llm+llm", **conditions}]}


def test_example_config_loads_and_round_trips() -> None:
    config = load_experiment(ROOT / "experiments" / "example.yaml")
    again = ExperimentConfig.model_validate(config.model_dump(mode="json"))
    assert again == config and again.hash() == config.hash()
    assert [c.system for c in config.conditions] == ["llm-only", "llm+llm", "llm+sound"]


def test_derived_defaults() -> None:
    config = parse_experiment({"name": "t", "instances": {"set": "x"}, "conditions": [
        {"name": "only", "system": "llm-only"},
        {"name": "llm", "system": "llm+llm"},
        {"name": "bin", "system": "llm+llm", "critic_mode": "binary"},
        {"name": "vote", "system": "llm+llm", "votes": 5},
        {"name": "sound", "system": "llm+sound"},
    ]})
    only, llm, binary, vote, sound = config.conditions
    assert (only.verifier, only.feedback, only.max_rounds) == ("none", "none", 1)
    assert (llm.verifier, llm.feedback, llm.critic_mode, llm.max_rounds, llm.critic_temperature) == (
        "llm", "first-error", "detailed", 15, 0.0)
    assert (binary.feedback, binary.critic_mode) == ("binary", "binary")
    assert vote.critic_temperature == 0.7
    assert (sound.verifier, sound.feedback) == ("symbolic", "first-error")
    assert isinstance(llm, CriticCondition) and isinstance(sound, SoundCondition)
    assert "votes" not in sound.model_dump() and "critic_mode" not in type(sound).model_fields
    assert config.generator.model == "local" and config.generator.constrained is True
    assert config.critic_model_of(llm) == "local"


@pytest.mark.parametrize(("condition", "message"), [
    ({"system": "llm-only", "feedback": "binary"}, "llm-only gets no feedback"),
    ({"system": "llm-only", "critic_model": "openai:x"}, "critic_model: only applies to the llm+llm system"),
    ({"system": "llm+sound", "vots": 3}, "vots: unknown key"),
    ({"system": "llm+llm", "vots": 3}, "vots: unknown key (did you mean 'votes'?)"),
    ({"system": "llm+sond"}, "system: unknown system 'llm+sond' (did you mean 'llm+sound'?)"),
    ({}, "system: required key is missing"),
    ({"system": "llm+llm", "critic_model": "opena:gpt-4o"}, "did you mean 'openai:gpt-4o'?"),
    ({"system": "llm-only", "max_rounds": 3}, "exactly one round"),
    ({"system": "llm+sound", "feedback": "none"}, "feedback 'none'"),
    ({"system": "llm+sound", "votes": 3}, "votes: only applies to the llm+llm system, not llm+sound"),
    ({"system": "llm+val", "feedback": "all-errors"}, "VAL reports only the first failure"),
    ({"system": "llm+llm", "critic_mode": "binary", "feedback": "all-errors"}, "binary feedback only"),
    ({"system": "llm+sound", "verifier": "llm"}, "uses verifier 'symbolic'"),
    ({"system": "llm+llm", "votes": 0}, "greater than or equal to 1"),
    ({"system": "llm+llm", "context": "everything"}, "'conversation' or 'history'"),
])
def test_bad_conditions_are_named(condition: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_experiment({"name": "t", "instances": {"set": "x"}, "conditions": [{"name": "c", **condition}]})
    assert message in error.value.describe() and "conditions[0:c]" in error.value.describe()


def test_errors_name_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("name: t\ninstances:\n  set: a\n  limt: 3\nconditions:\n  - name: c\n    system: llm-only\n")
    with pytest.raises(ConfigError) as error:
        load_experiment(path)
    assert error.value.describe() == f"{path}:4: instances.limt: unknown key (did you mean 'limit'?)"
    path.write_text("name: t\nconditions: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_experiment(path)
    path.write_text("name: t\ninstances: {set: a}\n")
    with pytest.raises(ConfigError, match="conditions: required key is missing"):
        load_experiment(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_experiment(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="duplicate condition names: c"):
        parse_experiment({"name": "t", "instances": {"set": "a"},
                          "conditions": [{"name": "c", "system": "llm-only"}] * 2})


def test_overrides_and_hash() -> None:
    config = parse_experiment(base(critic_model="openai:judge"))
    moved = config.with_overrides(model="openai:other", limit=3, concurrency=9)
    assert moved.generator.model == "openai:other" and moved.conditions[0].critic_model == "openai:other"
    assert moved.generator.constrained is False          # re-derived for a non-local model
    assert moved.instances.limit == 3
    assert config.with_overrides(concurrency=9).hash() == config.hash()   # concurrency is not part of it
    replay = parse_experiment({**base(critic_model="openai:judge"), "cache": {"mode": "replay", "path": "x"}})
    assert replay.hash() == config.hash()
    assert moved.hash() != config.hash()


def test_instances_in_id_order_with_limit_and_ids() -> None:
    first = load_instances(InstancesConfig(set="blocksworld/3-5", limit=3))
    assert [i.id for i in first] == ["instance-1", "instance-2", "instance-3"]
    assert first[0].optimal_length == 6 and first[0].blocks == 5
    chosen = load_instances(InstancesConfig(set="blocksworld/3-5", ids=("instance-10", "instance-2")))
    assert [i.id for i in chosen] == ["instance-2", "instance-10"]
    with pytest.raises(ConfigError, match="unknown instance ids"):
        load_instances(InstancesConfig(set="blocksworld/3-5", ids=("instance-999",)))
    with pytest.raises(ConfigError, match="no instance folder"):
        load_instances(InstancesConfig(set="blocksworld/none"))


@pytest.mark.skipif(not PLANBENCH.is_dir(), reason="PlanBench copy not present")
def test_planbench_folder_is_an_instance_set() -> None:
    instances = load_instances(InstancesConfig(set=str(PLANBENCH), limit=2))
    assert [i.id for i in instances] == ["instance-1", "instance-2"]
    assert instances[0].problem.is_file() and instances[0].optimal_length is None


def test_prices_key_and_shipped_configs(tmp_path: Path) -> None:
    (tmp_path / "prices.yaml").write_text("{}\n", encoding="utf-8")
    config = parse_experiment({**base(), "prices": "prices.yaml"})
    assert config.prices_path(tmp_path) == tmp_path / "prices.yaml"
    assert config.prices_path(None) == Path("prices.yaml")
    assert config.hash() == parse_experiment(base()).hash()       # prices do not decide the episodes
    for shipped in sorted((ROOT / "experiments").glob("*.yaml")):
        assert load_experiment(shipped).conditions


def test_duplicate_keys_name_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("name: t\ninstances: {set: a}\nconditions:\n  - {name: c, system: llm+sound}\nseeds: [0]\n"
                    "concurrency: 2\nseeds: [1]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_experiment(path)
    assert error.value.describe() == (f"{path}:7: duplicate key 'seeds' (first on line 5, again on line 7); "
                                      "remove one")
