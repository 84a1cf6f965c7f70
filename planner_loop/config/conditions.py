"""Conditions of an experiment: a union tagged by verifier kind.

Each variant carries only the fields that mean something for its verifier: the critic's settings
(``critic_mode``, ``votes``, ...) exist only on :class:`CriticCondition`, so a ``votes:`` key on an
``llm+sound`` condition is refused. Feedback levels are checked against the verifier registry's
declared support (``planner_loop.verifiers.registry``), in one place: :meth:`_ConditionBase._resolve`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator

from planner_loop.errors import ConfigError
from planner_loop.records import Budget
from planner_loop.verifiers.registry import BUILTIN_VERIFIERS, system_verifiers

System = Literal["llm-only", "llm+llm", "llm+sound", "llm+val"]
VerifierKind = Literal["none", "symbolic", "val", "llm"]
FeedbackLevel = Literal["none", "binary", "first-error", "all-errors"]
CriticMode = Literal["binary", "detailed"]
ContextPolicy = Literal["last", "conversation", "history"]

SYSTEM_VERIFIER: Mapping[str, str] = system_verifiers()
DEFAULT_MAX_ROUNDS = 15
NAME_PATTERN = r"[A-Za-z0-9_.+=-]+"
# What a condition dumped before the union had for critic fields when it was not a critic: the
# config hash is taken over this shape so runs recorded before it still resume.
LEGACY_CRITIC_DEFAULTS: Mapping[str, Any] = {
    "critic_model": None, "critic_mode": None, "stepwise": False, "votes": 1, "critic_temperature": None,
    "critic_max_tokens": 512, "critic_shots": 0, "reference_guided": False, "critic_constrained": None,
}


def checked_spec(spec: str) -> str:
    """``spec`` if its syntax is right, else ``ValueError`` (so pydantic names the key and line)."""
    from planner_loop.llm.spec import check_spec

    try:
        check_spec(spec)
    except ConfigError as error:
        raise ValueError(error.message) from None
    return spec


def _single_round(kind: str) -> bool:
    """A verifier that gives no feedback leaves nothing to retry with: one round."""
    return BUILTIN_VERIFIERS[kind].support.feedback == ("none",)


class Strict(BaseModel):
    """Frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def _fill(self, **values: Any) -> None:
        """Store resolved defaults from an after-validator (the model is frozen to callers)."""
        for key, value in values.items():
            object.__setattr__(self, key, value)


class StrategyConfig(Strict):
    """Which strategy runs the condition's episodes (``planner_loop.strategies``) and its parameters."""

    name: str = Field(default="refine", min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


DEFAULT_STRATEGY = StrategyConfig()
DEFAULT_BUDGET = Budget()


def _without_default_spending(dump: dict[str, Any]) -> dict[str, Any]:
    """A condition dump without a default strategy and budget: the config hash of runs recorded
    before strategies existed stays the same."""
    if dump.get("strategy") == DEFAULT_STRATEGY.model_dump(mode="json"):
        dump.pop("strategy")
    if dump.get("budget") == DEFAULT_BUDGET.model_dump(mode="json"):
        dump.pop("budget")
    return dump


class _ConditionBase(Strict):
    """Fields every condition has, the strategy and the per-episode budget included."""

    name: str = Field(min_length=1)
    system: System
    verifier: str
    feedback: FeedbackLevel | None = None
    max_rounds: int | None = Field(default=None, ge=1, le=1000)
    context: ContextPolicy = "last"
    strategy: StrategyConfig = DEFAULT_STRATEGY
    budget: Budget = DEFAULT_BUDGET

    @model_validator(mode="before")
    @classmethod
    def _verifier_of_system(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("system") in SYSTEM_VERIFIER:
            kind = SYSTEM_VERIFIER[data["system"]]
            given = data.get("verifier")
            if given is not None and given != kind:
                raise ValueError(f"system {data['system']} uses verifier {kind!r}, not {given!r}")
            data = {**data, "verifier": kind}
        return data

    @field_validator("feedback")
    @classmethod
    def _feedback_fits(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("verifier")
        if value is not None and kind in BUILTIN_VERIFIERS:
            BUILTIN_VERIFIERS[kind].support.check_feedback(value, str(info.data.get("system")))
        return value

    @field_validator("max_rounds")
    @classmethod
    def _rounds_fit(cls, value: int | None, info: ValidationInfo) -> int | None:
        kind = info.data.get("verifier")
        if value not in (None, 1) and kind in BUILTIN_VERIFIERS and _single_round(kind):
            raise ValueError(f"{info.data.get('system')} has exactly one round; leave 'max_rounds' out")
        return value

    @model_validator(mode="after")
    def _resolve(self) -> _ConditionBase:
        if not re.fullmatch(NAME_PATTERN, self.name):
            raise ValueError(f"condition name {self.name!r} may use only letters, digits and _.+=-")
        support = BUILTIN_VERIFIERS[self.verifier].support
        feedback = self.feedback or self._default_feedback() or support.default_feedback
        rounds = 1 if _single_round(self.verifier) else self.max_rounds or DEFAULT_MAX_ROUNDS
        self._fill(feedback=feedback, max_rounds=rounds, **self._resolve_more(feedback))
        self._check_strategy()
        return self

    def _check_strategy(self) -> None:
        """Build the strategy once, so a bad name or parameter is refused with the config's line."""
        from planner_loop.strategies.registry import build_strategy

        try:
            strategy = build_strategy(self.strategy.name, self.strategy.params)
            check = getattr(strategy, "check_verifier", None)
            if check is not None:
                check(self.verifier)
        except ConfigError as error:
            raise ValueError(error.message) from None

    def _default_feedback(self) -> str | None:
        return None

    def _resolve_more(self, feedback: str) -> dict[str, Any]:
        return {}

    def verifier_options(self, *, generator_constrained: bool) -> dict[str, Any]:
        """Keyword settings for the verifier's constructor beyond feedback and style."""
        return {}

    def legacy_dump(self) -> dict[str, Any]:
        """The condition as configs dumped it before the tagged union (for the config hash)."""
        return _without_default_spending({**LEGACY_CRITIC_DEFAULTS, **self.model_dump(mode="json")})


class NoVerifierCondition(_ConditionBase):
    """``llm-only``: one round, no verifier, no feedback."""

    verifier: Literal["none"] = "none"


class SoundCondition(_ConditionBase):
    """``llm+sound``: the sound validator."""

    verifier: Literal["symbolic"] = "symbolic"


class ValCondition(_ConditionBase):
    """``llm+val``: VAL's Validate."""

    verifier: Literal["val"] = "val"


class CriticCondition(_ConditionBase):
    """``llm+llm``: an LLM critic, with the settings only a critic has."""

    verifier: Literal["llm"] = "llm"
    critic_model: str | None = Field(default=None, description="default: the generator's model")
    critic_mode: CriticMode | None = None
    stepwise: bool = False
    votes: int = Field(default=1, ge=1, le=64)
    critic_temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    critic_max_tokens: int = Field(default=512, ge=1)
    critic_shots: int = Field(default=0, ge=0, le=16)
    reference_guided: bool = False
    critic_constrained: bool | None = None

    @field_validator("critic_model")
    @classmethod
    def _spec(cls, spec: str | None) -> str | None:
        return checked_spec(spec) if spec is not None else None

    @field_validator("critic_mode")
    @classmethod
    def _mode_fits(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value == "binary" and info.data.get("feedback") not in (None, "binary"):
            raise ValueError("critic_mode binary gives binary feedback only")
        return value

    def _default_feedback(self) -> str | None:
        return "binary" if self.critic_mode == "binary" else None

    def _resolve_more(self, feedback: str) -> dict[str, Any]:
        update: dict[str, Any] = {"critic_mode": "binary" if feedback == "binary" else "detailed"}
        if self.critic_temperature is None:
            # Votes need diverse samples; a single critique is greedy like the reference study.
            update["critic_temperature"] = 0.7 if self.votes > 1 else 0.0
        return update

    def verifier_options(self, *, generator_constrained: bool) -> dict[str, Any]:
        constrained = generator_constrained if self.critic_constrained is None else self.critic_constrained
        return {"stepwise": self.stepwise, "votes": self.votes, "temperature": self.critic_temperature or 0.0,
                "max_tokens": self.critic_max_tokens, "shots": self.critic_shots,
                "reference_guided": self.reference_guided, "constrained": constrained}

    def legacy_dump(self) -> dict[str, Any]:
        return _without_default_spending(self.model_dump(mode="json"))


CONDITION_VARIANTS: Mapping[str, type[_ConditionBase]] = {
    "none": NoVerifierCondition, "symbolic": SoundCondition, "val": ValCondition, "llm": CriticCondition,
}
CONDITION_TAG_ERROR = "condition_system"


def condition_tag(value: Any) -> str | None:
    """The variant of a condition: its verifier kind, from ``system`` (or ``verifier``)."""
    if isinstance(value, _ConditionBase):
        return value.verifier
    if not isinstance(value, Mapping):
        return None
    system = value.get("system")
    if isinstance(system, str) and system in SYSTEM_VERIFIER:
        return SYSTEM_VERIFIER[system]
    return None


ConditionConfig = Annotated[
    Annotated[NoVerifierCondition, Tag("none")]
    | Annotated[SoundCondition, Tag("symbolic")]
    | Annotated[ValCondition, Tag("val")]
    | Annotated[CriticCondition, Tag("llm")],
    Discriminator(condition_tag, custom_error_type=CONDITION_TAG_ERROR,
                  custom_error_message="condition needs a known system"),
]
"""One system configuration of the loop; compare with ``isinstance(c, CriticCondition)``."""


def fields_elsewhere(key: str, tag: str | None) -> list[str]:
    """Systems whose condition variant has field ``key`` (for 'only applies to' messages)."""
    return [BUILTIN_VERIFIERS[kind].system for kind, variant in CONDITION_VARIANTS.items()
            if kind != tag and key in variant.model_fields]
