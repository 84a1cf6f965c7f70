"""The critic benchmark's config: which plans, which critic configurations (``--config FILE``).

Example (every key optional; these are the defaults)::

    domain: blocksworld
    seed: 0                  # the plan set's seed
    encoding: nl
    model: local             # critic model; --model overrides
    concurrency: 2
    conditions:              # default: the six below
      - {name: binary, critic_mode: binary}
      - {name: detailed, critic_mode: detailed}
      - {name: stepwise, critic_mode: detailed, stepwise: true}
      - {name: votes-3, critic_mode: binary, votes: 3}
      - {name: few-shot-1, critic_mode: detailed, critic_shots: 1}
      - {name: reference, critic_mode: detailed, reference_guided: true}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from planner_loop.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CriticCondition(_Strict):
    """One critic configuration (the LLM+LLM system's critic options)."""

    name: str = Field(min_length=1)
    critic_mode: Literal["binary", "detailed"] = "detailed"
    stepwise: bool = False
    votes: int = Field(default=1, ge=1, le=64)
    critic_shots: int = Field(default=0, ge=0, le=16)
    reference_guided: bool = False
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, ge=1)
    constrained: bool = False

    @model_validator(mode="after")
    def _check(self) -> CriticCondition:
        if not re.fullmatch(r"[A-Za-z0-9_.+=-]+", self.name):
            raise ValueError(f"condition name {self.name!r} may use only letters, digits and _.+=-")
        return self

    @property
    def feedback(self) -> str:
        return "binary" if self.critic_mode == "binary" else "first-error"

    @property
    def sampling_temperature(self) -> float:
        # votes need diverse samples, as in the loop's llm+llm system
        return self.temperature if self.temperature is not None else (0.7 if self.votes > 1 else 0.0)


DEFAULT_CONDITIONS = (
    CriticCondition(name="binary", critic_mode="binary"),
    CriticCondition(name="detailed", critic_mode="detailed"),
    CriticCondition(name="stepwise", critic_mode="detailed", stepwise=True),
    CriticCondition(name="votes-3", critic_mode="binary", votes=3),
    CriticCondition(name="few-shot-1", critic_mode="detailed", critic_shots=1),
    CriticCondition(name="reference", critic_mode="detailed", reference_guided=True),
)


class CriticBenchConfig(_Strict):
    """A whole critic benchmark."""

    domain: str = "blocksworld"
    seed: int = 0
    encoding: Literal["nl", "pddl"] = "nl"
    model: str = "local"
    concurrency: int = Field(default=2, ge=1, le=256)
    timeout_s: float = Field(default=300.0, gt=0)
    conditions: tuple[CriticCondition, ...] = Field(default=DEFAULT_CONDITIONS, min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> CriticBenchConfig:
        names = [c.name for c in self.conditions]
        if len(set(names)) != len(names):
            raise ValueError("critic condition names must be distinct")
        return self


def load_bench_config(path: Path | None) -> CriticBenchConfig:
    """Read ``--config FILE`` (``None``: the defaults); errors name the file and the key."""
    if path is None:
        return CriticBenchConfig()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise ConfigError(f"cannot read critic-bench config: {error.strerror}", source=path) from None
    except UnicodeDecodeError:
        raise ConfigError("cannot read critic-bench config: not UTF-8 text", source=path) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(error, 'problem', error)}", source=path,
                          line=mark.line + 1 if mark is not None else None) from None
    if not isinstance(data, dict):
        raise ConfigError("a critic-bench config must be a YAML mapping", source=path, line=1)
    try:
        config = CriticBenchConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "config"
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{key}: {message}", source=path) from None
    from planner_loop.domains import get_domain

    try:
        get_domain(config.domain)
    except ConfigError as error:
        raise ConfigError(f"domain: {error.message}", source=path) from None
    return config
