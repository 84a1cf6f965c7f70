"""How one chat request reaches an endpoint, when it is not a direct HTTP POST (the Batch API).

A transport takes the request body and returns ``(chat completion JSON, batch id)``; it raises
:class:`TransportError` when the request failed for good (after its own retries).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from planner_loop.errors import ModelError

Transport = Callable[[dict[str, Any]], Awaitable[tuple[dict[str, Any], str | None]]]


class TransportError(ModelError):
    """A request its transport could not get answered (e.g. a batch item that kept failing)."""
