"""A benchmark of the LLM critic alone: labelled plans (optimal, valid non-optimal, controlled
mutations), every critic configuration asked about each, TPR/FPR per error type and failing-step
position. CLI: ``planner-loop critic-bench``."""

from planner_loop.critic_bench.config import CriticBenchConfig, CriticCondition, load_bench_config
from planner_loop.critic_bench.plans import ERROR_TYPES, MUTATIONS, LabelledPlan, build_plan_set, read_plan_set
from planner_loop.critic_bench.runner import BenchResult, run_bench

__all__ = [
    "ERROR_TYPES", "MUTATIONS", "BenchResult", "CriticBenchConfig", "CriticCondition", "LabelledPlan",
    "build_plan_set", "load_bench_config", "read_plan_set", "run_bench",
]
