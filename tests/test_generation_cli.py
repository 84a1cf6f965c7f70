"""``planner-loop problems generate`` through the real console entry point: files, determinism, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ENTRY = "from planner_loop.cli.main import run; run()"


def cli(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, "problems", "generate", *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def manifest(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def test_plain_sampler_is_deterministic_and_skips_solving(tmp_path: Path) -> None:
    def args(seed: int) -> list[str]:
        return ["--domain", "blocksworld", "--blocks", "3-5", "--count", "300", "--seed", str(seed),
                "--allow-duplicates", "--keep-trivial"]

    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert cli(*args(9), "--out", first).returncode == 0
    assert cli(*args(9), "--out", second).returncode == 0
    assert cli(*args(10), "--out", other).returncode == 0
    assert files(first) == files(second)
    assert files(first) != files(other)
    records = manifest(first)
    assert len(records) == 300 and len(list(first.glob("*.pddl"))) == 300
    assert all(r["optimal_length"] is None and r["seed"] == 9 for r in records)
    assert {r["blocks"] for r in records} == {3, 4, 5}


def test_solving_records_optimal_lengths(tmp_path: Path) -> None:
    result = cli("--blocks", "4", "--count", "3", "--seed", "1", "--goal", "full", "--out", tmp_path / "s")
    assert result.returncode == 0, result.stderr
    records = manifest(tmp_path / "s")
    assert [r["goal"] for r in records] == ["full"] * 3
    assert all(isinstance(r["optimal_length"], int) and r["optimal_length"] > 0 for r in records)
    # --optimal overrides the plain-sampler default
    forced = cli("--blocks", "3", "--count", "2", "--seed", "1", "--allow-duplicates", "--keep-trivial",
                 "--optimal", "--out", tmp_path / "f")
    assert forced.returncode == 0, forced.stderr
    assert all(isinstance(r["optimal_length"], int) for r in manifest(tmp_path / "f"))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--blocks", "0"], "--blocks must be at least 1"),
        (["--blocks", "5-3"], "is empty"),
        (["--blocks", "three"], "must be a number or a range"),
        (["--blocks", "3", "--goal", "partial"], "unknown goal style"),
        (["--domain", "blockworld", "--blocks", "3"], "did you mean 'blocksworld'"),
        (["--blocks", "3", "--count", "0"], "--count must be at least 1"),
        (["--blocks", "1"], "found only 0 distinct"),
        (["--blocks", "3", "--size", "trucks=2"], "no size parameter 'trucks'"),
        (["--blocks", "3", "--size", "oops"], "NAME=RANGE"),
        ([], "needs --blocks"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(arguments: list[str], message: str, tmp_path: Path) -> None:
    defaults = {"--count": "3", "--seed": "1"}
    for flag, value in defaults.items():
        if flag not in arguments:
            arguments = [*arguments, flag, value]
    result = cli(*arguments, "--no-optimal", "--out", tmp_path / "out")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("planner-loop: error:") and message in lines[0]
    assert not (tmp_path / "out" / "manifest.jsonl").exists()


def test_missing_or_malformed_options_exit_2(tmp_path: Path) -> None:
    assert cli("--blocks", "3", "--seed", "1", "--out", tmp_path).returncode == 2  # no --count
    assert cli("--blocks", "3", "--count", "x", "--seed", "1", "--out", tmp_path).returncode == 2


def test_existing_set_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "set"
    assert cli("--blocks", "3-4", "--count", "5", "--seed", "2", "--no-optimal", "--out", out).returncode == 0
    (out / "notes.txt").write_text("mine")
    refused = cli("--blocks", "3-4", "--count", "3", "--seed", "2", "--no-optimal", "--out", out)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert len(list(out.glob("*.pddl"))) == 5
    replaced = cli("--blocks", "3-4", "--count", "3", "--seed", "2", "--no-optimal", "--force", "--out", out)
    assert replaced.returncode == 0
    assert sorted(files(out)) == ["instance-1.pddl", "instance-2.pddl", "instance-3.pddl", "manifest.jsonl", "notes.txt"]
    # out pointing at a file
    assert cli("--blocks", "3", "--count", "1", "--seed", "2", "--no-optimal", "--out", out / "notes.txt").returncode == 2
