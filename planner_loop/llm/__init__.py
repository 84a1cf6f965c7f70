"""The LLM layer: one async chat protocol over OpenAI-compatible endpoints and an embedded local model.

``open_model(spec, ...)`` turns a spec string (``local``, ``local:PATH``, ``openai:MODEL``,
``openai:MODEL@BASE_URL``) into a :class:`ChatModel`; cache, call log, concurrency and timeout are
always passed in (no global settings). See docs/models.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from planner_loop.llm.cache import CACHE_MODES, ResponseCache, default_cache_path, request_key
from planner_loop.llm.calls import CallLog, CallRecord, CallSummary, read_calls
from planner_loop.llm.embedded import LocalServerConfig, open_local
from planner_loop.llm.openai_backend import OpenAIChatModel
from planner_loop.llm.limiter import AdaptiveLimiter
from planner_loop.llm.pricing import BATCH_PRICE_FACTOR, Price, PriceTable, load_price_table, load_prices
from planner_loop.llm.protocol import ChatMessage, ChatModel, Completion, SamplingParams
from planner_loop.llm.retry import RetryPolicy
from planner_loop.llm.spec import ModelSpec, parse_spec, resolve_api_key

__all__ = [
    "BATCH_PRICE_FACTOR", "CACHE_MODES", "AdaptiveLimiter", "CallLog", "CallRecord", "CallSummary", "ChatMessage",
    "ChatModel", "Completion", "LocalServerConfig", "ModelSpec", "OpenAIChatModel", "Price", "PriceTable",
    "ResponseCache", "RetryPolicy", "SamplingParams", "default_cache_path", "load_price_table", "load_prices",
    "open_model", "parse_spec", "read_calls", "request_key",
]


def open_model(
    spec: str,
    *,
    cache: ResponseCache | None,
    call_log: CallLog | None,
    concurrency: int,
    timeout_s: float,
    role: str = "",
    retry: RetryPolicy | None = None,
    prices: PriceTable | None = None,
    env: Mapping[str, str] | None = None,
    local_server: LocalServerConfig | None = None,
) -> OpenAIChatModel:
    """Open the model named by ``spec``. Raises ConfigError for a bad spec, missing key or weights.

    ``env`` defaults to ``os.environ`` (keys and ``OPENAI_BASE_URL`` are read from it, never from
    files). Nothing is contacted until the first ``complete``; close with ``await model.aclose()``.
    """
    environ = os.environ if env is None else env
    parsed = parse_spec(spec, environ)
    common = dict(cache=cache, call_log=call_log, concurrency=concurrency, timeout_s=timeout_s, role=role,
                  retry=retry, prices=prices)
    if parsed.kind == "local":
        stamp = (cache.path.parent if cache is not None else default_cache_path(environ).parent) / "verified-weights.json"
        return open_local(parsed.text, parsed.path, stamp, server_config=local_server, **common)  # type: ignore[arg-type]
    return OpenAIChatModel(parsed.text, base_url=parsed.base_url, api_key=resolve_api_key(parsed, environ),
                           request_model=parsed.model, **common)  # type: ignore[arg-type]
