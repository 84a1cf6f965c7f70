"""Which models of a run had no price, so that its dollar figures are missing (``cost_usd: null``).

A run's ``calls.jsonl`` names the model of every call; without it (a copied ``episodes.jsonl``),
the models of the episodes whose usage has no cost are named instead.
"""

from __future__ import annotations

from pathlib import Path

from planner_loop.analysis.records import RunRecords
from planner_loop.run_meter import price_names


def unpriced_models(records: RunRecords) -> tuple[str, ...]:
    """Price-table names of the models whose calls (or episodes) have no cost, sorted."""
    from planner_loop.llm.calls import read_calls

    specs: set[str] = set()
    frame = records.episodes
    for label in records.runs:
        calls_path = Path(records.run_paths[label]) / "calls.jsonl"
        if calls_path.exists():
            specs.update(r.model for r in read_calls(calls_path).records if r.error is None and r.cost_usd is None)
            continue
        missing = frame[(frame["run"] == label) & (frame["calls"] > 0) & frame["cost_usd"].isna()]
        specs.update(str(m) for m in missing["generator_model"].dropna())
        specs.update(str(m) for m in missing["critic_model"].dropna())
    return price_names(specs)


def unpriced_note(records: RunRecords) -> str | None:
    """One sentence for the report naming the models without a price (None when every model had one)."""
    names = unpriced_models(records)
    if not names:
        return None
    listed = ", ".join(f"`{name}`" for name in names)
    return (f"*Cost unknown*: no price for {listed}, so the dollar columns are empty where "
            f"{'it' if len(names) == 1 else 'they'} ran; give a price with `planner-loop run --prices FILE` "
            "(or a `prices:` config key) for later runs.")
