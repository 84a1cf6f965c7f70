"""Chat models behind any OpenAI-compatible endpoint.

One :class:`OpenAIChatModel` owns one ``openai`` client and the :class:`~planner_loop.llm.chat_post.ChatPoster`
that sends its chat requests (same URL, headers and errors, a third of the CPU), one adaptive concurrency limit
(:class:`~planner_loop.llm.limiter.AdaptiveLimiter`: backs off on 429s, climbs back), the retry
policy (tenacity; the client's own retries are off), the response cache and the call log.
``n`` samples are requested in one call where the server supports ``n``; missing samples are
emulated by separate calls, sample ``i`` with seed ``seed + i``. Reasoning models get no
``temperature`` and ``max_completion_tokens`` instead of ``max_tokens`` (known names, and learnt
from a 400 that names the parameter). A transport (the Batch API) can replace the direct POST. The
request body and failure messages are built in :mod:`planner_loop.llm.openai_wire`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import openai

from planner_loop.errors import ModelError, ReplayMissError
from planner_loop.llm.chat_post import ChatPoster
from planner_loop.llm.cache import CachedReply, ResponseCache, request_key
from planner_loop.llm.calls import CallLog, CallRecord
from planner_loop.llm.limiter import AdaptiveLimiter
from planner_loop.llm.openai_wire import describe_failure, request_body
from planner_loop.llm.openai_wire import call_id as make_call_id
from planner_loop.llm.pricing import PriceTable, cost_usd, load_price_table, price_for
from planner_loop.llm.protocol import ChatMessage, Completion, SamplingParams
from planner_loop.llm.reply import check_completion, is_reasoning_model, read_completion, refused_parameter
from planner_loop.llm.retry import GarbledReplyError, RetryPolicy, is_rate_limited, retried
from planner_loop.llm.spec import is_loopback
from planner_loop.llm.transport import Transport, TransportError

def http_client(*, trust_env: bool) -> Any:
    """The HTTP client under the ``openai`` client: its aiohttp transport (the ``openai[aiohttp]`` extra),
    which costs a third of the CPU per call of the default one at high concurrency and keeps one pool
    for any number of connections (``benchmarks/llm_overhead.py``); ``trust_env`` takes proxies from
    the environment."""
    return openai.DefaultAioHttpClient(trust_env=trust_env)


class _NRejected(ModelError):
    """The server refused ``n > 1`` (HTTP 400 about ``n``): samples must be emulated."""


class OpenAIChatModel:
    """A :class:`~planner_loop.llm.protocol.ChatModel` for one model at one OpenAI-compatible endpoint.

    ``kind``, ``key_base_url`` and ``key_model`` are the model's identity in the cache key (a local
    server's random port must not change it); ``request_model`` is the name sent to the server.
    ``prices`` defaults to the shipped table (:func:`~planner_loop.llm.pricing.load_price_table`).
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
        self._prices = load_price_table() if prices is None else prices
        self._supports_n = supports_n
        self._concurrency = concurrency
        self._limiter = AdaptiveLimiter(concurrency)
        self._transport: Transport | None = None
        reasoning = is_reasoning_model(request_model)
        self._omit_temperature = reasoning
        # api.openai.com rejects max_tokens for newer models; other servers mostly know only max_tokens.
        self._use_max_completion_tokens = reasoning or (base_url is not None and "api.openai.com" in base_url)
        self._client: openai.AsyncOpenAI | None = None
        self._poster: ChatPoster | None = None
        self._client_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _bind_loop(self) -> None:
        """Follow the running event loop: a model reused under a new ``asyncio.run`` gets a fresh
        client and limits (both are tied to the loop they were first used in)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._client = None
            self._poster = None
            self._limiter = AdaptiveLimiter(self._concurrency)
            self._client_lock = asyncio.Lock()

    def use_transport(self, transport: Transport | None) -> None:
        """Send requests through ``transport`` (e.g. the Batch API) instead of a direct POST."""
        self._transport = transport

    @property
    def limiter(self) -> AdaptiveLimiter:
        """This model's adaptive concurrency limit (for progress displays and benchmarks)."""
        return self._limiter

    @property
    def request_model(self) -> str:
        """The model name sent to the endpoint (the name prices are looked up by)."""
        return self._request_model

    # ------------------------------------------------------------------ endpoint
    async def _open_client(self) -> openai.AsyncOpenAI:
        """Create the client; subclasses start their server here first."""
        return self._make_client(self._base_url, self._api_key)

    def _make_client(self, base_url: str | None, api_key: str | None) -> openai.AsyncOpenAI:
        # A proxy from HTTP(S)_PROXY must not capture loopback traffic (local servers, tests).
        local = base_url is not None and is_loopback(base_url)
        return openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=self.timeout_s,
                                  http_client=http_client(trust_env=not local))

    async def _get_client(self) -> openai.AsyncOpenAI:
        if self._client is not None:
            return self._client
        async with self._client_lock:
            if self._client is None:
                client = await self._open_client()
                self._poster = ChatPoster(client, timeout_s=self.timeout_s,
                                          trust_env=not is_loopback(str(client.base_url)))
                self._client = client
            return self._client

    async def _get_poster(self) -> ChatPoster:
        if self._poster is None:
            await self._get_client()
        assert self._poster is not None
        return self._poster

    async def aclose(self) -> None:
        """Close the HTTP client."""
        self._bind_loop()  # a client from a finished loop cannot be closed, only dropped
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._poster is not None:
            await self._poster.aclose()
            self._poster = None

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
        call_id = make_call_id(key)
        label = "replay" if mode == "replay" else "read"
        if hit is None:
            if mode != "replay":
                return None
            message = (f"replay: no cached reply for model {self.spec!r} (request {key[:12]}, sample {index}) "
                       f"in {self._cache.path}; rerun with the cache in read-write mode to record it")
            self._log(call_id, role, key, messages, params, [index], latency=time.perf_counter() - started,
                      cache=label, retries=0, error=message)
            raise ReplayMissError(message)
        latency = time.perf_counter() - started
        cost = 0.0 if price_for(self._prices, self._request_model) is not None else None  # paid once, earlier
        # The episode records what the reply costs (at the batch rate when a batch answered it), not
        # what this read cost, so a resumed or replayed run's episodes and cost tables equal an
        # uninterrupted run's; calls.jsonl keeps the 0 spent now.
        reply_cost = cost_usd(self._prices, self._request_model, hit.prompt_tokens, hit.completion_tokens,
                              hit.cached_prompt_tokens, batch=hit.batch_id is not None)
        self._log(call_id, role, key, messages, params, [index], texts=[hit.text], reasons=[hit.finish_reason],
                  prompt_tokens=hit.prompt_tokens, completion_tokens=hit.completion_tokens,
                  reasoning_tokens=hit.reasoning_tokens, cached_prompt_tokens=hit.cached_prompt_tokens,
                  reasoning_content=[hit.reasoning_content], cost=cost, latency=latency, cache=label, retries=0)
        return Completion(text=hit.text, finish_reason=hit.finish_reason, prompt_tokens=hit.prompt_tokens,
                          completion_tokens=hit.completion_tokens, latency_s=latency, cached=True,
                          call_id=call_id, retries=0, cost_usd=reply_cost, reasoning_tokens=hit.reasoning_tokens,
                          cached_prompt_tokens=hit.cached_prompt_tokens, reasoning_content=hit.reasoning_content,
                          tool_calls=hit.tool_calls, batch_id=hit.batch_id)

    # ------------------------------------------------------------------ HTTP
    def _body(self, messages: tuple[ChatMessage, ...], params: SamplingParams, n: int,
              seed: int | None) -> dict[str, Any]:
        return request_body(self._request_model, messages, params, n, seed, omit_temperature=self._omit_temperature,
                            use_max_completion_tokens=self._use_max_completion_tokens)

    async def _send(self, body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """One attempt: (chat completion JSON, batch id or None)."""
        if self._transport is not None:
            return await self._transport(body)
        poster = self._poster or await self._get_poster()
        async with self._limiter.slot() as slot:
            try:
                data = check_completion(await poster.post(body))
            except openai.RateLimitError as error:
                if is_rate_limited(error):
                    self._limiter.rate_limited(slot)
                    if self._call_log is not None:
                        self._call_log.note_rate_limited()
                raise
        self._limiter.succeeded()
        return data, None

    def _adapt_to_refusal(self, error: BaseException, body: dict[str, Any]) -> bool:
        """Learn from a 400 that names a parameter this model refuses; True when worth one more try."""
        if not isinstance(error, openai.BadRequestError):
            return False
        param = refused_parameter(error)
        if param == "temperature" and "temperature" in body and not self._omit_temperature:
            self._omit_temperature = True
            return True
        if param == "max_tokens" and "max_tokens" in body and not self._use_max_completion_tokens:
            self._use_max_completion_tokens = True
            return True
        return False

    async def _call(self, messages: tuple[ChatMessage, ...], params: SamplingParams, indices: list[int],
                    keys: list[str], role: str, *, n: int, seed: int | None) -> dict[int, Completion]:
        key = keys[indices[0]]
        call_id = make_call_id(key)
        attempts = 0
        started = time.perf_counter()
        for _ in range(3):  # the first try, then at most one more per refused parameter
            body = self._body(messages, params, n, seed)

            async def attempt(body: dict[str, Any] = body) -> tuple[dict[str, Any], str | None]:
                nonlocal attempts
                attempts += 1
                return await self._send(body)

            try:
                data, batch_id = await retried(self.retry, attempt)
                break
            except (openai.OpenAIError, GarbledReplyError, TransportError) as error:
                if self._adapt_to_refusal(error, body):
                    continue
                message = self._describe(error, attempts)
                rejects_n = n > 1 and isinstance(error, openai.BadRequestError) and (
                    error.param == "n" or "'n'" in error.message)
                self._log(call_id, role, key, messages, params, indices, latency=time.perf_counter() - started,
                          cache=self._cache_mode(), retries=attempts - 1, error=message, sent=body)
                if rejects_n:
                    raise _NRejected(message) from None
                raise ModelError(message) from None
        latency = time.perf_counter() - started
        retries = attempts - 1
        reply = read_completion(data, len(indices))
        batch = batch_id is not None
        out: dict[int, Completion] = {}
        to_cache: list[tuple[str, CachedReply]] = []
        mode = self._cache_mode()
        for j, (index, sample) in enumerate(zip(indices, reply.samples, strict=False)):
            p_tok, c_tok, r_tok, k_tok = reply.share(j)
            out[index] = Completion(
                text=sample.text, finish_reason=sample.finish_reason, prompt_tokens=p_tok, completion_tokens=c_tok,
                latency_s=latency, cached=False, call_id=call_id, retries=retries,
                cost_usd=cost_usd(self._prices, self._request_model, p_tok, c_tok, k_tok, batch=batch),
                reasoning_tokens=r_tok, cached_prompt_tokens=k_tok, reasoning_content=sample.reasoning_content,
                truncated=sample.truncated, batch_id=batch_id, tool_calls=sample.tool_calls)
            to_cache.append((keys[index], CachedReply(
                text=sample.text, finish_reason=sample.finish_reason, prompt_tokens=p_tok,
                completion_tokens=c_tok, reasoning_tokens=r_tok, cached_prompt_tokens=k_tok,
                reasoning_content=sample.reasoning_content, tool_calls=sample.tool_calls, batch_id=batch_id)))
        done = reply.samples[: len(out)]
        self._log(call_id, role, key, messages, params, list(out), texts=[s.text for s in done],
                  reasons=[s.finish_reason for s in done], prompt_tokens=reply.prompt_tokens,
                  completion_tokens=reply.completion_tokens, reasoning_tokens=reply.reasoning_tokens,
                  cached_prompt_tokens=reply.cached_prompt_tokens,
                  reasoning_content=[s.reasoning_content for s in done],
                  truncated=[index for index, s in zip(out, done, strict=False) if s.truncated],
                  cost=cost_usd(self._prices, self._request_model, reply.prompt_tokens, reply.completion_tokens,
                                reply.cached_prompt_tokens, batch=batch),
                  latency=latency, cache="write" if mode == "read-write" else mode, retries=retries,
                  sent=body, batch_id=batch_id)
        # Logged before it is cached: a cache that refuses the write (locked, full) must not hide a paid call.
        if self._cache is not None and mode == "read-write":
            for cache_key, cached in to_cache:
                self._cache.put(cache_key, self.spec, cached)
        return out

    # ------------------------------------------------------------------ reporting
    def _describe(self, error: BaseException, attempts: int) -> str:
        return describe_failure(error, spec=self.spec, base_url=self._base_url, request_model=self._request_model,
                                timeout_s=self.timeout_s, attempts=attempts, api_key=self._api_key)

    def _log(self, call_id: str, role: str, key: str, messages: tuple[ChatMessage, ...], params: SamplingParams,
             indices: list[int], *, latency: float, cache: str, retries: int, error: str | None = None,
             texts: Sequence[str] = (), reasons: Sequence[str] = (), prompt_tokens: int = 0,
             completion_tokens: int = 0, reasoning_tokens: int = 0, cached_prompt_tokens: int = 0,
             reasoning_content: Sequence[str | None] = (), truncated: Sequence[int] = (),
             cost: float | None = None, sent: dict[str, Any] | None = None, batch_id: str | None = None) -> None:
        if self._call_log is None:
            return
        record_params: dict[str, Any] = params.to_json()
        if sent is not None:
            record_params["sent_n"] = sent.get("n", 1)
            record_params["sent_seed"] = sent.get("seed")
            if "temperature" not in sent:
                record_params["sent_temperature"] = None  # the model refuses one
        self._call_log.record(CallRecord(
            call_id=call_id, role=role, model=self.spec, request_hash=key, params=record_params,
            messages=[m.to_json() for m in messages], replies=list(texts), finish_reasons=list(reasons),
            usage={"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
            cost_usd=cost, latency_s=round(latency, 6), cache=cache, retries=retries, error=error,
            sample_indices=indices, reasoning_tokens=reasoning_tokens, cached_prompt_tokens=cached_prompt_tokens,
            reasoning_content=list(reasoning_content) if any(r is not None for r in reasoning_content) else [],
            truncated=list(truncated), batch_id=batch_id))
