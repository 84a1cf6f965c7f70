"""Batch execution through the OpenAI Batch API: half the price, results within hours.

:class:`BatchClient` is the thin part: upload a JSONL of chat requests (``files.create``, purpose
``batch``), ``batches.create``, poll ``batches.retrieve``, download the output and error files.

:class:`BatchingModel` wraps an :class:`~planner_loop.llm.openai_backend.OpenAIChatModel` as its
transport: cache lookups, ``n`` handling, call records and prices stay the inner model's, so the
replies (and everything built from them) are the same as in live mode. Each request that misses
the cache is queued; the queue goes out as one batch job when every active worker is waiting
(``set_active(n)``: the orchestration says how many workers — episodes — are active), or after
``linger_s`` without a new request. Batch ids and the requests in each are written to a state
file (e.g. ``runs/<run>/batches.json``) before anyone waits on them, so a killed process resumes
by polling the same batches: a request found in the state file is never submitted again, unless
its item failed, when it goes into the next batch (at most ``max_item_attempts`` batches in all).
``pending_batches`` tells what the batches being waited on are doing (:class:`BatchStatus`, for progress).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import openai

from planner_loop.errors import ConfigError
from planner_loop.llm.openai_backend import OpenAIChatModel
from planner_loop.llm.protocol import ChatMessage, Completion, SamplingParams
from planner_loop.llm.reply import check_completion
from planner_loop.llm.retry import GarbledReplyError, RetryPolicy, async_retrying
from planner_loop.llm.textsafety import redact
from planner_loop.llm.transport import TransportError

TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
ENDPOINT = "/v1/chat/completions"


def custom_id(body: dict[str, Any]) -> str:
    """A request's id inside batches: a hash of its body, so the same request has the same id after a restart."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "req-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ItemOutcome:
    """One request's result in a finished batch: the chat completion, or why it failed."""

    data: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class BatchStatus:
    """A batch a model waits on, as its last ``batches.retrieve`` found it.

    ``status`` is the API's (``validating``, ``in_progress``, ``finalizing``, ...); the counts are its
    ``request_counts``; ``waiting_s`` is the time since the batch was submitted (by this process or,
    for a resumed run, an earlier one).
    """

    batch_id: str
    status: str
    completed: int = 0
    failed: int = 0
    total: int = 0
    waiting_s: float = 0.0

    @classmethod
    def of(cls, batch_id: str, batch: Any) -> BatchStatus:
        """From a ``batches.retrieve`` reply (``request_counts`` may be missing before validation)."""
        counts = getattr(batch, "request_counts", None)

        def count(name: str) -> int:
            value = getattr(counts, name, None)
            return value if isinstance(value, int) else 0

        return cls(batch_id, str(getattr(batch, "status", None) or "unknown"), count("completed"), count("failed"),
                   count("total"))


class BatchClient:
    """Files and batches endpoints through the inner model's ``openai`` client (its key and base URL)."""

    def __init__(self, model: OpenAIChatModel, retry: RetryPolicy) -> None:
        self._model = model
        self._retry = retry

    async def _client(self) -> openai.AsyncOpenAI:
        return await self._model._get_client()

    async def submit(self, requests: Sequence[tuple[str, dict[str, Any]]]) -> str:
        """Upload ``(custom_id, body)`` pairs as one JSONL file and create a batch; returns its id."""
        lines = "".join(json.dumps({"custom_id": cid, "method": "POST", "url": ENDPOINT, "body": body},
                                   ensure_ascii=False) + "\n" for cid, body in requests)
        client = await self._client()
        async for attempt in async_retrying(self._retry):
            with attempt:
                uploaded = await client.files.create(file=("requests.jsonl", lines.encode()), purpose="batch")
        async for attempt in async_retrying(self._retry):
            with attempt:
                batch = await client.batches.create(input_file_id=uploaded.id, endpoint=ENDPOINT,
                                                    completion_window="24h")
        return batch.id

    async def retrieve(self, batch_id: str) -> Any:
        """The batch object (``status``, ``output_file_id``, ``error_file_id``, ``request_counts``)."""
        client = await self._client()
        batch: Any = None
        async for attempt in async_retrying(self._retry):
            with attempt:
                batch = await client.batches.retrieve(batch_id)
        return batch

    async def download(self, file_id: str) -> bytes:
        """The content of an output or error file."""
        client = await self._client()
        data = b""
        async for attempt in async_retrying(self._retry):
            with attempt:
                data = (await client.files.content(file_id)).content
        return data

    async def outcomes(self, batch: Any) -> dict[str, ItemOutcome]:
        """Every item of a finished batch, from its output and error files."""
        found: dict[str, ItemOutcome] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            for line in (await self.download(file_id)).decode("utf-8", errors="replace").splitlines():
                if line.strip():
                    cid, outcome = _read_item(line)
                    if cid is not None:
                        found[cid] = outcome
        return found


def _read_item(line: str) -> tuple[str | None, ItemOutcome]:
    try:
        item = json.loads(line)
    except ValueError:
        return None, ItemOutcome(error="unreadable line in a batch result file")
    cid = item.get("custom_id") if isinstance(item, dict) else None
    response = item.get("response") if isinstance(item, dict) else None
    response = response if isinstance(response, dict) else {}
    body = response.get("body")
    if response.get("status_code") == 200:
        try:
            return cid, ItemOutcome(data=check_completion(body))
        except GarbledReplyError as error:
            return cid, ItemOutcome(error=str(error))
    detail = body.get("error") if isinstance(body, dict) else None
    detail = detail if isinstance(detail, dict) else (item.get("error") if isinstance(item.get("error"), dict) else {})
    message = str(detail.get("message") or "no reply")
    return cid, ItemOutcome(error=f"HTTP {response.get('status_code', '?')}: {message}")


class BatchState:
    """The run directory's record of submitted batches: ``{"batches": [{"id", "custom_ids", "submitted"}]}``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._batches: list[dict[str, Any]] = []
        self._by_request: dict[str, list[str]] = {}
        self._submitted: dict[str, float] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                batches = list(data["batches"])
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise ConfigError(f"batch state file is unreadable ({error}); it lists the batches this run "
                                  "submitted: restore it, or delete it to submit again", source=path) from error
            for entry in batches:
                self._remember(entry)

    def _remember(self, entry: dict[str, Any]) -> None:
        self._batches.append(entry)
        if isinstance(entry.get("submitted"), (int, float)):
            self._submitted[entry["id"]] = float(entry["submitted"])
        for cid in entry["custom_ids"]:
            self._by_request.setdefault(cid, []).append(entry["id"])

    def batches_for(self, cid: str) -> list[str]:
        """The batches that held request ``cid``, oldest first."""
        return list(self._by_request.get(cid, ()))

    def add(self, batch_id: str, custom_ids: Sequence[str]) -> None:
        """Record a submitted batch (written atomically before anyone waits on it)."""
        self._remember({"id": batch_id, "custom_ids": list(custom_ids), "submitted": time.time()})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(self.path.name + ".tmp")
        temp.write_text(json.dumps({"batches": self._batches}, indent=1), encoding="utf-8")
        os.replace(temp, self.path)

    def submitted_at(self, batch_id: str) -> float | None:
        """When ``batch_id`` was submitted (``time.time()``), if the state file says."""
        return self._submitted.get(batch_id)

    @property
    def batch_ids(self) -> list[str]:
        return [entry["id"] for entry in self._batches]


class BatchingModel:
    """A :class:`~planner_loop.llm.protocol.ChatModel` that sends cache misses through the Batch API.

    ``set_active(n)`` tells it how many workers can still send requests; a batch goes out once that
    many are waiting (or ``linger_s`` after the last new request, whichever is first).
    """

    def __init__(self, inner: OpenAIChatModel, state_path: Path | str, *, poll_interval_s: float = 30.0,
                 linger_s: float = 5.0, max_item_attempts: int = 3) -> None:
        if max_item_attempts < 1:
            raise ValueError("max_item_attempts must be at least 1")
        self.inner = inner
        self.spec = inner.spec
        self.poll_interval_s = poll_interval_s
        self.linger_s = linger_s
        self.max_item_attempts = max_item_attempts
        self.state = BatchState(Path(state_path))
        self._client = BatchClient(inner, inner.retry)
        self._active: int | None = None
        self._waiting = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[str, tuple[dict[str, Any], asyncio.Future[None]]] = {}
        self._pollers: dict[str, asyncio.Task[dict[str, ItemOutcome]]] = {}
        self._poll_waiters: dict[str, int] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._linger: asyncio.TimerHandle | None = None
        self._polled: dict[str, BatchStatus] = {}
        self.submitted = 0
        """Batches this object submitted (resumed ones not counted)."""
        inner.use_transport(self._send)

    # ------------------------------------------------------------------ ChatModel
    async def complete(self, messages: Sequence[ChatMessage], params: SamplingParams, *,
                       role: str | None = None) -> list[Completion]:
        """Like the inner model's ``complete``; a cache miss waits for its batch."""
        return await self.inner.complete(messages, params, role=role)

    async def aclose(self) -> None:
        """Stop polling (batches keep running at the provider) and close the inner model."""
        for task in [*self._pollers.values(), *self._tasks]:
            task.cancel()
        await asyncio.gather(*self._pollers.values(), *self._tasks, return_exceptions=True)
        self._pollers.clear()
        self._tasks.clear()
        await self.inner.aclose()

    def set_active(self, workers: int | None) -> None:
        """How many workers may still send requests (None: unknown, rely on ``linger_s``)."""
        self._active = workers
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return
        if running is self._loop:
            self._maybe_flush()

    @property
    def waiting(self) -> int:
        """Requests waiting for a batch result right now."""
        return self._waiting

    @property
    def pending_batches(self) -> tuple[BatchStatus, ...]:
        """The batches this model waits on, as their last poll found them (empty when none)."""
        now = time.time()
        return tuple(replace(status, waiting_s=max(0.0, now - (self.state.submitted_at(batch_id) or now)))
                     for batch_id, status in self._polled.items())

    # ------------------------------------------------------------------ transport
    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._pending.clear()
            self._pollers.clear()
            self._poll_waiters.clear()
            self._tasks.clear()
            self._polled.clear()
            self._waiting = 0
            self._linger = None

    async def _send(self, body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        self._bind_loop()
        cid = custom_id(body)
        # A caller counts as waiting from here until the batch holding its request is finished; the
        # poller uncounts all its callers at once, so callers woken together do not flush one by one.
        self._waiting += 1
        while True:
            tried = self.state.batches_for(cid)
            if tried:
                outcome = await self._outcome(tried[-1], cid)
                if outcome.data is not None:
                    return outcome.data, tried[-1]
                if len(tried) >= self.max_item_attempts:
                    raise TransportError(redact(f"batch item failed in {len(tried)} batches "
                                                f"({', '.join(tried)}): {outcome.error}"))
                self._waiting += 1
            try:
                await self._enqueue(cid, body, len(tried))
            except BaseException:
                self._waiting -= 1
                raise

    async def _enqueue(self, cid: str, body: dict[str, Any], known: int) -> None:
        """Wait until ``cid`` is in a submitted batch (newer than the ``known`` ones)."""
        if len(self.state.batches_for(cid)) > known:
            return  # another caller already resubmitted it
        if cid in self._pending:
            await asyncio.shield(self._pending[cid][1])
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending[cid] = (body, future)
        if self._linger is not None:
            self._linger.cancel()
        self._linger = asyncio.get_running_loop().call_later(self.linger_s, self._flush)
        self._maybe_flush()
        await asyncio.shield(future)

    def _maybe_flush(self) -> None:
        if self._pending and self._active is not None and self._waiting >= self._active:
            self._flush()

    def _flush(self) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        if not self._pending:
            return
        items = dict(self._pending)
        self._pending.clear()
        task = asyncio.get_running_loop().create_task(self._submit(items))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _submit(self, items: dict[str, tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        try:
            batch_id = await self._client.submit([(cid, body) for cid, (body, _) in items.items()])
        except (openai.OpenAIError, GarbledReplyError) as error:
            for _, future in items.values():
                if not future.done():
                    future.set_exception(error)
            return
        self.state.add(batch_id, list(items))
        self.submitted += 1
        for _, future in items.values():
            if not future.done():
                future.set_result(None)

    async def _outcome(self, batch_id: str, cid: str) -> ItemOutcome:
        """Wait for ``batch_id`` to finish (the caller is uncounted from ``waiting`` when it does)."""
        poller = self._pollers.get(batch_id)
        if poller is None or (poller.done() and not poller.cancelled() and poller.exception() is not None):
            poller = asyncio.get_running_loop().create_task(self._poll(batch_id))
            self._pollers[batch_id] = poller
        if poller.done():
            self._waiting -= 1
        else:
            self._poll_waiters[batch_id] = self._poll_waiters.get(batch_id, 0) + 1
        try:
            outcomes = await asyncio.shield(poller)
        except BaseException:
            if not poller.done():  # this caller was cancelled; the batch goes on
                self._poll_waiters[batch_id] -= 1
                self._waiting -= 1
            raise
        return outcomes.get(cid, ItemOutcome(error=f"request missing from the results of batch {batch_id}"))

    async def _poll(self, batch_id: str) -> dict[str, ItemOutcome]:
        try:
            while True:
                batch = await self._client.retrieve(batch_id)
                self._polled[batch_id] = BatchStatus.of(batch_id, batch)
                if batch.status in TERMINAL:
                    return await self._client.outcomes(batch)
                await asyncio.sleep(self.poll_interval_s)
        finally:
            self._polled.pop(batch_id, None)
            self._waiting -= self._poll_waiters.pop(batch_id, 0)
