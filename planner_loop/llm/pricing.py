"""Per-model prices, to turn token usage into dollars.

planner-loop ships a dated table (``prices.yaml`` beside this module: input, cached input and
output USD per million tokens, and the Batch API factor); :func:`load_price_table` reads it and
lays a user's file over it. A price file looks like::

    models:
      gpt-4o: {input: 2.5, cached_input: 1.25, output: 10.0}
      my-vllm-model: {input: 0, output: 0}

(the older flat form ``gpt-4o: {input_per_mtok: 2.5, output_per_mtok: 10.0}`` is read too).
Cached prompt tokens are billed at ``cached_input`` (``input`` when the file gives none).
A dated model id (``gpt-4o-2024-08-06``) falls back on its base name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from planner_loop.errors import ConfigError

BATCH_PRICE_FACTOR = 0.5
"""The OpenAI Batch API bills half the standard rate."""
SHIPPED_PRICES = Path(__file__).with_name("prices.yaml")
MAX_PRICE_FILE_BYTES = 1_000_000
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_ENTRY_KEYS = {"input": "input", "output": "output", "cached_input": "cached_input",
               "input_per_mtok": "input", "output_per_mtok": "output", "cached_input_per_mtok": "cached_input"}


@dataclass(frozen=True)
class Price:
    """USD per million prompt (input) and completion (output) tokens; cached prompt tokens at
    ``cached_input_per_mtok`` (the input rate when None)."""

    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_prompt_tokens: int = 0, *,
             batch: bool = False) -> float:
        """Dollar cost of one call (``cached_prompt_tokens`` is the cached part of ``prompt_tokens``)."""
        cached = min(max(cached_prompt_tokens, 0), prompt_tokens)
        cached_rate = self.input_per_mtok if self.cached_input_per_mtok is None else self.cached_input_per_mtok
        dollars = ((prompt_tokens - cached) * self.input_per_mtok + cached * cached_rate
                   + completion_tokens * self.output_per_mtok) / 1_000_000
        return dollars * BATCH_PRICE_FACTOR if batch else dollars


PriceTable = Mapping[str, Price]


def price_for(prices: PriceTable | None, model: str) -> Price | None:
    """The price of ``model`` (exact name, then without a ``-YYYY-MM-DD`` suffix), or None."""
    if prices is None:
        return None
    found = prices.get(model)
    if found is None and _DATED.search(model):
        found = prices.get(_DATED.sub("", model))
    return found


def cost_usd(prices: PriceTable | None, model: str, prompt_tokens: int, completion_tokens: int,
             cached_prompt_tokens: int = 0, *, batch: bool = False) -> float | None:
    """Cost of a call, or None when the model has no price."""
    price = price_for(prices, model)
    if price is None:
        return None
    return price.cost(prompt_tokens, completion_tokens, cached_prompt_tokens, batch=batch)


def load_price_table(path: Path | str | None = None) -> dict[str, Price]:
    """The shipped table, with the entries of ``path`` (when given) replacing or adding to it.

    Raises ConfigError naming the file and line for a file that cannot be used.
    """
    table = _read_table(SHIPPED_PRICES)
    if path is not None:
        table.update(_read_table(Path(path)))
    return table


def load_prices(path: Path | str) -> dict[str, Price]:
    """Only the entries of one price file (no shipped prices). Raises ConfigError."""
    return _read_table(Path(path))


def _read_table(source: Path) -> dict[str, Price]:
    try:
        if source.stat().st_size > MAX_PRICE_FILE_BYTES:
            raise ConfigError(f"price table is larger than {MAX_PRICE_FILE_BYTES} bytes", source=source)
        text = source.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except OSError as error:
        raise ConfigError(f"cannot read price table: {error.strerror or error}", source=source) from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"price table is not UTF-8 text (byte {error.start})", source=source) from error
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark is not None else None
        raise ConfigError(f"price table is not valid YAML/JSON: {error.problem}", source=source,
                          line=line) from error
    except (yaml.YAMLError, RecursionError) as error:
        raise ConfigError("price table is not valid YAML/JSON (or nested too deeply)", source=source) from error
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError("price table must map model names to prices", source=source,
                          line=None if root is None else root.start_mark.line + 1)
    entries = _mapping(root, source)
    if "models" in entries and isinstance(entries["models"][1], yaml.MappingNode):
        entries = _mapping(entries["models"][1], source)
    table: dict[str, Price] = {}
    for model, (line, node) in entries.items():
        table[model] = _price(model, node, line, source)
    return table


def _mapping(node: yaml.MappingNode, source: Path) -> dict[str, tuple[int, yaml.Node]]:
    """Keys to (line, value node); a duplicate key is refused with both lines."""
    out: dict[str, tuple[int, yaml.Node]] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise ConfigError("price table keys must be plain names", source=source, line=line)
        key = str(key_node.value)
        if key in out:
            raise ConfigError(f"{key!r} is given twice (lines {out[key][0]} and {line})", source=source, line=line)
        out[key] = (line, value_node)
    return out


def _price(model: str, node: yaml.Node, line: int, source: Path) -> Price:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"price for {model!r} must be a mapping like {{input: 2.5, output: 10}}",
                          source=source, line=line)
    values: dict[str, float] = {}
    for key, (key_line, value) in _mapping(node, source).items():
        if key not in _ENTRY_KEYS:
            raise ConfigError(f"price for {model!r}: unknown field {key!r} (use input, cached_input, output)",
                              source=source, line=key_line)
        values[_ENTRY_KEYS[key]] = _number(model, key, value, key_line, source)
    missing = [name for name in ("input", "output") if name not in values]
    if missing:
        raise ConfigError(f"price for {model!r} needs {' and '.join(missing)} (USD per million tokens)",
                          source=source, line=line)
    return Price(values["input"], values["output"], values.get("cached_input"))


def _number(model: str, key: str, node: yaml.Node, line: int, source: Path) -> float:
    raw: Any = node.value if isinstance(node, yaml.ScalarNode) else None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise ConfigError(f"price for {model!r}: {key} must be a number >= 0, not {raw!r}", source=source,
                          line=line)
    return number
