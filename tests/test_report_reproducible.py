"""Byte-for-byte reproducibility: the same run gives the same report files, and replaying a run from its
recorded cache (no server) gives the same episodes and the same tables and plots."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from helpers.study_script import StudyScript, study_scripts
from test_analysis_fake_loop import IDS, PATTERNS, experiment
from typer.testing import CliRunner

from planner_loop.cli.main import app
from planner_loop.errors import ReplayMissError
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.runs import run_experiment


def digests(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def episode_lines(run_dir: Path) -> list[str]:
    """Episode lines as written (call ids included: they derive from the request), sorted because
    concurrent episodes finish in any order."""
    return sorted((run_dir / "episodes.jsonl").read_text().splitlines())


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("replay")
    script = StudyScript("blocksworld/3-5", study_scripts(IDS, PATTERNS))
    with FakeOpenAIServer(script) as server:
        spec = f"openai:fake@{server.base_url}"
        asyncio.run(run_experiment(experiment(spec, root / "cache.sqlite"), root / "recorded" / "run"))
    return root, spec


def test_report_twice_gives_identical_bytes(recorded: tuple[Path, str]) -> None:
    root, _ = recorded
    runner = CliRunner()
    for out in ("first", "second"):
        result = runner.invoke(app, ["report", str(root / "recorded" / "run"), "--out", str(root / out)])
        assert result.exit_code == 0, result.output
    first, second = digests(root / "first"), digests(root / "second")
    assert any(name.endswith(".png") for name in first)
    assert {name for name in first if name.startswith("tables/")} >= {
        f"tables/{t}.{ext}" for t in ("accuracy", "critic_final", "feedback", "paired") for ext in ("md", "csv", "tex")}
    assert first == second


def test_replay_gives_identical_episodes_and_tables(recorded: tuple[Path, str]) -> None:
    root, spec = recorded
    config = experiment(spec, root / "cache.sqlite")
    replay = type(config).model_validate({**config.model_dump(mode="json"),
                                          "cache": {"mode": "replay", "path": str(root / "cache.sqlite")}})
    # no server is running: every completion must come from the cache
    asyncio.run(run_experiment(replay, root / "replayed" / "run"))
    original = episode_lines(root / "recorded" / "run")
    replayed = episode_lines(root / "replayed" / "run")
    assert len(original) == 6 * 5
    assert original == replayed

    runner = CliRunner()
    for name in ("recorded", "replayed"):
        result = runner.invoke(app, ["report", str(root / name / "run"), "--out", str(root / f"{name}-report")])
        assert result.exit_code == 0, result.output
    recorded_files = digests(root / "recorded-report")
    replayed_files = digests(root / "replayed-report")
    # the pages name the run directory they were made from; tables, sources and plots must be identical
    for page in ("report.md", "report.html"):
        recorded_files.pop(page)
        replayed_files.pop(page)
    assert recorded_files == replayed_files


def test_replay_miss_is_an_error_not_a_call(recorded: tuple[Path, str], tmp_path: Path) -> None:
    root, spec = recorded
    config = experiment(spec, root / "cache.sqlite")
    data = config.model_dump(mode="json")
    data["cache"] = {"mode": "replay", "path": str(root / "cache.sqlite")}
    data["generator"]["max_tokens"] = 301        # a request the cache has never seen
    with pytest.raises(ReplayMissError):
        asyncio.run(run_experiment(type(config).model_validate(data), tmp_path / "run"))
