"""What an :class:`~planner_loop.llm.openai_backend.OpenAIChatModel` sends and how its failures read.

Pure functions over one request: the chat-completions body (reasoning models get no ``temperature``
and ``max_completion_tokens``), the call id, and the one-line, key-redacted message for a failed call.
"""

from __future__ import annotations

import errno
import os
from typing import Any

import openai

from planner_loop.llm.protocol import ChatMessage, SamplingParams
from planner_loop.llm.retry import is_quota_error
from planner_loop.llm.textsafety import clean_text, redact
from planner_loop.llm.transport import TransportError


def call_id(request_key: str) -> str:
    """A call's id: derived from its request key (which includes the sample index), not drawn at random,
    so a replayed run writes the same ids and hence byte-identical episode records. Identical requests
    share an id: they are answered by the same cached completion."""
    return request_key[:24]


def request_body(model: str, messages: tuple[ChatMessage, ...], params: SamplingParams, n: int, seed: int | None, *,
                 omit_temperature: bool, use_max_completion_tokens: bool) -> dict[str, Any]:
    """The JSON body of one ``/chat/completions`` request."""
    body: dict[str, Any] = {"model": model, "messages": [m.to_json() for m in messages]}
    if not omit_temperature:
        body["temperature"] = params.temperature
    if params.max_completion_tokens is not None:
        body["max_completion_tokens"] = params.max_completion_tokens
    elif use_max_completion_tokens:
        body["max_completion_tokens"] = params.max_tokens
    else:
        body["max_tokens"] = params.max_tokens
    if params.reasoning_effort is not None:
        body["reasoning_effort"] = params.reasoning_effort
    if n > 1:
        body["n"] = n
    if seed is not None:
        body["seed"] = seed
    if params.stop:
        body["stop"] = list(params.stop)
    if params.json_schema is not None:
        body["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": "reply", "schema": dict(params.json_schema)}}
    if params.grammar is not None:
        body["grammar"] = params.grammar  # llama.cpp-family servers; others reject or ignore it
    if params.tools:
        body["tools"] = [dict(tool) for tool in params.tools]
    return body


def describe_failure(error: BaseException, *, spec: str, base_url: str | None, request_model: str, timeout_s: float,
                     attempts: int, api_key: str | None) -> str:
    """One line naming the model, the endpoint and what went wrong, with the API key redacted."""
    where = f"model {spec!r} at {base_url}"
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    refused = _socket_error(error) if isinstance(error, openai.APIConnectionError) else None
    if isinstance(error, openai.APITimeoutError) and refused is None:
        text = f"{where}: no reply within {timeout_s:g} s{tries}"
    elif isinstance(error, openai.APIConnectionError):
        cause = refused or error.__cause__ or error
        reason = f"{type(cause).__name__}: {cause}"
        if refused is not None and isinstance(refused.errno, int) and refused.errno in errno.errorcode:
            reason = f"{os.strerror(refused.errno).lower()} ({reason})"  # asyncio's text names no reason
        text = f"{where}: endpoint unreachable: {reason}{tries}"
    elif isinstance(error, openai.APIStatusError):
        detail = error.message
        status = error.status_code
        if is_quota_error(error):
            hint = "quota exhausted (check the account's billing); not retried"
        elif status == 401:
            hint = "authentication failed: check OPENAI_API_KEY"
        elif status == 403:
            hint = "permission denied for this key"
        elif status == 404:
            hint = f"model {request_model!r} unknown at this endpoint (or wrong base URL)"
        else:
            hint = "request failed"
        text = f"{where}: HTTP {status}: {hint}: {detail}{tries}"
    elif isinstance(error, TransportError):
        text = f"{where}: {error}{tries}"
    else:
        text = f"{where}: garbled reply: {error}{tries}"
    return redact(clean_text(" ".join(text.split())), [api_key] if api_key else [])


def _socket_error(error: BaseException) -> OSError | None:
    """The socket error (refused, unreachable host, DNS) under a connection failure, if there is one.

    The aiohttp transport reports a refused connection as a connect *timeout*, so the chain of causes,
    not the outer class, tells an unreachable endpoint from a slow one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and not isinstance(current, TimeoutError):
            return current
        current = current.__cause__ or current.__context__
    return None
