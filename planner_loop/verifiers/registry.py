"""Verifier kinds by name, each declaring once what it supports, and ``build_verifier``.

A :class:`VerifierEntry` names a verifier kind (``symbolic``), the config's system name for it
(``llm+sound``), the feedback levels it can give, whether it needs a model, and a factory. The
experiment config checks feedback against ``support`` and nothing else does. Other packages add
kinds through the ``planner_loop.verifiers`` entry-point group (an entry loads to a ``VerifierEntry``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from planner_loop.errors import ConfigError
from planner_loop.registry import ENTRY_POINT_PREFIX, Registry

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain
    from planner_loop.llm.protocol import ChatModel
    from planner_loop.verifiers.protocol import Verifier

GROUP = ENTRY_POINT_PREFIX + "verifiers"


@dataclass(frozen=True)
class VerifierSupport:
    """What a verifier kind can do. ``note`` says why a level is missing (shown when refused)."""

    feedback: tuple[str, ...]
    default_feedback: str
    needs_model: bool = False
    note: str = ""

    def check_feedback(self, level: str, system: str) -> None:
        """Raise ``ValueError`` (a pydantic validator's error) unless ``level`` is supported."""
        if level not in self.feedback:
            why = f" ({self.note})" if self.note else ""
            raise ValueError(f"feedback {level!r} does not fit the {system} system{why}; "
                             f"use {' or '.join(self.feedback)}")


@dataclass(frozen=True)
class VerifierRequest:
    """Everything a factory gets: the condition's settings, already validated."""

    domain: Domain
    feedback: str
    style: str
    model: ChatModel | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifierEntry:
    """One verifier kind."""

    kind: str
    system: str
    summary: str
    support: VerifierSupport
    factory: Callable[[VerifierRequest], Verifier]

    def build(self, request: VerifierRequest) -> Verifier:
        if self.support.needs_model and request.model is None:
            raise ConfigError(f"the {self.system} system needs a model for its verifier")
        if request.feedback not in self.support.feedback:
            raise ConfigError(f"verifier {self.kind!r} cannot give feedback {request.feedback!r}")
        return self.factory(request)


def _none(request: VerifierRequest) -> Verifier:
    from planner_loop.verifiers.protocol import NoVerifier

    return NoVerifier()


def _symbolic(request: VerifierRequest) -> Verifier:
    from planner_loop.verifiers.symbolic import SymbolicVerifier

    return SymbolicVerifier(request.domain, feedback=request.feedback, style=request.style)


def _val(request: VerifierRequest) -> Verifier:
    from planner_loop.verifiers.val import ValVerifier

    return ValVerifier(request.domain, feedback=request.feedback, style=request.style)


def _critic(request: VerifierRequest) -> Verifier:
    from planner_loop.verifiers.llm_critic import LLMCritic

    assert request.model is not None  # checked by VerifierEntry.build
    return LLMCritic(request.model, request.domain, feedback=request.feedback, style=request.style,
                     **dict(request.options))


ALL_LEVELS = ("binary", "first-error", "all-errors")

BUILTIN_VERIFIERS: Mapping[str, VerifierEntry] = MappingProxyType({
    "none": VerifierEntry("none", "llm-only", "no verifier: one round, no feedback",
                          VerifierSupport(("none",), "none", note="llm-only gets no feedback"), _none),
    "symbolic": VerifierEntry("symbolic", "llm+sound", "planner-loop's sound validator",
                              VerifierSupport(ALL_LEVELS, "first-error",
                                              note="feedback 'none' is the llm-only system"), _symbolic),
    "val": VerifierEntry("val", "llm+val", "VAL's Validate program",
                         VerifierSupport(("binary", "first-error"), "first-error",
                                         note="VAL reports only the first failure"), _val),
    "llm": VerifierEntry("llm", "llm+llm", "an LLM critic",
                         VerifierSupport(ALL_LEVELS, "first-error", needs_model=True,
                                         note="feedback 'none' is the llm-only system"), _critic),
})


def _check_entry(value: object) -> VerifierEntry:
    if not isinstance(value, VerifierEntry):
        raise ConfigError(f"a verifier entry point must load to a VerifierEntry, not {type(value).__name__}")
    return value


def default_verifiers(*, plugins: bool = True) -> Registry[VerifierEntry]:
    """The built-in verifier kinds plus (when ``plugins``) those of installed entry points."""
    registry: Registry[VerifierEntry] = Registry("verifier", dict(BUILTIN_VERIFIERS), check=_check_entry,
                                                 group=GROUP)
    return registry.load_entry_points(replace=False) if plugins else registry


def system_verifiers() -> Mapping[str, str]:
    """Built-in system name -> verifier kind (``llm+sound`` -> ``symbolic``)."""
    return MappingProxyType({entry.system: kind for kind, entry in BUILTIN_VERIFIERS.items()})


class _Condition(Protocol):
    name: str
    verifier: str
    feedback: str | None

    def verifier_options(self, *, generator_constrained: bool) -> dict[str, Any]: ...


class _Generator(Protocol):
    model: str
    constrained: bool | None


class _Prompt(Protocol):
    encoding: str


class _Experiment(Protocol):
    @property
    def generator(self) -> _Generator: ...

    @property
    def prompt(self) -> _Prompt: ...

    def critic_model_of(self, condition: Any) -> str: ...


def build_verifier(config: _Experiment, condition: _Condition, domain: Domain,
                   models: Mapping[str, ChatModel], *, registry: Registry[VerifierEntry] | None = None) -> Verifier:
    """The verifier of one condition. ``models`` holds critics under ``"critic:<spec>"``."""
    entry = (registry if registry is not None else default_verifiers()).get(condition.verifier)
    model = models[f"critic:{config.critic_model_of(condition)}"] if entry.support.needs_model else None
    options = condition.verifier_options(generator_constrained=bool(config.generator.constrained))
    return entry.build(VerifierRequest(domain, condition.feedback or entry.support.default_feedback,
                                       config.prompt.encoding, model, options))
