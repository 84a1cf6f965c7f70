"""Loading run directories: bad records are one-line errors with file and line; order never matters."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from helpers.episode_builders import episode, write_run

from planner_loop.analysis.records import load_runs
from planner_loop.analysis.report import write_report
from planner_loop.errors import UserInputError


def small_run(directory: Path, name: str = "valmeekam2023") -> Path:
    records = [episode("llm-only", "llm-only", i, [(i % 2 == 0, None)]) for i in range(1, 4)]
    records += [episode("llm+llm", "llm+llm", i, [(False, False), (i == 2, True)]) for i in range(1, 4)]
    return write_run(directory, records, name=name)


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    run = small_run(tmp_path / "run")
    lines = (run / "episodes.jsonl").read_text().splitlines()
    lines.insert(2, "{not json")
    (run / "episodes.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(UserInputError) as caught:
        load_runs([run])
    assert caught.value.describe().startswith(f"{run / 'episodes.jsonl'}:3: not a JSON episode record")


def test_torn_last_line_of_a_killed_run_is_skipped(tmp_path: Path) -> None:
    run = small_run(tmp_path / "run")
    with (run / "episodes.jsonl").open("a") as sink:
        sink.write('{"key": "llm+llm/instance-9/seed0", "cond')
    assert len(load_runs([run]).episodes) == 6


def test_duplicate_key_and_missing_field(tmp_path: Path) -> None:
    run = small_run(tmp_path / "run")
    first = (run / "episodes.jsonl").read_text().splitlines()[0]
    with (run / "episodes.jsonl").open("a") as sink:
        sink.write(first + "\n")
    with pytest.raises(UserInputError, match=r"episodes.jsonl:7: episode 'llm-only/instance-1/seed0' recorded twice"):
        load_runs([run])

    other = small_run(tmp_path / "other")
    record = json.loads((other / "episodes.jsonl").read_text().splitlines()[0])
    del record["final"]["valid"]
    (other / "episodes.jsonl").write_text(json.dumps(record) + "\n")
    with pytest.raises(UserInputError, match=r"episodes.jsonl:1: episode record lacks 'final.valid'"):
        load_runs([other])


def test_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="not a run directory"):
        load_runs([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserInputError, match="no episodes.jsonl"):
        load_runs([tmp_path / "empty"])


def test_same_condition_in_two_runs_is_labelled_by_run(tmp_path: Path) -> None:
    small_run(tmp_path / "a" / "run")
    small_run(tmp_path / "b" / "run")
    records = load_runs([tmp_path / "a" / "run", tmp_path / "b" / "run"])
    assert records.runs == ("a/run", "b/run")
    assert records.condition_order == ("a/run:llm-only", "a/run:llm+llm", "b/run:llm-only", "b/run:llm+llm")


def test_study_is_read_from_the_manifest_or_inferred(tmp_path: Path) -> None:
    named = small_run(tmp_path / "named", name="bohnet2025-small")
    unnamed = write_run(tmp_path / "unnamed", [episode("x", "llm+llm", 1, [(True, True)], votes=5)])
    plain = write_run(tmp_path / "plain", [episode("x", "llm+sound", 1, [(True, True)])])
    studies = load_runs([named, unnamed, plain]).studies
    assert studies == {"named": "bohnet2025", "unnamed": "bohnet2025", "plain": "valmeekam2023"}


def test_record_order_does_not_change_any_file(tmp_path: Path) -> None:
    run = small_run(tmp_path / "run")
    write_report([run], tmp_path / "first")
    lines = (run / "episodes.jsonl").read_text().splitlines()
    random.Random(7).shuffle(lines)
    (run / "episodes.jsonl").write_text("\n".join(lines) + "\n")
    write_report([run], tmp_path / "second")
    for path in sorted((tmp_path / "first").rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (tmp_path / "second" / path.relative_to(tmp_path / "first")).read_bytes(), path
