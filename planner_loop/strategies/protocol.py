"""The interface every strategy implements, and what an episode hands it.

A strategy receives the episode's setup (task, examples, sampling, condition), the domain (plan
reading and rendering), the prompt builder, the generator, a verifier (``NoVerifier`` when the
condition has none) and a :class:`~planner_loop.records.Budget`; it returns the finished
:class:`~planner_loop.loop.Episode`. The shared steps (one generator call, scoring, the budget
check) are in :mod:`planner_loop.strategies.steps`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from planner_loop.records import Budget

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain
    from planner_loop.llm.protocol import ChatModel
    from planner_loop.loop import Episode, EpisodeSetup
    from planner_loop.prompts import PromptBuilder
    from planner_loop.verifiers.protocol import Verifier


@dataclass(frozen=True)
class EpisodeInputs:
    """Everything one episode may use."""

    setup: EpisodeSetup
    domain: Domain
    prompts: PromptBuilder
    generator: ChatModel
    verifier: Verifier
    budget: Budget = field(default_factory=Budget)


@runtime_checkable
class Strategy(Protocol):
    """Produces one episode's final plan; records its rounds, usage and termination.

    ``name`` is the registered name written to the record's ``strategy.name``; ``params`` the
    parameters it was built with (``strategy.params``). ``run`` must stop with termination
    ``budget`` rather than start a call that ``inputs.budget`` does not allow, and lets endpoint
    failures (``ModelError``) propagate.
    """

    name: str
    params: Mapping[str, Any]

    async def run(self, inputs: EpisodeInputs) -> Episode:
        ...


StrategyFactory = Callable[[Mapping[str, Any]], Strategy]
"""What the registry holds: builds a strategy from its config parameters (``ConfigError`` on bad ones)."""
