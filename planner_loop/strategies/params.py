"""Strategy parameters: a frozen pydantic model per strategy, validated into ``ConfigError``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from planner_loop.errors import ConfigError

P = TypeVar("P", bound="StrategyParams")


class StrategyParams(BaseModel):
    """Parameters of one strategy: frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def parse_params(model: type[P], params: Mapping[str, Any] | None, strategy: str) -> P:
    """``params`` as ``model``; a bad or unknown key is one ``ConfigError`` naming the strategy and key."""
    try:
        return model.model_validate(dict(params or {}))
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or "params"
            message = "unknown parameter" if item["type"] == "extra_forbidden" else item["msg"]
            problems.append(f"{where}: {message}")
        known = ", ".join(model.model_fields) or "none"
        raise ConfigError(f"strategy {strategy}: {'; '.join(problems)} (parameters: {known})") from None


def refuse_verifier(strategy: str, kind: str, allowed: tuple[str, ...], why: str) -> None:
    """``ConfigError`` unless the condition's verifier ``kind`` is one of ``allowed``."""
    if kind not in allowed:
        systems = {"none": "llm-only", "symbolic": "llm+sound", "val": "llm+val", "llm": "llm+llm"}
        names = " or ".join(systems.get(k, k) for k in allowed)
        raise ConfigError(f"strategy {strategy} {why}: use it on an {names} condition")


def refuse_schema(strategy: str, json_schema: object) -> None:
    """``ConfigError`` when the generator is constrained to a JSON schema: the strategy needs free text."""
    if json_schema is not None:
        raise ConfigError(f"strategy {strategy} needs free-text replies, but the generator is constrained to a "
                          "JSON schema: set generator.constrained: false (use strategy constrained to constrain "
                          "the plan)")
