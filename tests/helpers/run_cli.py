"""Small experiments for run-directory tests: a config against the fake server and the CLI in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

CLI = str(Path(sys.executable).parent / "planner-loop")
GENERATOR = ["pick up the blue block\npick up the red block\n[PLAN END]",
             "I would rather not.",
             "put down the red block\n[PLAN END]"]
CRITIC = {"put down the red block": "Verdict: valid"}


def write_config(folder: Path, base_url: str, *, name: str = "durable", limit: int = 2, seeds: tuple[int, ...] = (0, 1),
                 critic: bool = True, concurrency: int = 2, extra: str = "") -> Path:
    """Two conditions (sound, and a critic when asked) × ``limit`` instances × seeds; no few-shot examples."""
    conditions = "  - {name: sound, system: llm+sound, feedback: all-errors, max_rounds: 3, context: history}\n"
    if critic:
        conditions += "  - {name: critic, system: llm+llm, max_rounds: 3}\n"
    text = (f"name: {name}\ninstances: {{set: blocksworld/3-5, limit: {limit}}}\nprompt: {{encoding: nl, shots: 0}}\n"
            f'generator: {{model: "openai:fake@{base_url}", max_tokens: 64, timeout_s: 20}}\n'
            f"conditions:\n{conditions}seeds: {list(seeds)}\nconcurrency: {concurrency}\n{extra}")
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, check=False,
                          env=env)


def call_records(run_dir: Path) -> list[dict[str, Any]]:
    """Every complete record of ``calls.jsonl``."""
    path = run_dir / "calls.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
            if line.endswith("\n")]


def paid_calls(run_dir: Path) -> int:
    """Calls that reached the endpoint (written to the cache)."""
    return sum(record["cache"] == "write" and record.get("error") is None for record in call_records(run_dir))
