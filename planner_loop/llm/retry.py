"""The single retry policy for model calls (tenacity): what is transient and how long to wait.

Retried: HTTP 408/409/429 and 5xx, connection errors, timeouts, and garbled 200 replies.
Never retried: 400, 401, 403, 404, 422 and quota exhaustion (429 with code ``insufficient_quota``).
Waits are exponential with full jitter, but never shorter than the server's ``Retry-After``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import openai
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_random_exponential

T = TypeVar("T")


class GarbledReplyError(Exception):
    """A 200 reply whose body is not a usable chat completion (retried as transient)."""


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` counts the first try; waits grow from ``initial_s`` up to ``max_wait_s``.

    A call whose last reply was a rate-limit 429 (not quota exhaustion) may go on to
    ``max_rate_limited_attempts`` (or ``max_attempts``, whichever is more): at a busy endpoint a 429 says "later", not "never", and the adaptive
    limit is what keeps them rare, so a study should not lose an episode to a few in a row.
    """

    max_attempts: int = 6
    initial_s: float = 0.25
    max_wait_s: float = 20.0
    max_retry_after_s: float = 60.0
    max_rate_limited_attempts: int = 20

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_rate_limited_attempts < 1:
            raise ValueError("max_rate_limited_attempts must be at least 1")


def is_quota_error(error: BaseException) -> bool:
    """429 caused by an exhausted quota/billing, which waiting does not fix."""
    if not isinstance(error, openai.APIStatusError) or error.status_code != 429:
        return False
    body = error.body if isinstance(error.body, dict) else {}
    inner = body.get("error", body) if isinstance(body.get("error", body), dict) else body
    return "insufficient_quota" in (str(error.code), str(inner.get("code")), str(inner.get("type")))


def is_retryable(error: BaseException) -> bool:
    """True for transient failures worth another attempt."""
    if isinstance(error, GarbledReplyError | openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(error, openai.APIStatusError):
        if is_quota_error(error):
            return False
        return error.status_code in (408, 409, 429) or error.status_code >= 500
    return False


def retry_after_s(error: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``), if any."""
    if not isinstance(error, openai.APIStatusError):
        return None
    headers = error.response.headers
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed is not None else None


class _WaitBackoffOrRetryAfter(wait_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        self._backoff = wait_random_exponential(multiplier=policy.initial_s, max=policy.max_wait_s)

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = self._backoff(retry_state)
        outcome = retry_state.outcome
        asked = retry_after_s(outcome.exception()) if outcome is not None else None
        if asked is not None:
            return max(min(asked, self._policy.max_retry_after_s), backoff * 0.1)
        return backoff


def is_rate_limited(error: BaseException | None) -> bool:
    """A 429 that asks to slow down (not an exhausted quota)."""
    return isinstance(error, openai.RateLimitError) and not is_quota_error(error)


class _StopAfterAttempts(stop_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def __call__(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        limited = outcome is not None and is_rate_limited(outcome.exception())
        policy = self._policy
        limit = max(policy.max_attempts, policy.max_rate_limited_attempts) if limited else policy.max_attempts
        return retry_state.attempt_number >= limit


def async_retrying(policy: RetryPolicy) -> AsyncRetrying:
    """A tenacity controller for one call; the final error is re-raised unchanged."""
    return AsyncRetrying(
        stop=_StopAfterAttempts(policy),
        wait=_WaitBackoffOrRetryAfter(policy),
        retry=retry_if_exception(is_retryable),
        reraise=True,
    )


async def retried(policy: RetryPolicy, attempt: Callable[[], Awaitable[T]]) -> T:
    """``attempt()`` under ``policy``; the final error propagates unchanged.

    The first try runs outside tenacity, which is entered only once it fails with a retryable error
    and is handed that error as its first outcome, so waits and attempt counts are the policy's. Why:
    tenacity's per-call controller is a knot of reference cycles, and at hundreds of calls in flight
    for a second each those cycles survive into the oldest generation, whose collections then paused
    the event loop for 0.1-0.2 s at a time (``benchmarks/llm_overhead.py``).
    """
    try:
        return await attempt()
    except Exception as error:
        if not is_retryable(error) or max(policy.max_attempts, policy.max_rate_limited_attempts) == 1:
            raise
        first: Exception | None = error
    async for trial in async_retrying(policy):
        with trial:
            if first is not None:
                failed, first = first, None
                raise failed
            return await attempt()
    raise AssertionError("tenacity re-raises the last error")  # pragma: no cover - reraise=True
