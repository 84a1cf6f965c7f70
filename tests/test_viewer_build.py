"""The viewer's static site: data files that trace every cell to its episodes, lazy chunks, states
from the validator, and ``show``'s sorting, filters and markers."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from threading import Thread

from helpers.episode_builders import episode, write_run
from typer.testing import CliRunner

from planner_loop.analysis import all_tables, load_runs
from planner_loop.cli.main import app
from planner_loop.cli.show_commands import clip
from planner_loop.runs import RunStore
from planner_loop.viewer import build_site, make_server

FIXTURE_RUN = Path(__file__).parent / "fixtures" / "runs" / "v1" / "run"


def load_js(path: Path, head: str) -> object:
    text = path.read_text()
    assert text.startswith(head) and text.endswith(");\n")
    return json.loads(text[len(head):-3])


def test_site_traces_cells_and_chunks_episodes(tmp_path: Path) -> None:
    site = build_site([FIXTURE_RUN], tmp_path / "site", chunk_size=5)
    assert site.episodes == 16 and site.chunks == 4
    index = load_js(tmp_path / "site" / "data" / "index.js", "PLV.index(")
    assert isinstance(index, dict)
    refs = [row[0] for row in index["episodes"]]
    tables = {t.name: t for t in all_tables(load_runs([FIXTURE_RUN]))}
    for payload in index["tables"]:
        table = tables[payload["name"]]
        for r, sources in enumerate(table.sources):
            for c, name in enumerate(table.column_names):
                pooled = payload["refs"][r][c]
                expected = [ref for ref in sources.get(name, ()) if not ref.startswith("paper:")]
                episodes = {ref.rpartition("#")[0] if "#" in ref else ref for ref in expected}
                got = set() if pooled < 0 else {refs[i] for i in index["refs"][pooled][0]}
                assert got == episodes, (payload["name"], r, name)
    # the chunk holding an episode has its transcript, and the states replay the validator's trace
    critic = next(i for i, row in enumerate(index["episodes"]) if row[0] == "run:llm+llm/instance-3/seed0")
    chunk = load_js(tmp_path / "site" / "data" / f"chunk-{critic // 5:04d}.js", f"PLV.chunk({critic // 5}, ")
    assert isinstance(chunk, dict)
    ep = chunk["episodes"][critic % 5]
    assert ep["ref"] == "run:llm+llm/instance-3/seed0"
    first = ep["rounds"][0]
    record = next(r for r in RunStore(FIXTURE_RUN).episodes() if r["key"] == "llm+llm/instance-3/seed0")
    assert first["ground_truth"] == record["rounds"][0]["ground_truth"]
    assert first["trace"]["failed_step"] == record["rounds"][0]["ground_truth"]["failed_step"] == 1
    assert first["trace"]["deltas"] == []      # fails at step 1: only the initial state
    valid_round = ep["rounds"][1]
    assert valid_round["trace"]["valid"] is True and len(valid_round["trace"]["deltas"]) == len(valid_round["plan"])
    state = set(ep["init"])
    for added, deleted in valid_round["trace"]["deltas"]:
        state = (state - set(deleted)) | set(added)
    assert {g for g in ep["goal"] if not g.startswith("(not")} <= state
    assert [chunk["strings"][m[1]] for m in first["messages"]] == [m["content"] for m in record["rounds"][0]["messages"]]
    for span in first["highlight"]:
        assert 0 <= span[0] < span[1] <= len(first["reply"])


def test_view_cli_writes_and_serves(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["view", str(FIXTURE_RUN), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    assert "index.html" in result.output
    server = make_server(tmp_path / "site")
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/index.js") as response:
            assert response.read().startswith(b"PLV.index(")
    finally:
        server.shutdown()
        server.server_close()


def test_show_sorts_naturally_filters_and_marks(tmp_path: Path) -> None:
    records = [episode("sound", "llm+sound", n, [(n % 2 == 0, n % 2 == 0)]) for n in (10, 2, 1)]
    records += [episode("critic", "llm+llm", n, [(False, True)]) for n in (3, 20)]
    run = write_run(tmp_path / "run", records)
    manifest = {"name": "show-test", "config": {"conditions": [{"name": "critic"}, {"name": "sound"}]}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    runner = CliRunner()
    result = runner.invoke(app, ["show", str(run)])
    assert result.exit_code == 0, result.output
    assert str(run.resolve()) in result.output
    keys = re.findall(r"(\w+/instance-\d+/seed0)", result.output)
    assert keys == ["critic/instance-3/seed0", "critic/instance-20/seed0", "sound/instance-1/seed0",
                    "sound/instance-2/seed0", "sound/instance-10/seed0"]
    only_sound = runner.invoke(app, ["show", str(run), "--condition", "sound"])
    assert re.findall(r"(\w+/instance-\d+/seed0)", only_sound.output) == [
        "sound/instance-1/seed0", "sound/instance-2/seed0", "sound/instance-10/seed0"]
    assert " critic " not in only_sound.output   # no critic column for a system without a critic
    fps = runner.invoke(app, ["show", str(run), "--false-positives"])
    assert re.findall(r"(\w+/instance-\d+/seed0)", fps.output) == ["critic/instance-3/seed0", "critic/instance-20/seed0"]
    invalid = runner.invoke(app, ["show", str(run), "--invalid", "--condition", "sound"])
    assert re.findall(r"(\w+/instance-\d+/seed0)", invalid.output) == ["sound/instance-1/seed0"]
    bad = runner.invoke(app, ["show", str(run), "--condition", "nope"])
    assert bad.exit_code != 0 and "no condition 'nope'" in str(bad.exception)


def test_clip_marks_the_cut_at_a_word() -> None:
    text = "alpha beta gamma delta epsilon " * 20
    end = clip(text, 40)
    assert end.startswith("…") and len(end) <= 41 and not end[1:].startswith(" ")
    start = clip(text, 40, keep="start")
    assert start.endswith("…") and start[:-1].split()[-1] in text.split()
    assert clip("short", 40) == "short"
