"""The public ``Domain`` protocol and the result of reading a plan out of free text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from planner_loop.planning.plan import Plan, PlanStep
    from planner_loop.planning.task import Atom, Task

Style = Literal["nl", "pddl"]
STYLES: tuple[str, ...] = ("nl", "pddl")


@dataclass(frozen=True)
class PlanExtraction:
    """What :meth:`Domain.extract_plan` found in a reply.

    ``plan`` is ``None`` exactly when ``error`` says why no plan could be read. ``method`` names the
    reading that succeeded (``json``, ``pddl``, ``nl``, ``keyword`` or a ``+``-joined mix) or
    ``none``. ``block`` is the kind of reply block the plan was read from (``plan-tags``,
    ``final-answer-heading``, ``fenced``, ``numbered-list``, ``json``, ``pddl``, ``lines``) and
    ``reason`` says in one sentence why that block was chosen; ``ambiguous`` holds reply lines that
    were read although they named more objects than their action takes; ``no_plan_claim`` is true
    when the reply gives no plan and says that no plan exists (the goal is unreachable); a reply
    that gives a plan never claims that.
    """

    plan: Plan | None
    error: str | None
    method: str
    block: str | None = None
    reason: str = ""
    ambiguous: tuple[str, ...] = ()
    no_plan_claim: bool = False

    @property
    def ok(self) -> bool:
        """True when a plan was read."""
        return self.plan is not None


@runtime_checkable
class Domain(Protocol):
    """A planning domain with everything the loop needs around its PDDL file."""

    name: str
    domain_file: Path

    def load_task(self, problem: Path | str) -> Task:
        """Ground ``problem`` (a path) against this domain's PDDL file."""
        ...

    def describe(self, style: str = "nl") -> str:
        """The domain description for prompts: actions with their preconditions and effects."""
        ...

    def render_atom(self, atom: Atom, style: str = "nl") -> str:
        """One fact, e.g. ``the red block is on top of the blue block`` or ``(on a b)``."""
        ...

    def render_state(self, atoms: Iterable[Atom], style: str = "nl") -> str:
        """A set of facts as one sentence (nl) or space-separated atoms (pddl)."""
        ...

    def render_goal(self, task: Task, style: str = "nl") -> str:
        """The task's goal conjunction."""
        ...

    def render_action(self, step: PlanStep, style: str = "nl") -> str:
        """One plan step, e.g. ``unstack the red block from on top of the blue block``."""
        ...

    def render_plan(self, plan: Plan, style: str = "nl") -> str:
        """A plan, one step per line."""
        ...

    def extract_plan(self, text: str, task: Task, *, whole_reply: bool = False) -> PlanExtraction:
        """Read a plan out of free LLM text; never raises for any text. ``whole_reply`` reads every
        line, as PlanBench's scorer does, instead of the plan region."""
        ...

    def generator(self) -> object | None:
        """This domain's problem generator (a ``planner_loop.generation`` ProblemGenerator), if any."""
        ...


def read_plan(domain: Domain, text: str, task: Task) -> PlanExtraction:
    """``domain.extract_plan(text, task)``, with a reader failure recorded as that reply's parse error.

    Model text is adversarial and a domain's reader may come from a plugin: an exception while reading
    one reply must fail that round (the record says which exception), not the run, and a resume that
    replays the cached reply gets the same recorded failure instead of crashing again.
    """
    try:
        return domain.extract_plan(text, task)
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception as error:  # recorded in the round, never hidden: see the docstring
        return PlanExtraction(None, f"the plan reader failed on this reply: {type(error).__name__}: {error}"[:500],
                              "none", reason="reader error")
