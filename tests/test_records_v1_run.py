"""A run recorded before records had a schema (``tests/fixtures/runs/v1``, see ``record_v1.py`` there)
still loads, reports the same tables byte for byte, and resumes: the missing episodes are written in
the current version beside the old ones, and the report stays the same."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

from planner_loop.analysis.records import load_runs
from planner_loop.analysis.report import write_report
from planner_loop.experiment import parse_experiment
from planner_loop.records import load_episode_record, migrate_v1
from planner_loop.runs import RunStore, run_experiment

FIXTURE = Path(__file__).parent / "fixtures" / "runs" / "v1"
RUN = FIXTURE / "run"
TABLES = FIXTURE / "report" / "tables"
DROPPED = {"llm+llm/instance-2/seed0", "llm+llm/instance-3/seed0", "sound-binary/instance-3/seed0",
           "sound-first-error/instance-1/seed0", "llm-only/instance-4/seed0"}


def v1_lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (RUN / "episodes.jsonl").read_text(encoding="utf-8").splitlines()]


def recorder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("record_v1", FIXTURE.parent / "record_v1.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_fixture_is_version_1() -> None:
    lines = v1_lines()
    assert len(lines) == 16
    assert all("schema_version" not in r and "blocks" in r["instance"] and "strategy" not in r for r in lines)


def test_every_v1_record_migrates() -> None:
    for raw in v1_lines():
        record = load_episode_record(raw)
        assert record.schema_version == 2
        assert record.instance.sizes == {"blocks": raw["instance"]["blocks"]}
        assert record.instance.solvable is None
        assert record.strategy.name == "refine"
        assert record.strategy.params == {"max_rounds": raw["max_rounds"], "context": raw["context_policy"]}
        assert [r.usage.calls for r in record.rounds] == [len(r["call_ids"]) for r in raw["rounds"]]
        assert record.usage.calls == sum(len(r["call_ids"]) for r in raw["rounds"])
        assert record.usage.prompt_tokens is None and record.usage.cost_usd is None   # v1 kept no tokens
        assert all(r.extraction is None for r in record.rounds)
        # what v1 said is kept as it was
        assert record.final.model_dump() == raw["final"]
        assert [r.ground_truth.model_dump(mode="json") for r in record.rounds] == [r["ground_truth"] for r in raw["rounds"]]
        assert [r.verdict.valid for r in record.rounds] == [r["verdict"]["valid"] for r in raw["rounds"]]
        assert record.verifier.model_dump() == raw["verifier"]


def test_minimal_v1_record_gets_the_defaults_the_analysis_read_it_with() -> None:
    raw = {"key": "only/i1/seed0", "condition": "only", "system": "llm-only", "instance": {"id": "i1", "set": "s"},
           "rounds": [{"plan": None, "ground_truth": {}, "verdict": {}}], "termination": "max_rounds",
           "final": {"valid": False}}
    record = load_episode_record(raw)
    assert record.verifier.kind == "none" and record.verifier.feedback == "none" and record.verifier.votes == 1
    assert record.seed == 0 and record.final.round == 1 and record.final.accepted is False
    assert record.rounds[0].round == 1 and record.rounds[0].ground_truth.valid is False
    assert record.instance.sizes == {} and record.prompt is None
    assert migrate_v1({**raw, "system": "llm+llm"})["verifier"]["kind"] == "unknown"


def test_v1_run_reports_the_tables_it_reported_before(tmp_path: Path) -> None:
    write_report([RUN], tmp_path / "report")
    assert table_files(tmp_path / "report" / "tables") == table_files(TABLES), (
        "if the analysis changed its tables on purpose: .venv/bin/python tests/fixtures/runs/record_v1.py --tables")


def test_v1_run_and_its_v2_rewrite_report_identical_bytes(tmp_path: Path) -> None:
    v2 = tmp_path / "v2" / "run"
    v2.mkdir(parents=True)
    shutil.copy(RUN / "manifest.json", v2 / "manifest.json")
    with (v2 / "episodes.jsonl").open("w", encoding="utf-8") as sink:
        for raw in v1_lines():
            sink.write(json.dumps(load_episode_record(raw).to_json(), sort_keys=True) + "\n")
    write_report([RUN], tmp_path / "from-v1")
    write_report([v2], tmp_path / "from-v2")
    assert table_files(tmp_path / "from-v1" / "tables") == table_files(tmp_path / "from-v2" / "tables")


def test_v1_run_resumes_in_the_current_version(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    kept = [line for line in (run / "episodes.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
            if json.loads(line)["key"] not in DROPPED]
    (run / "episodes.jsonl").write_text("".join(kept), encoding="utf-8")
    fixture = recorder()
    manifest = json.loads((RUN / "manifest.json").read_text(encoding="utf-8"))
    config = parse_experiment({
        "name": "fixture-v1",
        "instances": {"set": "blocksworld/3-5", "ids": list(fixture.SCRIPTS)},
        "prompt": {"encoding": "nl", "shots": 1},
        "generator": {"model": manifest["config"]["generator"]["model"], "max_tokens": 300},
        "conditions": fixture.CONDITIONS,
        "seeds": [0],
        "concurrency": 2,
        "cache": {"mode": "replay"},   # no server: every reply comes from the run's recorded cache
    })
    assert config.hash() == manifest["config_hash"]
    result = asyncio.run(run_experiment(config, run))
    assert (result.ran, result.skipped) == (len(DROPPED), 16 - len(DROPPED))

    records = {r["key"]: r for r in RunStore(run).episodes()}
    old = {r["key"]: r for r in v1_lines()}
    assert set(records) == set(old) and DROPPED <= set(old)
    for key, record in records.items():
        if key not in DROPPED:
            assert record == old[key]
            continue
        assert record["schema_version"] == 2
        assert record["instance"]["sizes"] == {"blocks": old[key]["instance"]["blocks"]}
        assert [r["plan"] for r in record["rounds"]] == [r["plan"] for r in old[key]["rounds"]]
        assert record["final"] == old[key]["final"] and record["termination"] == old[key]["termination"]
        calls = sum(len(r["call_ids"]) for r in record["rounds"])
        assert record["usage"]["calls"] == calls and record["usage"]["prompt_tokens"] > 0
        assert all(r["extraction"]["method"] for r in record["rounds"])

    write_report([RUN], tmp_path / "before")
    write_report([run], tmp_path / "after")
    assert table_files(tmp_path / "after" / "tables") == table_files(tmp_path / "before" / "tables")
    episodes = load_runs([run]).episodes
    assert set(episodes["strategy"]) == {"refine"}
