"""The strategies' prompt wording, read from ``planner_loop/prompt_templates/strategies.yaml``."""

from __future__ import annotations

from string import Template
from typing import Any

import yaml

from planner_loop.prompts import TEMPLATE_DIR

STRATEGY_TEMPLATES = TEMPLATE_DIR / "strategies.yaml"


def _load() -> dict[str, Any]:
    data = yaml.safe_load(STRATEGY_TEMPLATES.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{STRATEGY_TEMPLATES} must hold a mapping"
    return data


def text(strategy: str, key: str, encoding: str = "nl", **values: str) -> str:
    """The template ``strategy.key`` (per encoding when it has one), ``$name`` placeholders filled."""
    entry = _load()[strategy][key]
    if isinstance(entry, dict):
        entry = entry[encoding]
    return Template(str(entry)).substitute(values).strip()


def texts_size(strategy: str) -> int:
    """UTF-8 bytes of every text of ``strategy`` (all encodings): a bound on the wording it adds to a prompt."""
    def size(entry: Any) -> int:
        if isinstance(entry, dict):
            return sum(size(value) for value in entry.values())
        return len(str(entry).encode("utf-8"))
    return size(_load().get(strategy, {}))
