"""Optional per-model prices, to turn token usage into dollars.

A price table maps a model name (as sent to the endpoint) to USD per million input and output
tokens. No prices are built in (they change); pass a table or load one from JSON/YAML::

    gpt-4o: {input_per_mtok: 2.5, output_per_mtok: 10.0}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from planner_loop.errors import ConfigError


@dataclass(frozen=True)
class Price:
    """USD per million prompt (input) and completion (output) tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Dollar cost of one call."""
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1_000_000


PriceTable = Mapping[str, Price]


def cost_usd(prices: PriceTable | None, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Cost of a call, or None when the model has no price."""
    if prices is None or model not in prices:
        return None
    return prices[model].cost(prompt_tokens, completion_tokens)


def load_prices(path: Path | str) -> dict[str, Price]:
    """Read a price table from a JSON or YAML file. Raises ConfigError on a bad file."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
        data = json.loads(text) if source.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read price table: {error}", source=source) from error
    if not isinstance(data, dict):
        raise ConfigError("price table must map model names to prices", source=source)
    table: dict[str, Price] = {}
    for model, entry in data.items():
        if not isinstance(entry, dict) or set(entry) != {"input_per_mtok", "output_per_mtok"}:
            raise ConfigError(f"price for {model!r} needs exactly input_per_mtok and output_per_mtok",
                              source=source)
        table[str(model)] = Price(float(entry["input_per_mtok"]), float(entry["output_per_mtok"]))
    return table
