"""Where the shared data beside the checkout lives (``../shared``); tests skip when it is absent.

Use the markers registered in ``tests/conftest.py`` (``needs_planbench``, ``needs_fd``, ``needs_val``)
rather than checking these paths yourself.
"""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared"
PLANBENCH = SHARED / "planbench"
PLANBENCH_INSTANCES = PLANBENCH / "plan-bench" / "instances"
PLANBENCH_RESULTS = PLANBENCH / "llm_planning_analysis" / "results"
