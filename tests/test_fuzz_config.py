"""Property tests over config text and model specs: every input either loads or is a ConfigError
(never another exception), within a time limit per input, and no refusal echoes a credential."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner_loop.config.yaml_source import parse_yaml
from planner_loop.errors import ConfigError
from planner_loop.experiment import ExperimentConfig, load_experiment, parse_experiment
from planner_loop.llm.spec import BUILTIN_PROVIDERS, parse_spec, resolve_api_key

FAST = settings(max_examples=150, deadline=timedelta(seconds=1), suppress_health_check=[HealthCheck.too_slow])
SECRET = "SECRETKEY123"
# a secret in URL userinfo position; hypothesis also feeds this module's constants as plain text,
# which a message may echo: only the userinfo position is a credential
SHOWN_CREDENTIAL = re.compile(r"://[^/\s@]*" + SECRET + r"[^/\s]*@")

KEYS = ["name", "description", "domain", "instances", "set", "limit", "ids", "prompt", "encoding", "shots",
        "generator", "model", "temperature", "max_tokens", "constrained", "conditions", "system", "feedback",
        "max_rounds", "context", "critic_mode", "votes", "stepwise", "critic_model", "seeds", "concurrency",
        "cache", "mode", "path", "prices", "verifier", "<<"]
SYSTEMS = ["llm-only", "llm+llm", "llm+sound", "llm+val", "llm+sond", ""]
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                    st.sampled_from(SYSTEMS + ["binary", "first-error", "all-errors", "none", "local",
                                               f"openai:m@http://u:{SECRET}@[::1", "openai:m@http://h:0/v1"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5)),
    max_leaves=25)


def loads_or_refuses(run: Any) -> ExperimentConfig | None:
    try:
        return run()
    except ConfigError as error:
        message = error.describe()
        assert not SHOWN_CREDENTIAL.search(message) and "\n" not in message.strip()
        return None


@FAST
@given(st.binary(max_size=400))
def test_any_bytes_load_or_refuse(tmp_path_factory: Any, data: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("fuzz")) / "config.yaml"
    path.write_bytes(data)
    loads_or_refuses(lambda: load_experiment(path))


@FAST
@given(st.text(alphabet=st.sampled_from(list("[]{}:,-&*!|>'\"#?\n\t abc01\u00e9\ud7ff")), max_size=300))
def test_yaml_punctuation_soup(text: str) -> None:
    document = None
    try:
        document = parse_yaml(text, "soup.yaml")
    except ConfigError:
        return
    if isinstance(document.data, dict):
        loads_or_refuses(lambda: parse_experiment(document.data, source="soup.yaml", node=document.node))


@FAST
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=8),
       st.lists(st.dictionaries(st.sampled_from(KEYS), values, max_size=6), max_size=3))
def test_structured_configs_load_or_refuse(top: dict[str, Any], conditions: list[dict[str, Any]]) -> None:
    data: dict[str, Any] = {"name": "t", "instances": {"set": "x"}, **top}
    if conditions:
        data["conditions"] = conditions
    text = yaml.safe_dump(data, allow_unicode=True)
    document = parse_yaml(text, "fuzz.yaml")
    config = loads_or_refuses(lambda: parse_experiment(document.data, source="fuzz.yaml", node=document.node))
    if config is not None:   # what loads round-trips and hashes the same
        again = ExperimentConfig.model_validate(config.model_dump(mode="json"))
        assert again == config and again.hash() == config.hash()


condition_fields = st.fixed_dictionaries({"name": st.sampled_from(["a", "b"]), "system": st.sampled_from(SYSTEMS[:4])},
                                         optional={"feedback": st.sampled_from(["none", "binary", "first-error",
                                                                                "all-errors"]),
                                                   "critic_mode": st.sampled_from(["binary", "detailed"]),
                                                   "votes": st.integers(0, 5), "max_rounds": st.integers(0, 3),
                                                   "context": st.sampled_from(["last", "conversation", "history"])})


@FAST
@given(st.lists(condition_fields, min_size=1, max_size=3))
def test_valid_condition_combinations_resolve_consistently(conditions: list[dict[str, Any]]) -> None:
    config = loads_or_refuses(lambda: parse_experiment({"name": "t", "instances": {"set": "x"},
                                                        "conditions": conditions}))
    if config is None:
        return
    for condition in config.conditions:
        assert condition.feedback is not None and condition.max_rounds is not None
        assert (condition.feedback == "none") == (condition.system == "llm-only")
        assert "votes" in type(condition).model_fields or condition.system != "llm+llm"


url_parts = st.builds(
    lambda scheme, user, host, port, path: f"{scheme}{user}{host}{port}{path}",
    st.sampled_from(["http://", "https://", "ftp://", "", "http:/", "//"]),
    st.sampled_from(["", f"u:{SECRET}@", f"{SECRET}@", "@"]),
    st.sampled_from(["h", "127.0.0.1", "[::1]", "[::1", "::1", "", "h h", "[v1.x]"]),
    st.sampled_from(["", ":8000", ":0", ":99999", ":x", ":"]),
    st.sampled_from(["", "/v1", "/v1/", "?q", "#f"]))
specs = st.one_of(
    st.text(max_size=60),
    st.builds(lambda prefix, rest: prefix + rest, st.sampled_from([*BUILTIN_PROVIDERS, "opena:", "vlm/", "x/"]),
              st.text(max_size=30)),
    st.builds(lambda model, url: f"openai:{model}@{url}", st.sampled_from(["m", "", "a b"]), url_parts))
envs = st.dictionaries(st.sampled_from(["OPENAI_BASE_URL", "VLLM_BASE_URL", "OLLAMA_BASE_URL", "LAB_BASE_URL",
                                        "OPENAI_API_KEY", "VLLM_API_KEY", "LAB_API_KEY"]),
                       url_parts | st.text(max_size=20), max_size=3)


@FAST
@given(specs, envs)
def test_model_specs_parse_or_refuse_without_echoing_secrets(spec: str, env: dict[str, str]) -> None:
    try:
        parsed = parse_spec(spec, env)
        key = resolve_api_key(parsed, env) if parsed.kind == "openai" else None
    except ConfigError as error:
        message = error.describe()
        assert not SHOWN_CREDENTIAL.search(message) and "\n" not in message
        if SHOWN_CREDENTIAL.search(spec):
            assert SECRET not in message
        return
    if parsed.base_url is not None:
        assert SECRET not in parsed.base_url and "@" not in parsed.base_url.split("//", 1)[-1].split("/", 1)[0]
    assert key is None or key.isprintable()


def test_a_number_too_long_for_python_is_refused_with_its_line() -> None:
    # found by benchmarks/fuzz.py (config kind, seed 11): int() refuses over 4,300 digits
    from planner_loop.config.yaml_source import parse_yaml
    from planner_loop.errors import ConfigError

    try:
        parse_yaml("name: x\nseeds: [" + "7" * 5000 + "]\n", "big.yaml")
    except ConfigError as error:
        assert error.describe() == "big.yaml:2: a number of more than 100 digits"
    else:
        raise AssertionError("a 5,000-digit number was accepted")
