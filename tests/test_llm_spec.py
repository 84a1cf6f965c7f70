"""Model spec strings and where keys come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner_loop.errors import ConfigError
from planner_loop.llm import open_model
from planner_loop.llm.spec import LOOPBACK_DUMMY_KEY, OPENAI_DEFAULT_BASE_URL, parse_spec, resolve_api_key


def test_forms() -> None:
    local = parse_spec("local", {})
    assert (local.kind, local.path) == ("local", None)
    gguf = parse_spec("local:~/models/x.gguf", {})
    assert gguf.kind == "local" and gguf.path == Path.home() / "models" / "x.gguf"
    remote = parse_spec("openai:gpt-4o", {})
    assert (remote.kind, remote.model, remote.base_url) == ("openai", "gpt-4o", OPENAI_DEFAULT_BASE_URL)
    via_env = parse_spec("openai:my-model", {"OPENAI_BASE_URL": "http://127.0.0.1:8000/v1/"})
    assert via_env.base_url == "http://127.0.0.1:8000/v1"
    explicit = parse_spec("openai:qwen@http://10.0.0.5:8000/v1", {"OPENAI_BASE_URL": "http://ignored/v1"})
    assert (explicit.model, explicit.base_url) == ("qwen", "http://10.0.0.5:8000/v1")


@pytest.mark.parametrize("bad", ["", "gpt-4o", "openai:", "local:", "openai:m@ftp://x", "openai:m@nohost",
                                 "openai:m@http://user:pw@host/v1"])
def test_bad_specs_are_config_errors(bad: str) -> None:
    with pytest.raises(ConfigError):
        parse_spec(bad, {})


def test_keys_come_from_the_environment_with_a_dummy_for_loopback() -> None:
    remote = parse_spec("openai:gpt-4o", {})
    assert resolve_api_key(remote, {"OPENAI_API_KEY": "sk-abc"}) == "sk-abc"
    with pytest.raises(ConfigError, match="OPENAI_API_KEY is not set"):
        resolve_api_key(remote, {})
    for url in ("http://127.0.0.1:8000/v1", "http://localhost:1/v1", "http://[::1]:8/v1"):
        assert resolve_api_key(parse_spec(f"openai:m@{url}", {}), {}) == LOOPBACK_DUMMY_KEY
    with pytest.raises(ConfigError):
        resolve_api_key(parse_spec("openai:m@http://10.1.1.1:8000/v1", {}), {})


def test_open_model_rejects_missing_gguf(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no GGUF file"):
        open_model(f"local:{tmp_path / 'none.gguf'}", cache=None, call_log=None, concurrency=1, timeout_s=1)
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="not a GGUF file"):
        open_model(f"local:{fake}", cache=None, call_log=None, concurrency=1, timeout_s=1)
