"""A fake OpenAI chat-completions server on 127.0.0.1 for tests and benchmarks.

It is a real HTTP/1.1 server (asyncio streams, keep-alive) running in a background thread with its
own event loop, so sync tests, async tests and benchmarks all drive it through the real ``openai``
client. Replies come from a responder callable; latency is an ``asyncio.sleep`` so concurrent
requests overlap; faults are injected by a scripted sequence or a seeded rate.

Example::

    from planner_loop.llm.fake_server import FakeOpenAIServer

    def responder(request: dict) -> str:
        last = request["messages"][-1]["content"]
        return "VALID" if "critic" in request["messages"][0]["content"] else f"plan for {last}"

    with FakeOpenAIServer(responder, latency_s=0.01, faults=["429", None, "500"]) as server:
        model = open_model(f"openai:fake@{server.base_url}", cache=None, call_log=None,
                           concurrency=8, timeout_s=5)
        ...                        # server.requests counts chat requests received

``capacity=K`` makes it rate-limit like a provider: a chat request arriving while K are being
handled gets 429 with ``Retry-After`` at once. ``refuse_params=("temperature",)`` answers requests
holding those parameters with the 400 OpenAI gives reasoning models. A responder may return a
mapping ``{"content", "reasoning_content", "reasoning_tokens", "tool_calls"}`` per sample
(``tool_calls``: ``[{"id", "name", "arguments"}]``, sent as OpenAI function calls); ``prefix_cache=True``
reports a repeated first message as ``prompt_tokens_details.cached_tokens``. The Batch API
(``/v1/files``, ``/v1/batches``) is served by :class:`~planner_loop.llm.fake_batch.FakeBatchAPI`
(``batch_delay_s``, ``batch_failed_items``; the object is ``server.batch``).

Fault kinds (:data:`FAULT_KINDS`): ``429`` (rate limited, with ``Retry-After``), ``quota`` (429 with
code ``insufficient_quota``), ``500``, ``503``, ``hang`` (never answers), ``malformed`` (200 with a
body that is not JSON), ``truncated`` (the connection closes mid-body), ``400``, ``401``, ``404``.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

from planner_loop.llm.fake_batch import FakeBatchAPI

Responder = Callable[[Mapping[str, Any]], "str | Mapping[str, Any] | Sequence[str | Mapping[str, Any]]"]

FAULT_KINDS = ("429", "quota", "500", "503", "hang", "malformed", "truncated", "400", "401", "404")
TRANSIENT_FAULTS = ("429", "500", "503", "hang", "malformed", "truncated")

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 429: "Too Many Requests", 500: "Internal Server Error",
            503: "Service Unavailable"}


def echo_responder(request: Mapping[str, Any]) -> str:
    """Default responder: echoes the last message's content."""
    messages = request.get("messages") or [{}]
    return f"echo: {messages[-1].get('content', '')}"


def _error_body(message: str, kind: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class FakeOpenAIServer:
    """Scripted OpenAI-compatible server; use as a context manager and read ``base_url``.

    ``faults`` scripts the fault for the i-th chat request (``None`` = answer normally; requests past
    the end are answered normally); otherwise ``fault_rate`` draws a fault from ``fault_kinds`` with a
    ``random.Random(seed)``. ``models`` (when given) is the list of known model ids: other models get
    404 ``model_not_found``. ``honour_n=False`` returns one choice whatever ``n`` asks for;
    ``reject_n=True`` answers ``n > 1`` with HTTP 400, as llama.cpp's server does.
    ``api_key`` (when given) must match the bearer token, else 401.
    """

    def __init__(
        self,
        responder: Responder = echo_responder,
        *,
        latency_s: float = 0.0,
        faults: Sequence[str | None] | None = None,
        fault_rate: float = 0.0,
        fault_kinds: Sequence[str] = TRANSIENT_FAULTS,
        seed: int = 0,
        retry_after_s: float = 0.05,
        hang_s: float = 3600.0,
        models: Sequence[str] | None = None,
        honour_n: bool = True,
        reject_n: bool = False,
        api_key: str | None = None,
        capacity: int | None = None,
        refuse_params: Sequence[str] = (),
        prefix_cache: bool = False,
        batch_delay_s: float = 0.0,
        batch_failed_items: int = 0,
    ) -> None:
        for kind in list(faults or []) + list(fault_kinds):
            if kind is not None and kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        self._responder = responder
        self.latency_s = latency_s
        self._faults = list(faults) if faults is not None else None
        self._fault_rate = fault_rate
        self._fault_kinds = tuple(fault_kinds)
        self._rng = random.Random(seed)
        self._retry_after_s = retry_after_s
        self._hang_s = hang_s
        self._models = list(models) if models is not None else None
        self._honour_n = honour_n
        self._reject_n = reject_n
        self._api_key = api_key
        self.capacity = capacity
        self._refuse_params = tuple(refuse_params)
        self._prefix_cache = prefix_cache
        self._seen_prefixes: set[str] = set()
        self.rate_limited = 0
        """429s sent because more than ``capacity`` requests were in flight."""
        self.batch = FakeBatchAPI(self._chat_status, delay_s=batch_delay_s, failed_items=batch_failed_items)
        self._lock = threading.Lock()
        self.requests = 0
        """Chat-completion requests received (faulty ones included)."""
        self.faults_injected: list[str] = []
        self.received: list[dict[str, Any]] = []
        """Parsed JSON bodies of the chat requests, in arrival order."""
        self.in_flight = 0
        self.max_in_flight = 0
        """Most chat requests being handled at once (checks client-side concurrency limits)."""
        self.authorizations: list[str] = []
        """``Authorization`` header of every request (tests check which key was sent)."""
        self.base_url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> FakeOpenAIServer:
        """Start listening on a free loopback port (blocks until ready)."""
        self._thread = threading.Thread(target=self._run, name="fake-openai-server", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._startup_error is not None:
            raise self._startup_error
        return self

    def stop(self) -> None:
        """Close the listener and every open connection, then join the thread."""
        loop = self._loop
        if loop is None or self._thread is None:
            return
        loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._shutdown()))
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=1024))
        except OSError as error:
            self._startup_error = error
            self._ready.set()
            loop.close()
            return
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        asyncio.get_running_loop().stop()

    # ---------------------------------------------------------------- HTTP
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                keep_open = await self._dispatch(method, path.split("?", 1)[0], headers, body, writer)
                if not keep_open or headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()

    async def _send(self, writer: asyncio.StreamWriter, status: int, payload: bytes,
                    extra_headers: Mapping[str, str] | None = None, *, declared_length: int | None = None,
                    content_type: str = "application/json") -> None:
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
                f"Content-Type: {content_type}",
                f"Content-Length: {declared_length if declared_length is not None else len(payload)}",
                "Connection: keep-alive"]
        head += [f"{name}: {value}" for name, value in (extra_headers or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        await writer.drain()

    async def _send_json(self, writer: asyncio.StreamWriter, status: int, obj: Any,
                         extra_headers: Mapping[str, str] | None = None) -> None:
        await self._send(writer, status, json.dumps(obj).encode(), extra_headers)

    async def _dispatch(self, method: str, path: str, headers: Mapping[str, str], body: bytes,
                        writer: asyncio.StreamWriter) -> bool:
        with self._lock:
            self.authorizations.append(headers.get("authorization", ""))
        if self._api_key is not None and headers.get("authorization") != f"Bearer {self._api_key}":
            # Echo the presented key, as careless servers do, so tests can check it is redacted.
            presented = headers.get("authorization", "").removeprefix("Bearer ")
            await self._send_json(writer, 401, _error_body(f"Incorrect API key provided: {presented}.",
                                                           "invalid_request_error", "invalid_api_key"))
            return True
        if method == "GET" and path.rstrip("/") == "/v1/models":
            ids = self._models if self._models is not None else ["fake-model"]
            await self._send_json(writer, 200, {"object": "list", "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "fake"} for name in ids]})
            return True
        routed = self.batch.handle(method, path.rstrip("/"), headers, body)
        if routed is not None:
            status, payload = routed
            if isinstance(payload, bytes):
                await self._send(writer, status, payload, content_type="application/octet-stream")
            else:
                await self._send_json(writer, status, payload)
            return True
        if path.rstrip("/") != "/v1/chat/completions":
            await self._send_json(writer, 404, _error_body(f"no route {path}", "invalid_request_error", None))
            return True
        if method != "POST":
            await self._send_json(writer, 405, _error_body("use POST", "invalid_request_error", None))
            return True
        try:
            request = json.loads(body)
        except ValueError:
            await self._send_json(writer, 400, _error_body("body is not JSON", "invalid_request_error", None))
            return True
        with self._lock:
            index = self.requests
            self.requests += 1
            self.received.append(request)
            fault = self._choose_fault(index)
            if fault is not None:
                self.faults_injected.append(fault)
            # A rejected request is not being handled, and a handled one stops counting once its reply
            # is ready: a provider's limiter does not hold a slot for a 429 or for bytes in transit.
            over = self.capacity is not None and self.in_flight >= self.capacity
            if over:
                self.rate_limited += 1
            else:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if over:
            return await self._send_fault("429", writer)
        try:
            if self.latency_s > 0:
                await asyncio.sleep(self.latency_s)
            if fault is not None:
                return await self._send_fault(fault, writer)
            status, payload = self._chat_status(request)
        finally:
            with self._lock:
                self.in_flight -= 1
        await self._send_json(writer, status, payload)
        return True

    def _choose_fault(self, index: int) -> str | None:
        if self._faults is not None:
            return self._faults[index] if index < len(self._faults) else None
        if self._fault_rate > 0 and self._rng.random() < self._fault_rate:
            return self._rng.choice(self._fault_kinds)
        return None

    async def _send_fault(self, fault: str, writer: asyncio.StreamWriter) -> bool:
        retry_after = {"Retry-After": f"{self._retry_after_s:g}",
                       "retry-after-ms": str(int(self._retry_after_s * 1000))}
        if fault == "429":
            await self._send_json(writer, 429, _error_body("Rate limit reached.", "rate_limit_exceeded",
                                                           "rate_limit_exceeded"), retry_after)
        elif fault == "quota":
            await self._send_json(writer, 429, _error_body(
                "You exceeded your current quota.", "insufficient_quota", "insufficient_quota"))
        elif fault in ("500", "503"):
            await self._send_json(writer, int(fault), _error_body("The server had an error.", "server_error", None))
        elif fault == "400":
            await self._send_json(writer, 400, _error_body("Invalid request.", "invalid_request_error", None))
        elif fault == "401":
            await self._send_json(writer, 401, _error_body("Incorrect API key provided.",
                                                           "invalid_request_error", "invalid_api_key"))
        elif fault == "404":
            await self._send_json(writer, 404, _error_body("The model does not exist.",
                                                           "invalid_request_error", "model_not_found"))
        elif fault == "hang":
            await asyncio.sleep(self._hang_s)
            return False
        elif fault == "malformed":
            await self._send(writer, 200, b'{"id": "chatcmpl-broken", "choices": [')
        elif fault == "truncated":
            payload = json.dumps({"id": "chatcmpl-cut", "choices": []}).encode()
            await self._send(writer, 200, payload[:10], declared_length=len(payload) + 100)
            return False
        return True

    def _chat_status(self, request: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """(status, body) for one chat request once faults and latency are past (live and batch)."""
        model = str(request.get("model", ""))
        if self._models is not None and model not in self._models:
            return 404, _error_body(f"The model `{model}` does not exist or you do not have access to it.",
                                    "invalid_request_error", "model_not_found")
        if self._reject_n and int(request.get("n") or 1) > 1:
            return 400, _error_body(f"Field 'n': Value must be between 1 <= value <= 1, but got {request['n']}",
                                    "invalid_request_error", None)
        for name in self._refuse_params:
            if name in request:
                body = _error_body(f"Unsupported parameter: '{name}' is not supported with this model.",
                                   "invalid_request_error", "unsupported_parameter")
                body["error"]["param"] = name
                return 400, body
        return 200, self._reply(request, model)

    def _reply(self, request: Mapping[str, Any], model: str) -> dict[str, Any]:
        n = int(request.get("n") or 1) if self._honour_n else 1
        produced = self._responder(request)
        single = isinstance(produced, str | Mapping)
        samples = [produced] * n if single else list(produced)[:n]  # type: ignore[arg-type]
        choices = []
        completion_words = reasoning = 0
        for i, sample in enumerate(samples):
            spec: Mapping[str, Any] = sample if isinstance(sample, Mapping) else {"content": sample}
            message: dict[str, Any] = {"role": "assistant", "content": spec.get("content")}
            if spec.get("reasoning_content") is not None:
                message["reasoning_content"] = spec["reasoning_content"]
            calls = [{"id": call.get("id", f"call_{i}_{j}"), "type": "function",
                      "function": {"name": call["name"], "arguments": call.get("arguments", "{}")}}
                     for j, call in enumerate(spec.get("tool_calls") or ())]
            if calls:
                message["tool_calls"] = calls
            thought = int(spec.get("reasoning_tokens", 0))
            reasoning += thought
            completion_words += max(1, len(str(spec.get("content") or "").split())) + thought
            choices.append({"index": i, "finish_reason": "tool_calls" if calls else "stop", "logprobs": None,
                            "message": message})
        messages = list(request.get("messages", []))
        prompt_words = sum(len(str(m.get("content", "")).split()) for m in messages)
        usage: dict[str, Any] = {"prompt_tokens": prompt_words, "completion_tokens": completion_words,
                                 "total_tokens": prompt_words + completion_words}
        if reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        if self._prefix_cache and messages:
            prefix = str(messages[0].get("content", ""))
            with self._lock:
                seen = prefix in self._seen_prefixes
                self._seen_prefixes.add(prefix)
            usage["prompt_tokens_details"] = {"cached_tokens": len(prefix.split()) if seen else 0}
        return {"id": f"chatcmpl-fake-{self.requests}", "object": "chat.completion", "created": int(time.time()),
                "model": model, "choices": choices, "usage": usage}
