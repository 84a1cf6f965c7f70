"""Strategies: one episode's way of spending test-time compute to produce a final plan.

``refine`` (propose → judge → feed back) is the loop every system of the studies runs. Others are
registered by name in :func:`planner_loop.strategies.registry.default_strategies` or by another
package under the entry-point group ``planner_loop.strategies``. See ``docs/strategies.md``.
"""

from planner_loop.strategies.protocol import EpisodeInputs, Strategy, StrategyFactory

__all__ = ["EpisodeInputs", "Strategy", "StrategyFactory"]
