"""planner-loop: can a language model check its own plans, or does it need a sound validator?

The public API, grouped by layer. Names are imported on first use (PEP 562), so ``import
planner_loop`` and the CLI stay fast while pandas, matplotlib and unified-planning load only when
needed.

    >>> import planner_loop as pl
    >>> task = pl.load_task("domains/blocksworld/domain.pddl", "problems/blocksworld/3-5/instance-1.pddl")
    >>> report = pl.validate(task, pl.parse_plan("(unstack b a)\\n(put-down b)\\n"))
    >>> report.valid, report.failed_step, report.unmet_preconditions
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, tuple[str, ...]] = {
    "planner_loop.errors": (
        "PlannerLoopError", "UserInputError", "PDDLError", "PlanSyntaxError", "ConfigError", "ModelError",
        "ReplayMissError",
    ),
    # planning: the sound validator is the ground truth of every table
    "planner_loop.planning.task": ("Task", "load_task", "parse_task"),
    "planner_loop.planning.plan": ("Plan", "PlanStep", "load_plan", "parse_plan"),
    "planner_loop.planning.validator": ("ValidationReport", "validate"),
    "planner_loop.planning.search": ("solve", "optimal_plan_length"),
    # problem generation
    "planner_loop.generation.instances": ("GenerationRequest", "GeneratedInstance", "ProblemGenerator", "SizeRange"),
    "planner_loop.generation.registry": ("get_generator", "available_generators"),
    "planner_loop.generation.problem_set": ("generate_problem_set", "read_manifest"),
    "planner_loop.generation.blocksworld": ("count_states",),
    # domains: rendering, plan extraction, registry
    "planner_loop.domains.protocol": ("Domain", "PlanExtraction"),
    "planner_loop.domains.registry": ("DomainRegistry", "get_domain", "load_domain", "available_domains"),
    "planner_loop.domains.templates": ("TemplateDomain",),
    "planner_loop.domains.extraction": ("plan_json_schema",),
    # language models
    "planner_loop.llm": ("open_model",),
    "planner_loop.llm.protocol": ("ChatMessage", "SamplingParams", "Completion", "ChatModel"),
    "planner_loop.llm.cache": ("ResponseCache",),
    "planner_loop.llm.calls": ("CallLog",),
    "planner_loop.llm.retry": ("RetryPolicy",),
    "planner_loop.llm.pricing": ("Price",),
    "planner_loop.llm.fake_server": ("FakeOpenAIServer",),
    # verifiers, prompts, the loop, runs
    "planner_loop.verifiers.protocol": ("Verdict", "Verifier", "VerifyContext", "VerifierError"),
    "planner_loop.verifiers.symbolic": ("SymbolicVerifier",),
    "planner_loop.verifiers.val": ("ValVerifier",),
    "planner_loop.verifiers.llm_critic": ("LLMCritic",),
    "planner_loop.prompts": ("PromptBuilder", "ExampleBank"),
    "planner_loop.loop": ("Episode", "EpisodeSetup", "run_episode", "make_round"),
    "planner_loop.strategies.protocol": ("Strategy", "EpisodeInputs"),
    "planner_loop.strategies.registry": ("build_strategy", "default_strategies"),
    "planner_loop.strategies.steps": ("propose", "judge"),
    "planner_loop.records": ("Budget", "StrategyRecord", "Usage"),
    "planner_loop.experiment": ("ExperimentConfig", "load_experiment"),
    "planner_loop.runs": ("RunStore", "run_experiment"),
    # analysis and reports
    "planner_loop.analysis.records": ("load_runs",),
    "planner_loop.analysis.metrics": ("all_tables",),
    "planner_loop.analysis.tables": ("Table",),
    "planner_loop.analysis.report": ("write_report",),
}

_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = ["__version__", *_MODULE_OF]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'planner_loop' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # static analysers see the names without importing at run time
    from planner_loop.analysis.metrics import all_tables
    from planner_loop.analysis.records import load_runs
    from planner_loop.analysis.report import write_report
    from planner_loop.analysis.tables import Table
    from planner_loop.domains.extraction import plan_json_schema
    from planner_loop.domains.protocol import Domain, PlanExtraction
    from planner_loop.domains.registry import DomainRegistry, available_domains, get_domain, load_domain
    from planner_loop.domains.templates import TemplateDomain
    from planner_loop.errors import (
        ConfigError, ModelError, PDDLError, PlannerLoopError, PlanSyntaxError, ReplayMissError, UserInputError,
    )
    from planner_loop.experiment import ExperimentConfig, load_experiment
    from planner_loop.generation.blocksworld import count_states
    from planner_loop.generation.instances import GeneratedInstance, GenerationRequest, ProblemGenerator, SizeRange
    from planner_loop.generation.problem_set import generate_problem_set, read_manifest
    from planner_loop.generation.registry import available_generators, get_generator
    from planner_loop.llm import open_model
    from planner_loop.llm.cache import ResponseCache
    from planner_loop.llm.calls import CallLog
    from planner_loop.llm.fake_server import FakeOpenAIServer
    from planner_loop.llm.pricing import Price
    from planner_loop.llm.protocol import ChatMessage, ChatModel, Completion, SamplingParams
    from planner_loop.llm.retry import RetryPolicy
    from planner_loop.loop import Episode, EpisodeSetup, make_round, run_episode
    from planner_loop.records import Budget, StrategyRecord, Usage
    from planner_loop.strategies.protocol import EpisodeInputs, Strategy
    from planner_loop.strategies.registry import build_strategy, default_strategies
    from planner_loop.strategies.steps import judge, propose
    from planner_loop.planning.plan import Plan, PlanStep, load_plan, parse_plan
    from planner_loop.planning.search import optimal_plan_length, solve
    from planner_loop.planning.task import Task, load_task, parse_task
    from planner_loop.planning.validator import ValidationReport, validate
    from planner_loop.prompts import ExampleBank, PromptBuilder
    from planner_loop.runs import RunStore, run_experiment
    from planner_loop.verifiers.llm_critic import LLMCritic
    from planner_loop.verifiers.protocol import Verdict, Verifier, VerifierError, VerifyContext
    from planner_loop.verifiers.symbolic import SymbolicVerifier
    from planner_loop.verifiers.val import ValVerifier
