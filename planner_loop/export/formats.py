"""``export_run``: pick the writer for a format; optional libraries missing -> one clear message."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from planner_loop.errors import UserInputError, writing_into

FORMATS: tuple[str, ...] = ("inspect", "csv", "parquet")
_NEEDS = {"inspect": ("inspect_ai", "inspect"), "parquet": ("pyarrow", "parquet")}


class ExportError(UserInputError):
    """An export that cannot be made (unknown format, optional library missing)."""


def _records(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from planner_loop.analysis.records import read_episode_records
    from planner_loop.runs import RunStore

    records = [record for _, record in read_episode_records(run_dir)]
    return RunStore(run_dir).manifest(), _sorted(records, RunStore(run_dir).manifest())


def _sorted(records: list[dict[str, Any]], manifest: dict[str, Any]) -> list[dict[str, Any]]:
    from planner_loop.analysis.records import natural_key

    names = [str(c.get("name")) for c in (manifest.get("config") or {}).get("conditions", [])]
    rank = {name: i for i, name in enumerate(names)}
    return sorted(records, key=lambda r: (rank.get(r["condition"], len(rank)), natural_key(str(r["condition"])),
                                          natural_key(str((r.get("instance") or {}).get("id"))),
                                          int(r.get("seed") or 0)))


def export_run(run_dir: Path | str, format: str, out_dir: Path | str) -> list[Path]:   # noqa: A002
    """Write ``run_dir``'s episodes as ``format`` into ``out_dir``; returns the files written."""
    if format not in FORMATS:
        raise ExportError(f"--format: unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if format in _NEEDS and importlib.util.find_spec(_NEEDS[format][0]) is None:
        module, extra = _NEEDS[format]
        raise ExportError(f"--format {format} needs {module}: pip install 'planner-loop[{extra}]'")
    run = Path(run_dir)
    out = Path(out_dir)
    manifest, records = _records(run)
    if not records:
        raise ExportError("no episode recorded yet; nothing to export", source=run / "episodes.jsonl")
    with writing_into(out):
        if format == "inspect":
            from planner_loop.export.inspect_log import write_inspect_logs

            return write_inspect_logs(manifest, records, out)
        from planner_loop.export.rows import write_csv, write_parquet

        name = str(manifest.get("name") or run.name)
        if format == "csv":
            return [write_csv(records, out / f"{name}.rounds.csv")]
        return [write_parquet(records, out / f"{name}.rounds.parquet")]
