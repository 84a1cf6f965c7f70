"""What the LLM layer does to text before anyone else sees it: normalise, bound, redact.

- :func:`clean_text` replaces lone UTF-16 surrogates (which no UTF-8 file or sqlite row can hold)
  with U+FFFD, so a reply can always be logged, cached and replayed.
- :func:`bound_reply` cuts a reply longer than :data:`MAX_REPLY_CHARS` and appends
  :data:`TRUNCATION_MARKER`, so no reader downstream ever gets more than about 1 MB of text.
- :func:`redact` removes credentials from a message: URL userinfo, ``Authorization`` values,
  key-like tokens and any secret passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_REPLY_CHARS = 1_000_000
"""Replies longer than this many characters are cut (and the cut is recorded)."""
TRUNCATION_MARKER = "\n[planner-loop: reply truncated at 1,000,000 characters]"

_SURROGATE = re.compile("[\ud800-\udfff]")
_URL_USERINFO = re.compile(r"(//)[^/\s@]*@")  # any "//userinfo@", even after a mangled scheme
_AUTH_VALUE = re.compile(r"(?i)\b(authorization\s*[:=]\s*(?:bearer\s+|basic\s+)?|bearer\s+|api[_-]?key\s*[:=]\s*)[^\s,;'\"}]+")
_KEYLIKE = re.compile(r"\b(sk|key|tok)-[A-Za-z0-9_\-*.]{4,}")


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (unchanged, and fast, when there is none)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def bound_reply(text: str) -> tuple[str, bool]:
    """(the reply cut to :data:`MAX_REPLY_CHARS` plus the marker, whether it was cut)."""
    if len(text) <= MAX_REPLY_CHARS:
        return text, False
    return text[:MAX_REPLY_CHARS] + TRUNCATION_MARKER, True


def safe_reply(text: str) -> tuple[str, bool]:
    """:func:`clean_text` then :func:`bound_reply`: the form every reply is stored and returned in."""
    return bound_reply(clean_text(text))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with URL userinfo, Authorization/Bearer/api_key values, key-like tokens and ``secrets`` masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _URL_USERINFO.sub(r"\1***@", text)
    text = _AUTH_VALUE.sub(r"\1***", text)
    return _KEYLIKE.sub(r"\1-***", text)
