"""Build the run viewer: the packaged page plus the runs' data as script files that work from ``file://``.

Layout of the site::

    index.html, viewer.js, viewer.css      copied from the package (no network at view time)
    data/index.js                          runs, conditions, one summary row per episode, the tables
                                           with, per cell, the episodes behind it
    data/chunk-NNNN.js                     full episodes (transcripts, states), CHUNK_SIZE per file,
                                           loaded on demand

Data files call ``PLV.index(...)`` / ``PLV.chunk(n, ...)`` (JSONP style): a page opened from disk may
not ``fetch`` files, but it may add script tags. The same runs give the same bytes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from planner_loop.analysis.metrics import all_tables
from planner_loop.analysis.records import RunRecords, load_runs, read_episode_records
from planner_loop.analysis.tables import Table
from planner_loop.errors import UserInputError, writing_into
from planner_loop.viewer.states import TaskResolver, goal_literals, highlight_spans, initial_state, plan_trace

CHUNK_SIZE = 50
STATIC_FILES = ("index.html", "viewer.js", "viewer.css")
EPISODE_FIELDS = ("ref", "condition", "instance", "size", "optimal", "rounds", "outcome", "critic", "fp_any",
                  "termination", "seed", "run", "key")


@dataclass(frozen=True)
class Site:
    """What ``build_site`` wrote."""

    out_dir: Path
    index: Path
    episodes: int
    chunks: int


def outcome(record: Mapping[str, Any]) -> str:
    """valid | accepted-invalid | gave-up | error | invalid (no verifier to accept or give up)."""
    final = record.get("final") or {}
    if record.get("termination") == "error":
        return "error"
    if final.get("valid"):
        return "valid"
    if final.get("accepted"):
        return "accepted-invalid"
    kind = (record.get("verifier") or {}).get("kind")
    return "invalid" if kind in (None, "none") else "gave-up"


def critic_class(record: Mapping[str, Any]) -> str:
    """The LLM critic's final verdict against ground truth: TP/FP/TN/FN/unreadable, or none."""
    if (record.get("verifier") or {}).get("kind") != "llm":
        return "none"
    final = record.get("final") or {}
    said, valid = final.get("critic_valid"), bool(final.get("valid"))
    if said is None:
        return "unreadable"
    return {(True, True): "TP", (True, False): "FP", (False, False): "TN", (False, True): "FN"}[(bool(said), valid)]


def any_false_positive(record: Mapping[str, Any]) -> bool:
    if (record.get("verifier") or {}).get("kind") != "llm":
        return False
    return any((r.get("verdict") or {}).get("valid") is True and not (r.get("ground_truth") or {}).get("valid")
               for r in record.get("rounds") or ())


def size_text(instance: Mapping[str, Any]) -> str:
    sizes = instance.get("sizes")
    if not isinstance(sizes, Mapping):
        sizes = {"blocks": instance["blocks"]} if instance.get("blocks") is not None else {}
    return ", ".join(f"{name} {value}" for name, value in sizes.items())


def build_site(run_dirs: Sequence[Path | str], out_dir: Path | str, *, chunk_size: int = CHUNK_SIZE) -> Site:
    """Write the viewer for ``run_dirs`` into ``out_dir``; open ``out_dir/index.html``."""
    records = load_runs(run_dirs)
    if records.episodes.empty:
        raise UserInputError("no episode recorded yet; nothing to view",
                             source=", ".join(str(Path(d) / "episodes.jsonl") for d in run_dirs))
    out = Path(out_dir)
    with writing_into(out):
        return _write_site(records, out, chunk_size)


def _write_site(records: RunRecords, out: Path, chunk_size: int) -> Site:
    data_dir = out / "data"
    if data_dir.is_dir():
        shutil.rmtree(data_dir)   # stale chunks of a bigger earlier build must not linger
    data_dir.mkdir(parents=True)
    package = resources.files("planner_loop.viewer") / "static"
    for name in STATIC_FILES:
        (out / name).write_bytes((package / name).read_bytes())

    raw = _raw_records(records)
    refs = list(records.episodes["ref"])
    index_of = {ref: i for i, ref in enumerate(refs)}
    conditions = list(records.condition_order)
    rows = []
    for i, ref in enumerate(refs):
        run, record = raw[ref]
        instance = record.get("instance") or {}
        rows.append([ref, conditions.index(records.episodes["condition"].iat[i]), str(instance.get("id")),
                     size_text(instance), instance.get("optimal_length"), len(record.get("rounds") or ()),
                     outcome(record), critic_class(record), any_false_positive(record), record.get("termination"),
                     int(record.get("seed") or 0), records.runs.index(run), record.get("key")])
    pool: dict[str, int] = {}
    pool_items: list[Any] = []
    tables = [_table_payload(t, index_of, pool, pool_items) for t in all_tables(records)]
    payload = {
        "title": "planner-loop runs: " + ", ".join(records.runs),
        "runs": [{"label": r, "path": records.run_paths[r], "study": records.studies[r]} for r in records.runs],
        "conditions": conditions,
        "fields": list(EPISODE_FIELDS),
        "episodes": rows,
        "chunkSize": chunk_size,
        "tables": tables,
        "refs": pool_items,
    }
    _write_js(data_dir / "index.js", "PLV.index(", payload, ");\n")

    resolvers: dict[str, TaskResolver] = {}
    chunks = 0
    for start in range(0, len(refs), chunk_size):
        strings: dict[str, int] = {}
        episodes = []
        for ref in refs[start:start + chunk_size]:
            run, record = raw[ref]
            if run not in resolvers:
                run_dir = Path(records.run_paths[run])
                resolvers[run] = TaskResolver.for_run(run_dir, _manifest(run_dir))
            episodes.append(_episode_payload(record, ref, resolvers[run], strings))
        number = start // chunk_size
        _write_js(data_dir / f"chunk-{number:04d}.js", f"PLV.chunk({number}, ",
                  {"strings": list(strings), "episodes": episodes}, ");\n")
        chunks += 1
    return Site(out_dir=out, index=out / "index.html", episodes=len(refs), chunks=chunks)


def _write_js(path: Path, head: str, payload: Any, tail: str) -> None:
    # "</" could close the script element early if a page ever inlines the file; escape it.
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    path.write_bytes((head + text + tail).encode("utf-8"))


def _manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "manifest.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _raw_records(records: RunRecords) -> dict[str, tuple[str, dict[str, Any]]]:
    raw: dict[str, tuple[str, dict[str, Any]]] = {}
    for run in records.runs:
        for _, record in read_episode_records(Path(records.run_paths[run])):
            raw[f"{run}:{record['key']}"] = (run, _normalise(record))
    return raw


def _normalise(record: dict[str, Any]) -> dict[str, Any]:
    """Schema-2 records go through the shared loader when it exists; older dicts are read as they are."""
    try:
        from planner_loop.records import load_episode_record
    except ImportError:
        return record
    loaded = load_episode_record(record)
    return loaded.model_dump(mode="json") if hasattr(loaded, "model_dump") else record


def _table_payload(table: Table, index_of: Mapping[str, int], pool: dict[str, int], items: list[Any]) -> dict[str, Any]:
    frame = table.frame("markdown")
    cells = []
    for sources in table.sources:
        row = []
        for name in table.column_names:
            row.append(_pooled(sources.get(name, ()), index_of, pool, items))
        cells.append(row)
    return {
        "name": table.name, "title": table.title, "description": table.description,
        "columns": [{"name": c.name, "kind": c.kind, "meaning": c.meaning} for c in table.columns],
        "rows": frame.values.tolist(), "refs": cells, "notes": list(table.notes),
    }


def _pooled(refs: Sequence[str], index_of: Mapping[str, int], pool: dict[str, int], items: list[Any]) -> int:
    """Index into the shared list of distinct ref sets: [episode indices, [[episode, round]...], [papers]]."""
    if not refs:
        return -1
    episodes: list[int] = []
    rounds: list[list[int]] = []
    papers: list[str] = []
    for ref in refs:
        if ref.startswith("paper:"):
            papers.append(ref.removeprefix("paper:"))
            continue
        if ref in index_of:
            episodes.append(index_of[ref])
            continue
        head, _, number = ref.rpartition("#")
        if head in index_of and number.isdigit():
            rounds.append([index_of[head], int(number)])
            episodes.append(index_of[head])
    unique = list(dict.fromkeys(episodes))
    item = [unique, rounds, papers]
    key = json.dumps(item, separators=(",", ":"))
    if key not in pool:
        pool[key] = len(items)
        items.append(item)
    return pool[key]


def _episode_payload(record: Mapping[str, Any], ref: str, resolver: TaskResolver, strings: dict[str, int]) -> dict[str, Any]:
    def intern(text: str) -> int:
        if text not in strings:
            strings[text] = len(strings)
        return strings[text]

    task = resolver.task(record.get("instance") or {})
    domain = resolver.domain()
    rounds = []
    for item in record.get("rounds") or ():
        plan = item.get("plan")
        reply = str(item.get("reply") or "")
        rounds.append({
            "round": item.get("round"),
            "messages": [[m.get("role"), intern(str(m.get("content", "")))] for m in item.get("messages") or ()],
            "reply": reply,
            "highlight": highlight_spans(reply, item.get("extraction"), plan, domain),
            "plan": plan,
            "parse_error": item.get("parse_error"),
            "extraction": item.get("extraction"),
            "verdict": item.get("verdict"),
            "ground_truth": item.get("ground_truth"),
            "trace": plan_trace(task, plan) if task is not None and plan is not None else None,
            "usage": item.get("usage"),
        })
    return {
        "ref": ref, "key": record.get("key"), "condition": record.get("condition"), "system": record.get("system"),
        "verifier": record.get("verifier"), "strategy": record.get("strategy"),
        "generator_model": record.get("generator_model"), "context_policy": record.get("context_policy"),
        "instance": record.get("instance"), "seed": record.get("seed"), "max_rounds": record.get("max_rounds"),
        "termination": record.get("termination"), "error": record.get("error"), "final": record.get("final"),
        "usage": record.get("usage"),
        "init": initial_state(task) if task is not None else None,
        "goal": goal_literals(task) if task is not None else None,
        "rounds": rounds,
    }
