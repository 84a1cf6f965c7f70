"""Export a run for other tools: inspect_ai eval logs (``inspect view``), or one row per round as CSV
or Parquet for pandas users. inspect-ai and pyarrow are optional extras, imported only when used."""

from __future__ import annotations

from planner_loop.export.formats import FORMATS, ExportError, export_run
from planner_loop.export.rows import round_rows

__all__ = ["FORMATS", "ExportError", "export_run", "round_rows"]
