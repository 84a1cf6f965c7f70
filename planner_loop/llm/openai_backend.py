"""Chat models behind any OpenAI-compatible endpoint, through the official async ``openai`` client.

One :class:`OpenAIChatModel` owns one client, one concurrency limit (an ``asyncio.Semaphore``), the
retry policy (tenacity; the client's own retries are off), the response cache and the call log.
``n`` samples are requested in one call where the server supports ``n``; missing samples are
emulated by separate calls, sample ``i`` with seed ``seed + i``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import time
from collections.abc import Sequence
from typing import Any

import openai

from planner_loop.errors import ModelError, ReplayMissError
from planner_loop.llm.cache import CachedReply, ResponseCache, request_key
from planner_loop.llm.calls import CallLog, CallRecord
from planner_loop.llm.pricing import PriceTable, cost_usd
from planner_loop.llm.protocol import ChatMessage, Completion, SamplingParams
from planner_loop.llm.retry import GarbledReplyError, RetryPolicy, async_retrying, is_quota_error
from planner_loop.llm.spec import is_loopback

# The HTTP library the installed openai client is built on (httpx for openai 1.x, httpx2 later);
# asking for its Response class makes the client hand back the raw response.
_RAW_RESPONSE = importlib.import_module(
    openai.DefaultAsyncHttpxClient.__mro__[1].__module__.partition(".")[0]).Response
_KEYLIKE = re.compile(r"\b(sk|key|tok)-[A-Za-z0-9_\-*.]{4,}")



def _call_id(request_key: str) -> str:
    """A call's id: derived from its request key (which includes the sample index), not drawn at random,
    so a replayed run writes the same ids and hence byte-identical episode records. Identical requests
    share an id: they are answered by the same cached completion."""
    return request_key[:24]

class _NRejected(ModelError):
    """The server refused ``n > 1`` (HTTP 400 about ``n``): samples must be emulated."""


class OpenAIChatModel:
    """A :class:`~planner_loop.llm.protocol.ChatModel` for one model at one OpenAI-compatible endpoint.

    ``kind``, ``key_base_url`` and ``key_model`` are the model's identity in the cache key (a local
    server's random port must not change it); ``request_model`` is the name sent to the server.
    """

    def __init__(
        self,
        spec: str,
        *,
        base_url: str | None,
        api_key: str | None,
        request_model: str,
        kind: str = "openai",
        key_base_url: str | None = None,
        key_model: str | None = None,
        cache: ResponseCache | None = None,
        call_log: CallLog | None = None,
        concurrency: int = 8,
        timeout_s: float = 120.0,
        role: str = "",
        retry: RetryPolicy | None = None,
        prices: PriceTable | None = None,
        supports_n: bool = True,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.spec = spec
        self.role = role
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self._base_url = base_url
        self._api_key = api_key
        self._request_model = request_model
        self._kind = kind
        self._key_base_url = key_base_url if key_base_url is not None else base_url
        self._key_model = key_model or request_model
        self._cache = cache
        self._call_log = call_log
        self._prices = prices
        self._supports_n = supports_n
        self._concurrency = concurrency
        self._semaphore = asyncio.Semaphore(concurrency)
        self._client: openai.AsyncOpenAI | None = None
        self._client_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _bind_loop(self) -> None:
        """Follow the running event loop: a model reused under a new ``asyncio.run`` gets a fresh
        client and limits (both are tied to the loop they were first used in)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._client = None
            self._semaphore = asyncio.Semaphore(self._concurrency)
            self._client_lock = asyncio.Lock()

    # ------------------------------------------------------------------ endpoint
    async def _open_client(self) -> openai.AsyncOpenAI:
        """Create the client; subclasses start their server here first."""
        return self._make_client(self._base_url, self._api_key)

    def _make_client(self, base_url: str | None, api_key: str | None) -> openai.AsyncOpenAI:
        # A proxy from HTTP(S)_PROXY must not capture loopback traffic (local servers, tests).
        local = base_url is not None and is_loopback(base_url)
        http_client = openai.DefaultAsyncHttpxClient(trust_env=False) if local else None
        return openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=self.timeout_s,
                                  http_client=http_client)

    async def _get_client(self) -> openai.AsyncOpenAI:
        async with self._client_lock:
            if self._client is None:
                self._client = await self._open_client()
            return self._client

    async def aclose(self) -> None:
        """Close the HTTP client."""
        self._bind_loop()  # a client from a finished loop cannot be closed, only dropped
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def __aenter__(self) -> OpenAIChatModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def base_url(self) -> str | None:
        """Where requests go (for a local model: only once its server is up)."""
        return self._base_url

    # ------------------------------------------------------------------ public
    async def complete(self, messages: Sequence[ChatMessage], params: SamplingParams, *,
                       role: str | None = None) -> list[Completion]:
        """Return ``params.n`` completions; ``role`` (e.g. generator, critic) overrides the log role."""
        self._bind_loop()
        messages = tuple(messages)
        who = self.role if role is None else role
        keys = [request_key(self._kind, self._key_base_url, self._key_model, messages, params, i)
                for i in range(params.n)]
        results: dict[int, Completion] = {}
        missing: list[int] = []
        for index, key in enumerate(keys):
            hit = self._lookup(key, index, messages, params, who)
            if hit is None:
                missing.append(index)
            else:
                results[index] = hit
        if missing and self._supports_n and params.n > 1 and len(missing) == params.n:
            try:
                results.update(await self._call(messages, params, missing, keys, who, n=params.n,
                                                seed=params.seed))
            except _NRejected:
                self._supports_n = False  # e.g. llama.cpp's server: emulate from now on
            missing = [i for i in missing if i not in results]
        if missing:
            outcomes = await asyncio.gather(
                *(self._call(messages, params, [i], keys, who, n=1,
                             seed=None if params.seed is None else params.seed + i) for i in missing),
                return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
                results.update(outcome)
        return [results[i] for i in range(params.n)]

    # ------------------------------------------------------------------ cache
    def _cache_mode(self) -> str:
        return "off" if self._cache is None else self._cache.mode

    def _lookup(self, key: str, index: int, messages: tuple[ChatMessage, ...], params: SamplingParams,
                role: str) -> Completion | None:
        mode = self._cache_mode()
        if mode == "off" or self._cache is None:
            return None
        started = time.perf_counter()
        hit = self._cache.get(key)
        call_id = _call_id(key)
        label = "replay" if mode == "replay" else "read"
        if hit is None:
            if mode != "replay":
                return None
            message = (f"replay: no cached reply for model {self.spec!r} (request {key[:12]}, sample {index}) "
                       f"in {self._cache.path}; rerun with the cache in read-write mode to record it")
            self._log(call_id, role, key, messages, params, [index], [], [], 0, 0, None,
                      time.perf_counter() - started, label, 0, message)
            raise ReplayMissError(message)
        latency = time.perf_counter() - started
        cost = 0.0 if cost_usd(self._prices, self._request_model, 0, 0) is not None else None
        self._log(call_id, role, key, messages, params, [index], [hit.text], [hit.finish_reason],
                  hit.prompt_tokens, hit.completion_tokens, cost, latency, label, 0, None)
        return Completion(text=hit.text, finish_reason=hit.finish_reason, prompt_tokens=hit.prompt_tokens,
                          completion_tokens=hit.completion_tokens, latency_s=latency, cached=True,
                          call_id=call_id, retries=0, cost_usd=cost)

    # ------------------------------------------------------------------ HTTP
    def _body(self, messages: tuple[ChatMessage, ...], params: SamplingParams, n: int,
              seed: int | None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self._request_model, "messages": [m.to_json() for m in messages],
                                "temperature": params.temperature}
        # api.openai.com rejects max_tokens for newer models; other servers mostly know only max_tokens.
        if self._base_url is not None and "api.openai.com" in self._base_url:
            body["max_completion_tokens"] = params.max_tokens
        else:
            body["max_tokens"] = params.max_tokens
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
        return body

    async def _post(self, client: openai.AsyncOpenAI, body: dict[str, Any]) -> dict[str, Any]:
        # The client's generic POST keeps its auth, timeouts and error mapping but skips the typed
        # parameter transform of ``chat.completions.create`` (a third of the client's CPU per call).
        response = await client.post("/chat/completions", body=body, cast_to=_RAW_RESPONSE,
                                     options={"timeout": self.timeout_s})
        try:
            data = json.loads(response.content)
        except ValueError as error:
            raise GarbledReplyError(f"reply body is not JSON ({error})") from error
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not all(
                isinstance(c, dict) and isinstance(c.get("message"), dict) for c in choices):
            raise GarbledReplyError("reply has no usable choices")
        return data

    async def _call(self, messages: tuple[ChatMessage, ...], params: SamplingParams, indices: list[int],
                    keys: list[str], role: str, *, n: int, seed: int | None) -> dict[int, Completion]:
        client = await self._get_client()
        body = self._body(messages, params, n, seed)
        key = keys[indices[0]]
        call_id = _call_id(key)
        attempts = 0
        started = time.perf_counter()
        try:
            async for attempt in async_retrying(self.retry):
                with attempt:
                    attempts += 1
                    async with self._semaphore:
                        data = await self._post(client, body)
        except (openai.OpenAIError, GarbledReplyError) as error:
            message = self._describe(error, attempts)
            rejects_n = n > 1 and isinstance(error, openai.BadRequestError) and (
                error.param == "n" or "'n'" in error.message)
            self._log(call_id, role, key, messages, params, indices, [], [], 0, 0, None,
                      time.perf_counter() - started, self._cache_mode(), attempts - 1, message, sent=body)
            if rejects_n:
                raise _NRejected(message) from None
            raise ModelError(message) from None
        latency = time.perf_counter() - started
        retries = attempts - 1
        choices = sorted(data["choices"], key=lambda c: int(c.get("index", 0)))[: len(indices)]
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_total = int(usage.get("completion_tokens") or 0)
        texts = [str(c["message"].get("content") or "") for c in choices]
        reasons = [str(c.get("finish_reason") or "stop") for c in choices]
        # Usage is per request: the first sample carries the prompt tokens and the rounding remainder,
        # so sums over completions equal what the endpoint billed.
        share, rest = divmod(completion_total, len(choices))
        out: dict[int, Completion] = {}
        mode = self._cache_mode()
        for j, (index, text, reason) in enumerate(zip(indices, texts, reasons, strict=False)):
            p_tok = prompt_tokens if j == 0 else 0
            c_tok = share + (rest if j == 0 else 0)
            out[index] = Completion(text=text, finish_reason=reason, prompt_tokens=p_tok, completion_tokens=c_tok,
                                    latency_s=latency, cached=False, call_id=call_id, retries=retries,
                                    cost_usd=cost_usd(self._prices, self._request_model, p_tok, c_tok))
            if self._cache is not None and mode == "read-write":
                self._cache.put(keys[index], self.spec,
                                CachedReply(text=text, finish_reason=reason, prompt_tokens=p_tok,
                                            completion_tokens=c_tok))
        self._log(call_id, role, key, messages, params, list(out), texts[: len(out)], reasons[: len(out)],
                  prompt_tokens, completion_total, cost_usd(self._prices, self._request_model, prompt_tokens,
                                                            completion_total),
                  latency, "write" if mode == "read-write" else mode, retries, None, sent=body)
        return out

    # ------------------------------------------------------------------ reporting
    def _redact(self, text: str) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return _KEYLIKE.sub(r"\1-***", text)

    def _describe(self, error: BaseException, attempts: int) -> str:
        where = f"model {self.spec!r} at {self._base_url}"
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        if isinstance(error, openai.APITimeoutError):
            text = f"{where}: no reply within {self.timeout_s:g} s{tries}"
        elif isinstance(error, openai.APIConnectionError):
            cause = error.__cause__ or error
            text = f"{where}: endpoint unreachable: {type(cause).__name__}: {cause}{tries}"
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
                hint = f"model {self._request_model!r} unknown at this endpoint (or wrong base URL)"
            else:
                hint = "request failed"
            text = f"{where}: HTTP {status}: {hint}: {detail}{tries}"
        else:
            text = f"{where}: garbled reply: {error}{tries}"
        return self._redact(" ".join(text.split()))

    def _log(self, call_id: str, role: str, key: str, messages: tuple[ChatMessage, ...], params: SamplingParams,
             indices: list[int], texts: list[str], reasons: list[str], prompt_tokens: int, completion_tokens: int,
             cost: float | None, latency: float, cache: str, retries: int, error: str | None,
             sent: dict[str, Any] | None = None) -> None:
        if self._call_log is None:
            return
        record_params: dict[str, Any] = params.to_json()
        if sent is not None:
            record_params["sent_n"] = sent.get("n", 1)
            record_params["sent_seed"] = sent.get("seed")
        self._call_log.record(CallRecord(
            call_id=call_id, role=role, model=self.spec, request_hash=key, params=record_params,
            messages=[m.to_json() for m in messages], replies=texts, finish_reasons=reasons,
            usage={"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
            cost_usd=cost, latency_s=round(latency, 6), cache=cache, retries=retries, error=error,
            sample_indices=indices))
