"""Shared test setup: the markers for optional data and tools, and the shared-data fixtures.

- ``@pytest.mark.needs_planbench`` (optionally with sub-paths of ``../shared/planbench`` that must
  exist, e.g. ``needs_planbench("llm_planning_analysis/results")``) skips without the PlanBench copy;
- ``@pytest.mark.needs_fd`` skips without Fast Downward (``up-fast-downward``);
- ``@pytest.mark.needs_val`` skips without VAL's ``Validate``.

Fixtures: ``planbench`` (the ``../shared/planbench`` folder, skipping when absent).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from helpers.shared_data import PLANBENCH


@cache
def _has_fast_downward() -> bool:
    from planner_loop.planning.search import fast_downward_driver

    return fast_downward_driver() is not None


@cache
def _has_val() -> bool:
    from planner_loop.verifiers.val import find_validate

    return find_validate() is not None


def _planbench_missing(parts: tuple[str, ...]) -> str | None:
    for part in parts or ("",):
        path = PLANBENCH / part
        if not path.exists():
            return f"PlanBench data is not beside the checkout ({path} is absent)"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("needs_planbench")
    if marker is not None:
        reason = _planbench_missing(tuple(str(arg) for arg in marker.args))
        if reason:
            pytest.skip(reason)
    if item.get_closest_marker("needs_fd") is not None and not _has_fast_downward():
        pytest.skip("Fast Downward (up-fast-downward) is not installed")
    if item.get_closest_marker("needs_val") is not None and not _has_val():
        pytest.skip("VAL's Validate is not installed (pip install 'planner-loop[val]')")


@pytest.fixture
def planbench() -> Path:
    """The shared PlanBench copy (``../shared/planbench``); skips the test when it is absent."""
    if not PLANBENCH.is_dir():
        pytest.skip(f"PlanBench data is not beside the checkout ({PLANBENCH} is absent)")
    return PLANBENCH
