"""Strategies by name: the built-in ones plus any a package registers under ``planner_loop.strategies``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planner_loop.errors import ConfigError
from planner_loop.registry import ENTRY_POINT_PREFIX, Registry
from planner_loop.strategies.protocol import Strategy, StrategyFactory

GROUP = f"{ENTRY_POINT_PREFIX}strategies"
BUILTIN_STRATEGIES: Mapping[str, str] = {
    "refine": "planner_loop.strategies.refine:Refine",
    "cot": "planner_loop.strategies.cot:ChainOfThought",
    "self-consistency": "planner_loop.strategies.self_consistency:SelfConsistency",
    "reflection": "planner_loop.strategies.reflection:Reflection",
    "tree-search": "planner_loop.strategies.tree_search:TreeSearch",
    "tool-use": "planner_loop.strategies.tool_use:ToolUse",
    "constrained": "planner_loop.strategies.constrained:Constrained",
}


def _check(entry: object) -> StrategyFactory:
    if not callable(entry):
        raise ConfigError(f"strategy entry {entry!r} is not callable (a class or factory taking params)")
    return entry  # type: ignore[return-value]


def default_strategies(*, plugins: bool = True) -> Registry[StrategyFactory]:
    """The built-in strategies plus (when ``plugins``) those of installed entry points."""
    registry: Registry[StrategyFactory] = Registry("strategy", dict(BUILTIN_STRATEGIES), check=_check, group=GROUP)
    return registry.load_entry_points(replace=False) if plugins else registry


def build_strategy(name: str, params: Mapping[str, Any] | None = None, *,
                   registry: Registry[StrategyFactory] | None = None) -> Strategy:
    """The strategy ``name`` built with ``params``; ``ConfigError`` for an unknown name or a non-strategy."""
    factory = (registry if registry is not None else default_strategies()).get(name)
    strategy = factory(dict(params or {}))
    if not isinstance(strategy, Strategy):
        raise ConfigError(f"strategy {name!r} built {type(strategy).__name__}, which has no name/params/run")
    return strategy
