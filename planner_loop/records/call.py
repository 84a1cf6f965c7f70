"""The record of one model call: one line of ``runs/<run>/calls.jsonl``.

Written by :class:`planner_loop.llm.calls.CallLog` for every HTTP request (or Batch API item) that
produced replies, every cache hit and every call that failed for good. Never holds a credential.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CacheUse = Literal["read", "write", "off", "replay", "read-write"]


class CallRecord(BaseModel):
    """One model call, as written to ``calls.jsonl`` (unknown fields of newer writers are ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    call_id: str = Field(description="Derived from the request key, so a replayed run writes the same ids.")
    role: str = Field(description="Who asked: generator, critic, check, ...")
    model: str = Field(description="The model spec as the user gave it.")
    request_hash: str = Field(description="The response-cache key of the first sample of the call.")
    params: dict[str, Any] = Field(description="Sampling parameters, plus sent_n and sent_seed actually sent.")
    messages: list[dict[str, Any]] = Field(description="The chat messages sent ({role, content}, plus tool_calls "
                                                       "or tool_call_id in function-calling turns).")
    replies: list[str] = Field(description="Reply texts (normalised, bounded), one per sample in sample_indices.")
    finish_reasons: list[str] = Field(description="The endpoint's finish_reason per reply.")
    usage: dict[str, int] = Field(description="prompt_tokens and completion_tokens as billed for this request.")
    cost_usd: float | None = Field(description="Dollars for this request; null only when the model has no price.")
    latency_s: float = Field(description="Wall time from first attempt to reply (cache lookup time for hits).")
    cache: CacheUse = Field(description="read or replay (a cache hit), write (asked and stored), off (not "
                                                 "cached); on a failed call, the cache mode.")
    retries: int = Field(description="Failed attempts before the reply (or before giving up).")
    error: str | None = Field(default=None, description="Why the call failed for good (redacted); null on success.")
    sample_indices: list[int] = Field(default_factory=list, description="Which samples of an n-sample call these are.")
    time: float = Field(default_factory=time.time, description="Unix time the record was written.")
    reasoning_tokens: int = Field(default=0, description="Reasoning tokens (part of completion_tokens).")
    cached_prompt_tokens: int = Field(default=0, description="Prompt tokens served from the provider's "
                                                             "prefix cache (part of prompt_tokens).")
    reasoning_content: list[str | None] = Field(
        default_factory=list, description="A server's separate reasoning text per reply (vLLM, DeepSeek); "
                                          "never part of the reply text.")
    truncated: list[int] = Field(default_factory=list, description="Sample indices whose reply was cut at "
                                                                   "the 1,000,000-character cap.")
    batch_id: str | None = Field(default=None, description="The Batch API job that answered, if any.")

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to ``calls.jsonl``."""
        return self.model_dump(mode="json")
