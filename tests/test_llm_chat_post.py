"""ChatPoster (the aiohttp hot path) fails exactly as the ``openai`` client would on the same reply."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import openai
import pytest

from planner_loop.llm.chat_post import ChatPoster
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.llm.openai_wire import describe_failure
from planner_loop.llm.retry import GarbledReplyError, is_quota_error, is_rate_limited, retry_after_s

BODY = {"model": "fake", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}


def _client(base_url: str, timeout: float = 5.0) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="sk-test", base_url=base_url, max_retries=0, timeout=timeout,
                              http_client=openai.DefaultAioHttpClient(trust_env=False))


async def _both(base_url: str, timeout: float = 5.0) -> tuple[Any, Any]:
    """(what ``client.post`` raised or returned, what ChatPoster raised or returned) for BODY."""
    client = _client(base_url, timeout)
    poster = ChatPoster(client, timeout_s=timeout, trust_env=False)
    outcomes: list[Any] = []
    try:
        for send in (lambda: client.post("/chat/completions", body=BODY, cast_to=object),
                     lambda: poster.post(BODY)):
            try:
                outcomes.append(await send())
            except Exception as error:  # compared below, whatever it is
                outcomes.append(error)
    finally:
        await poster.aclose()
        await client.close()
    return outcomes[0], outcomes[1]


@pytest.mark.parametrize("fault", ["400", "401", "404", "429", "quota", "500", "503"])
def test_status_errors_match_the_openai_client(fault: str) -> None:
    with FakeOpenAIServer(faults=[fault, fault]) as server:
        theirs, ours = asyncio.run(_both(server.base_url))
    assert isinstance(theirs, openai.APIStatusError), theirs
    assert type(ours) is type(theirs)
    assert (ours.status_code, ours.message, ours.body) == (theirs.status_code, theirs.message, theirs.body)
    assert is_rate_limited(ours) == is_rate_limited(theirs)
    assert is_quota_error(ours) == is_quota_error(theirs)
    assert retry_after_s(ours) == retry_after_s(theirs)
    described = {describe_failure(e, spec="openai:fake", base_url=server.base_url, request_model="fake",
                                  timeout_s=5, attempts=1, api_key="sk-test") for e in (ours, theirs)}
    assert len(described) == 1 and "sk-test" not in described.pop()


def test_a_reply_is_the_same_json_and_sends_the_same_key() -> None:
    with FakeOpenAIServer(lambda request: "ok", api_key="sk-test") as server:
        theirs, ours = asyncio.run(_both(server.base_url))
        assert server.authorizations == ["Bearer sk-test", "Bearer sk-test"]
    assert isinstance(ours, dict)
    assert ours["choices"] == theirs["choices"] and ours["choices"][0]["message"]["content"] == "ok"


def test_a_body_that_is_not_json_is_garbled() -> None:
    with FakeOpenAIServer(faults=["malformed"]) as server:
        client = _client(server.base_url)

        async def post() -> None:
            poster = ChatPoster(client, timeout_s=5, trust_env=False)
            try:
                await poster.post(BODY)
            finally:
                await poster.aclose()
                await client.close()

        with pytest.raises(GarbledReplyError, match="not JSON"):
            asyncio.run(post())


@pytest.mark.parametrize("fault", ["hang", "truncated"])
def test_no_reply_is_a_connection_error(fault: str) -> None:
    with FakeOpenAIServer(faults=[fault, fault]) as server:
        theirs, ours = asyncio.run(_both(server.base_url, timeout=0.5))
    assert isinstance(theirs, openai.APIConnectionError), theirs
    assert isinstance(ours, openai.APIConnectionError)
    assert isinstance(ours, openai.APITimeoutError) == isinstance(theirs, openai.APITimeoutError) == (fault == "hang")


def test_a_refused_connection_names_the_socket_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    url = f"http://127.0.0.1:{port}/v1"
    theirs, ours = asyncio.run(_both(url))
    messages = [describe_failure(e, spec="openai:x", base_url=url, request_model="x", timeout_s=5, attempts=1,
                                 api_key=None) for e in (theirs, ours)]
    assert isinstance(ours, openai.APIConnectionError) and not isinstance(ours, openai.APITimeoutError)
    for message in messages:
        assert "endpoint unreachable" in message and "refused" in message.lower(), message


def test_the_request_body_arrives_intact() -> None:
    seen: list[dict[str, Any]] = []

    def responder(request: dict[str, Any]) -> str:
        seen.append(json.loads(json.dumps(request)))
        return "ok"

    body = {**BODY, "messages": [{"role": "user", "content": "Stapel \u00e9 \u2192 \U0001f9f1"}]}
    with FakeOpenAIServer(responder) as server:
        client = _client(server.base_url)

        async def post() -> dict[str, Any]:
            poster = ChatPoster(client, timeout_s=5, trust_env=False)
            try:
                return await poster.post(body)
            finally:
                await poster.aclose()
                await client.close()

        asyncio.run(post())
    assert seen[0]["messages"] == body["messages"] and seen[0]["max_tokens"] == 8
