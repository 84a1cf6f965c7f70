"""The one Registry[T] behind verifiers, generators and model providers: declared support, lazy
entries, near-name hints, plugins through entry points."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner_loop.domains import get_domain
from planner_loop.errors import ConfigError
from planner_loop.experiment import parse_experiment
from planner_loop.generation.registry import available_generators, default_generators, get_generator
from planner_loop.llm.spec import ModelProvider, ModelSpec, default_providers, parse_spec
from planner_loop.registry import Registry
from planner_loop.verifiers.protocol import NoVerifier
from planner_loop.verifiers.registry import (
    BUILTIN_VERIFIERS,
    VerifierEntry,
    VerifierRequest,
    VerifierSupport,
    build_verifier,
    default_verifiers,
)
from planner_loop.verifiers.symbolic import SymbolicVerifier
from planner_loop.verifiers.val import VAL_FEEDBACK


def test_declared_support_is_what_the_config_accepts() -> None:
    assert BUILTIN_VERIFIERS["val"].support.feedback == VAL_FEEDBACK   # VAL's own guard agrees
    for kind, entry in BUILTIN_VERIFIERS.items():
        for level in ("none", "binary", "first-error", "all-errors"):
            condition = {"name": "c", "system": entry.system, "feedback": level}
            if level in entry.support.feedback:
                parsed = parse_experiment({"name": "t", "instances": {"set": "x"}, "conditions": [condition]})
                assert parsed.conditions[0].verifier == kind and parsed.conditions[0].feedback == level
            else:
                with pytest.raises(ConfigError, match="does not fit"):
                    parse_experiment({"name": "t", "instances": {"set": "x"}, "conditions": [condition]})


def test_build_verifier_from_a_condition() -> None:
    config = parse_experiment({"name": "t", "instances": {"set": "x"}, "conditions": [
        {"name": "s", "system": "llm+sound", "feedback": "all-errors"}, {"name": "o", "system": "llm-only"},
        {"name": "l", "system": "llm+llm"}]})
    domain = get_domain("blocksworld")
    sound = build_verifier(config, config.conditions[0], domain, {})
    assert isinstance(sound, SymbolicVerifier) and sound.feedback == "all-errors"
    assert isinstance(build_verifier(config, config.conditions[1], domain, {}), NoVerifier)
    with pytest.raises(KeyError, match="critic:local"):      # a critic needs its model opened
        build_verifier(config, config.conditions[2], domain, {})
    options = config.conditions[2].verifier_options(generator_constrained=True)
    assert options["constrained"] is True and options["votes"] == 1


def test_a_plugged_in_verifier_kind_is_built_through_the_registry() -> None:
    seen: list[VerifierRequest] = []

    def factory(request: VerifierRequest) -> NoVerifier:
        seen.append(request)
        return NoVerifier()

    registry = default_verifiers(plugins=False)
    registry.register("oracle", VerifierEntry("oracle", "llm+oracle", "test", VerifierSupport(("binary",), "binary"),
                                              factory))
    entry = registry.get("oracle")
    entry.build(VerifierRequest(get_domain("blocksworld"), "binary", "nl"))
    assert seen and seen[0].feedback == "binary"
    with pytest.raises(ConfigError, match="cannot give feedback"):
        entry.build(VerifierRequest(get_domain("blocksworld"), "all-errors", "nl"))
    with pytest.raises(ConfigError, match="did you mean 'symbolic'"):
        registry.get("symbolc")


def test_generators_are_lazy_registry_entries() -> None:
    assert available_generators() == ["blocksworld", "logistics"]
    assert get_generator("blocksworld").name == "blocksworld"
    with pytest.raises(ConfigError, match="did you mean 'logistics'"):
        get_generator("logistic")
    registry = default_generators(plugins=False)
    registry.register("broken", "planner_loop.generation.nowhere:Gen")
    with pytest.raises(ConfigError, match="cannot be loaded"):
        get_generator("broken", registry)
    assert "broken" not in default_generators()          # the default registry is untouched


def test_a_model_provider_can_be_added() -> None:
    def parse(rest: str, text: str, env: object) -> ModelSpec:
        return ModelSpec(text=text, kind="openai", model=rest, base_url="http://127.0.0.1:1/v1", provider="lab/")

    providers: Registry[ModelProvider] = default_providers()
    providers.register("lab/", ModelProvider("lab/", "lab/MODEL", "a lab server", parse))
    assert parse_spec("lab/m1", {}, providers=providers).model == "m1"
    with pytest.raises(ConfigError, match="unknown model spec"):
        parse_spec("lab/m1", {})


def test_old_run_config_hash_is_unchanged() -> None:
    import json

    from planner_loop.experiment import ExperimentConfig, upgrade_config_data

    manifest = Path(__file__).parent / "fixtures" / "runs" / "v1" / "run" / "manifest.json"
    if not manifest.is_file():
        pytest.skip("no v1 fixture run")
    stored = json.loads(manifest.read_text(encoding="utf-8"))
    config = ExperimentConfig.model_validate(upgrade_config_data(stored["config"]))
    assert config.hash() == stored["config_hash"]
    with pytest.raises(ValueError):
        ExperimentConfig.model_validate(stored["config"])   # critic fields on a sound condition are refused
