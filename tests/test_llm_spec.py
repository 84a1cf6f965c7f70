"""Model spec strings and where keys come from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planner_loop.errors import ConfigError
from planner_loop.llm import open_model
from planner_loop.llm.spec import (
    LOOPBACK_DUMMY_KEY,
    OPENAI_DEFAULT_BASE_URL,
    VLLM_DEFAULT_BASE_URL,
    check_spec,
    parse_spec,
    resolve_api_key,
)


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


@pytest.mark.parametrize(("spec", "env", "expected"), [
    ("openai/gpt-4o", {}, ("openai/", "gpt-4o", OPENAI_DEFAULT_BASE_URL, "OPENAI_API_KEY")),
    ("openai/gpt-4o", {"OPENAI_BASE_URL": "http://10.0.0.2:9/v1/"}, ("openai/", "gpt-4o", "http://10.0.0.2:9/v1",
                                                                      "OPENAI_API_KEY")),
    ("vllm/meta-llama/Llama-3.1-8B", {}, ("vllm/", "meta-llama/Llama-3.1-8B", VLLM_DEFAULT_BASE_URL, "VLLM_API_KEY")),
    ("vllm/qwen", {"VLLM_BASE_URL": "http://gpu7:8000/v1"}, ("vllm/", "qwen", "http://gpu7:8000/v1", "VLLM_API_KEY")),
    ("ollama/llama3.1:8b", {}, ("ollama/", "llama3.1:8b", "http://127.0.0.1:11434/v1", "OLLAMA_API_KEY")),
    ("openai-api/together-ai/meta/llama-3", {"TOGETHER_AI_BASE_URL": "https://api.together.xyz/v1"},
     ("openai-api/", "meta/llama-3", "https://api.together.xyz/v1", "TOGETHER_AI_API_KEY")),
])
def test_familiar_name_forms(spec: str, env: dict[str, str], expected: tuple[str, str, str, str]) -> None:
    parsed = parse_spec(spec, env)
    assert (parsed.provider, parsed.model, parsed.base_url, parsed.key_env) == expected
    assert parsed.kind == "openai" and parsed.text == spec
    assert check_spec(spec).model == expected[1]   # syntax only: no variable needed


def test_keys_per_form() -> None:
    together = parse_spec("openai-api/together-ai/m", {"TOGETHER_AI_BASE_URL": "https://t.example/v1"})
    assert resolve_api_key(together, {"TOGETHER_AI_API_KEY": "tk-1234"}) == "tk-1234"
    with pytest.raises(ConfigError, match="TOGETHER_AI_API_KEY is not set"):
        resolve_api_key(together, {"OPENAI_API_KEY": "sk-other"})   # another provider's key is not used
    vllm = parse_spec("vllm/m", {"VLLM_BASE_URL": "http://gpu7:8000/v1"})
    assert resolve_api_key(vllm, {"VLLM_API_KEY": "v-key"}) == "v-key"
    assert resolve_api_key(vllm, {}) == LOOPBACK_DUMMY_KEY          # vLLM and Ollama servers may need no key
    assert resolve_api_key(parse_spec("ollama/m", {}), {}) == LOOPBACK_DUMMY_KEY
    with pytest.raises(ConfigError, match="OPENAI_API_KEY holds spaces") as error:
        resolve_api_key(parse_spec("openai/m", {}), {"OPENAI_API_KEY": "sk-secret value\n"})
    assert "secret" not in str(error.value)


def test_openai_api_needs_its_base_url_variable() -> None:
    with pytest.raises(ConfigError, match="MY_LAB_BASE_URL is not set"):
        parse_spec("openai-api/my-lab/m", {})
    with pytest.raises(ConfigError, match="MY_LAB_BASE_URL: base URL 'nope' must look like"):
        parse_spec("openai-api/my-lab/m", {"MY_LAB_BASE_URL": "nope"})
    with pytest.raises(ConfigError, match="PROVIDER"):
        parse_spec("openai-api/bad name/m", {})


@pytest.mark.parametrize(("typo", "suggestion"), [
    ("opena:gpt-4o", "openai:gpt-4o"), ("vlm/qwen", "vllm/qwen"), ("olama/llama3", "ollama/llama3"),
    ("vllm:qwen", "vllm/qwen"), ("openai-ap/p/m", "openai-api/p/m"), ("gpt-4o", "openai/gpt-4o"), ("locl", "local"),
])
def test_near_misses_say_did_you_mean(typo: str, suggestion: str) -> None:
    with pytest.raises(ConfigError, match=f"did you mean '{re.escape(suggestion)}'"):
        parse_spec(typo, {})


@pytest.mark.parametrize("spec", [
    "openai:m@http://user:SECRETKEY@host/v1", "openai:m@ftp://user:SECRETKEY@host", "opena:m@http://u:SECRETKEY@h",
    "openai:m@http://u:SECRETKEY@[::1", "openai:m@http://[::1", "openai:m@http://host:99999/v1",
    "openai:m@http://host:port/v1", "openai:m@http://ho st/v1", "openai:m\x00", "x" * 5000,
])
def test_bad_urls_refused_without_echoing_credentials(spec: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_spec(spec, {})
    message = error.value.describe()
    assert "SECRETKEY" not in message and len(message) < 600 and "\n" not in message


def test_environment_base_urls_are_validated_by_name() -> None:
    for variable, spec in (("OPENAI_BASE_URL", "openai:m"), ("VLLM_BASE_URL", "vllm/m"),
                           ("OLLAMA_BASE_URL", "ollama/m")):
        with pytest.raises(ConfigError, match=f"^{variable}: ") as error:
            parse_spec(spec, {variable: "http://user:SECRETKEY@[::1"})
        assert "SECRETKEY" not in str(error.value)
