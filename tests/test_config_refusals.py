"""Every bad config, model spec and endpoint variable is refused through the CLI with one line naming
the file/line/setting and exit code 2: no traceback, no secret echoed, no run directory left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers.cli_refusals import call_cli
from planner_loop.config.yaml_source import MAX_CONFIG_BYTES

GOOD = "name: t\ninstances: {set: blocksworld/3-5}\nconditions:\n  - name: c\n    system: llm+sound\n"
DEEP_BLOCK = "name: t\nx:\n" + "".join("  " * depth + "- \n" for depth in range(1, 60))
BOMB = "name: t\na: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6))

# (case, file content, line the message must name, words it must contain)
CONFIG_CASES: list[tuple[str, bytes, int | None, str]] = [
    ("deep-flow", ("name: t\nx: " + "[" * 5000 + "]" * 5000 + "\n").encode(), 2, "nested more than"),
    ("deep-block", DEEP_BLOCK.encode(), None, "nested more than"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", 1, "not UTF-8"),
    ("latin-1", "name: t\ndescription: café\n".encode("latin-1"), 2, "not UTF-8"),
    ("nul", b"name: t\n\x00\n", 2, "NUL"),
    ("duplicate", (GOOD + "    max_rounds: 3\n    max_rounds: 30\n").encode(), 7, "first on line 6, again on line 7"),
    ("empty-ids", GOOD.replace("{set: blocksworld/3-5}", "{set: blocksworld/3-5, ids: []}").encode(), 2,
     "instances.ids"),
    ("ipv6-url", (GOOD + "generator: {model: 'openai:m@http://[::1'}\n").encode(), 6, "generator.model"),
    ("secret-url", (GOOD + "generator:\n  model: openai:m@http://user:SECRETKEY@host/v1\n").encode(), 7,
     "credentials"),
    ("bad-port", (GOOD + "generator: {model: 'openai:m@http://h:99999/v1'}\n").encode(), 6, "not a valid URL"),
    ("spec-typo", (GOOD + "generator: {model: 'opena:gpt-4o'}\n").encode(), 6, "did you mean 'openai:gpt-4o'"),
    ("too-big", ("name: t\n" + "#" * (MAX_CONFIG_BYTES + 10) + "\n").encode(), None, "larger than"),
    ("alias-bomb", BOMB.encode(), None, "expands to more than"),
    ("not-mapping", b"- a\n- b\n", 1, "must be a YAML mapping"),
    ("empty", b"", 1, "must be a YAML mapping"),
    ("unknown-key", (GOOD + "concurency: 3\n").encode(), 6, "concurency: unknown key (did you mean 'concurrency'?)"),
    ("unknown-nested", (GOOD + "generator: {modle: local}\n").encode(), 6, "generator.modle: unknown key (did you mean 'model'?)"),
    ("unknown-condition-key", (GOOD + "    max_round: 3\n").encode(), 6, "did you mean 'max_rounds'"),
    ("critic-key", (GOOD + "    votes: 3\n").encode(), 6, "only applies to the llm+llm system"),
    ("system-typo", GOOD.replace("llm+sound", "llm+sond").encode(), 5, "did you mean 'llm+sound'"),
    ("feedback-misfit", GOOD.replace("llm+sound", "llm+val\n    feedback: all-errors").encode(), 6,
     "VAL reports only the first failure"),
    ("bad-yaml", b"name: t\nconditions: [\n", 3, "not valid YAML"),
    ("tab", b"name: t\n\tinstances: 1\n", 2, "not valid YAML"),
    ("python-tag", b"name: !!python/object/apply:os.system ['echo hi']\n", 1, "not valid YAML"),
    ("unhashable-key", b"? [a, b]\n: 1\n", 1, "not valid YAML"),
    ("huge-int", (GOOD + "    max_rounds: 100000000000000000000000000000\n").encode(), 6, "max_rounds"),
    ("same-seeds", (GOOD + "seeds: [1, 1]\n").encode(), 1, "seeds must be distinct"),
    ("empty-prices", (GOOD + "prices: ''\n").encode(), 6, "prices"),
    ("control-char", (GOOD + "generator: {model: \"openai:m\\x07\"}\n").encode(), 6, "control character"),
]



def assert_one_line_refusal(output: str, *fragments: str) -> None:
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("planner-loop: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "SECRETKEY" not in output


@pytest.mark.parametrize(("case", "content", "line", "words"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_configs_are_refused_in_one_line(case: str, content: bytes, line: int | None, words: str,
                                             tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / f"{case}.yaml"
    config.write_bytes(content)
    out = tmp_path / "run"
    code, output = call_cli(["run", str(config), "--out", str(out)], capsys, monkeypatch)
    where = f"{config}:{line}: " if line is not None else f"{config}"
    assert code == 2
    assert_one_line_refusal(output, where, words)
    assert not out.exists()


def test_unreadable_config_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for path, words in ((tmp_path, "cannot read"), (tmp_path / "missing.yaml", "cannot read")):
        code, output = call_cli(["run", str(path), "--out", str(tmp_path / "run")], capsys, monkeypatch)
        assert code == 2
        assert_one_line_refusal(output, str(path), words)


SPEC_CASES: list[tuple[str, dict[str, str], str]] = [
    ("gpt-4o", {}, "did you mean 'openai/gpt-4o'"),
    ("olama/llama3", {}, "did you mean 'ollama/llama3'"),
    ("openai:m@http://[::1", {}, "Invalid IPv6 URL"),
    ("openai:m@http://user:SECRETKEY@host/v1", {}, "do not put credentials"),
    ("openai:m@ftp://user:SECRETKEY@host/v1", {}, "credentials"),
    ("openai-api/lab/m", {}, "LAB_BASE_URL is not set"),
    ("openai:gpt-4o", {"OPENAI_BASE_URL": "http://user:SECRETKEY@[::1"}, "OPENAI_BASE_URL: "),
    ("vllm/m", {"VLLM_BASE_URL": "not a url"}, "VLLM_BASE_URL: "),
    ("openai-api/lab/m", {"LAB_BASE_URL": "https://lab.example/v1"}, "LAB_API_KEY is not set"),
    ("openai:gpt-4o", {"OPENAI_API_KEY": "SECRETKEY with space"}, "OPENAI_API_KEY holds spaces"),
    ("local:/nonexistent/model.gguf", {}, "no GGUF file"),
]


@pytest.mark.parametrize(("spec", "env", "words"), SPEC_CASES, ids=[c[0] + str(sorted(c[1])) for c in SPEC_CASES])
def test_bad_model_specs_are_refused_in_one_line(spec: str, env: dict[str, str], words: str,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VLLM_BASE_URL", "LAB_BASE_URL", "LAB_API_KEY"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    code, output = call_cli(["models", "check", spec], capsys, monkeypatch)
    assert code == 2
    assert_one_line_refusal(output, words)


def test_the_console_script_refuses_without_traceback(tmp_path: Path) -> None:
    """The same through a fresh process (no test harness catching anything)."""
    config = tmp_path / "dup.yaml"
    config.write_text(GOOD + "seeds: [0]\nseeds: [1]\n", encoding="utf-8")
    entry = "from planner_loop.cli.main import run; run()"
    for args, words in ((["run", str(config), "--out", str(tmp_path / "r")], f"{config}:7: "),
                        (["models", "check", "openai:m@http://u:SECRETKEY@[::1"], "Invalid IPv6 URL")):
        done = subprocess.run([sys.executable, "-c", entry, *args], capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 2
        assert_one_line_refusal(done.stderr + done.stdout, words)
