"""The hot path of a chat call: one POST to ``/chat/completions`` on a shared aiohttp session.

The ``openai`` client spends about 0.75 ms of CPU a call building and unwrapping its request objects
(URL parsing, header merging, option models), which at 500 calls/s is most of one core;
``benchmarks/llm_overhead.py`` measured 1.1 ms a call through ``client.post`` against 0.35 ms for
the same POST on aiohttp. :class:`ChatPoster` sends the very request the client would (its URL, its
default and auth headers) and raises the client's own exception classes, built the way the client
builds them, so retries and failure messages do not depend on which path sent a request. The
``openai`` client stays in charge of everything else (the Batch API's files and batches).
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import aiohttp
import openai

from planner_loop.llm.retry import GarbledReplyError

# The HTTP library the installed openai client is built on (httpx for openai 1.x, httpx2 later): its
# exceptions carry that library's Request and Response objects.
_HTTP = importlib.import_module(openai.DefaultAsyncHttpxClient.__mro__[1].__module__.partition(".")[0])

_STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError, 401: openai.AuthenticationError, 403: openai.PermissionDeniedError,
    404: openai.NotFoundError, 409: openai.ConflictError, 422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}


def status_error(status: int, headers: list[tuple[str, str]], content: bytes, request: Any) -> openai.APIStatusError:
    """The ``openai`` exception for an HTTP error reply: its class by status, ``body`` the JSON error
    object (or the text), the message ``Error code: N - <error message>``."""
    response = _HTTP.Response(status, headers=headers, content=content, request=request)
    text = response.text.strip()
    body: object = text
    message = f"Error code: {status}"
    try:
        body = json.loads(text)
    except ValueError:
        pass
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"]:
        message += f" - {error['message']}"
    kind = _STATUS_ERRORS.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
    return kind(message, response=response, body=error)


class ChatPoster:
    """POSTs chat completion bodies for one ``openai`` client (same URL and headers) on one aiohttp
    session; ``trust_env`` takes proxies from the environment. Create and use it in one event loop."""

    def __init__(self, client: openai.AsyncOpenAI, *, timeout_s: float, trust_env: bool) -> None:
        self.url = str(client.base_url).rstrip("/") + "/chat/completions"
        headers = {**client.default_headers, **client.auth_headers}
        self._headers = {name: value for name, value in headers.items() if isinstance(value, str)}
        self._request = _HTTP.Request("POST", self.url)
        # limit=0: the model's adaptive limiter, not the pool, bounds the requests in flight; the
        # certificates are the ones the openai client verifies with (certifi, or SSL_CERT_FILE)
        connector = aiohttp.TCPConnector(limit=0, ssl=_HTTP.create_ssl_context(trust_env=trust_env))
        self._session = aiohttp.ClientSession(connector=connector, trust_env=trust_env,
                                              timeout=aiohttp.ClientTimeout(total=timeout_s))

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """The reply's JSON object; raises ``openai.APIStatusError`` (by status),
        ``openai.APITimeoutError``, ``openai.APIConnectionError`` or :class:`GarbledReplyError`."""
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            async with self._session.post(self.url, data=data, headers=self._headers) as response:
                content = await response.read()
                status = response.status
                if status >= 400:
                    raise status_error(status, list(response.headers.items()), content, self._request)
        except TimeoutError as error:  # aiohttp's timeouts are TimeoutError subclasses
            raise openai.APITimeoutError(request=self._request) from error
        except aiohttp.ClientError as error:
            raise openai.APIConnectionError(request=self._request) from error
        try:
            reply = json.loads(content)
        except ValueError as error:
            raise GarbledReplyError(f"reply body is not JSON ({error})") from error
        if not isinstance(reply, dict):
            raise GarbledReplyError("reply body is not a JSON object")
        return reply

    async def aclose(self) -> None:
        """Close the session and its connections."""
        await self._session.close()
