"""Run directories and experiment runs (re-exported; see ``run_store`` and ``orchestration``)."""

from __future__ import annotations

from planner_loop.llm.wrappers import CoalescedModel, RoleModel
from planner_loop.orchestration import RunProgress, RunResult, build_verifier, run_experiment
from planner_loop.run_store import CALLS, EPISODES, MANIFEST, SOLVED, RunStore, episode_key

__all__ = ["CALLS", "EPISODES", "MANIFEST", "SOLVED", "CoalescedModel", "RoleModel", "RunProgress", "RunResult",
           "RunStore", "build_verifier", "episode_key", "run_experiment"]
