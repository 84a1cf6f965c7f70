"""Analysis of run directories: records -> metrics -> tables, plots and the report.

Public entry points: ``load_runs`` (episodes/rounds DataFrames), ``all_tables`` (every table as a
traceable ``Table``) and ``write_report`` (Markdown/HTML report, tables as md/csv/tex, PNG plots).
"""

from __future__ import annotations

from planner_loop.analysis.metrics import all_tables, mcnemar_exact, wilson_interval
from planner_loop.analysis.records import RunRecords, load_runs
from planner_loop.analysis.report import Report, write_report
from planner_loop.analysis.tables import Column, Table

__all__ = [
    "Column",
    "Report",
    "RunRecords",
    "Table",
    "all_tables",
    "load_runs",
    "mcnemar_exact",
    "wilson_interval",
    "write_report",
]
