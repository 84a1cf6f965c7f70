"""CLI commands of the LLM layer: ``models check MODEL``, ``cache stats|clear|check|repair``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from planner_loop.llm.cache import ResponseCache

CacheOption = Annotated[
    Path | None,
    typer.Option("--cache", help="Response cache file (default: $PLANNER_LOOP_CACHE or "
                                 "~/.cache/planner-loop/responses.sqlite)."),
]


def register(app: typer.Typer) -> None:
    """Add the ``models`` and ``cache`` command groups to the main app."""
    models_app = typer.Typer(help="Check model endpoints.", no_args_is_help=True)
    cache_app = typer.Typer(help="Inspect or clear the response cache.", no_args_is_help=True)
    models_app.command("check")(check)
    cache_app.command("stats")(stats)
    cache_app.command("clear")(clear)
    cache_app.command("check")(check_cache_command)
    cache_app.command("repair")(repair_cache_command)
    app.add_typer(models_app, name="models")
    app.add_typer(cache_app, name="cache")


def check(
    model: Annotated[str, typer.Argument(help="Model spec: local, local:PATH, openai:MODEL, openai:MODEL@URL.")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the reply.")] = 60.0,
) -> None:
    """One short round trip (no cache): print the reply, latency and token counts; exit 2 on failure."""
    from planner_loop.llm import ChatMessage, RetryPolicy, SamplingParams, open_model

    async def round_trip() -> None:
        chat = open_model(model, cache=None, call_log=None, concurrency=1, timeout_s=timeout, role="check",
                          retry=RetryPolicy(max_attempts=2, initial_s=0.2, max_rate_limited_attempts=2))
        try:
            [reply] = await chat.complete([ChatMessage("user", "Reply with the single word: ready")],
                                          SamplingParams(max_tokens=16))
        finally:
            await chat.aclose()
        typer.echo(f"model:   {model}")
        typer.echo(f"reply:   {reply.text.strip()!r} (finish: {reply.finish_reason})")
        typer.echo(f"latency: {reply.latency_s:.3f} s")
        typer.echo(f"tokens:  {reply.prompt_tokens} prompt, {reply.completion_tokens} completion")

    asyncio.run(round_trip())


def _open_cache(path: Path | None) -> ResponseCache:
    import os

    from planner_loop.llm.cache import ResponseCache, default_cache_path

    return ResponseCache(path if path is not None else default_cache_path(os.environ))


def stats(cache: CacheOption = None) -> None:
    """Entries, size on disk and entries per model."""
    from planner_loop.llm.cache import CacheError

    path = _cache_path(cache)
    blocker = next((parent for parent in path.parents if parent.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise CacheError(f"no response cache file here ({blocker} is a file, not a folder)", source=path)
    if not path.exists():   # nothing cached yet: say so, and create nothing
        typer.echo(f"cache:   {path} (no cache file yet)")
        typer.echo("entries: 0")
        return
    store = _open_cache(cache)
    with store:
        summary = store.stats()
    typer.echo(f"cache:   {summary.path}")
    typer.echo(f"entries: {summary.entries}")
    typer.echo(f"size:    {summary.size_bytes / 1e6:.2f} MB")
    for name, count in summary.by_model.items():
        typer.echo(f"  {count:8d}  {name}")


def clear(cache: CacheOption = None) -> None:
    """Delete every cached response."""
    from planner_loop.llm.cache import CacheError

    if not _cache_path(cache).exists():
        raise CacheError("no response cache file here", source=_cache_path(cache))
    store = _open_cache(cache)
    with store:
        removed = store.clear()
    typer.echo(f"removed {removed} entries from {store.path}")


def _cache_path(path: Path | None) -> Path:
    import os

    from planner_loop.llm.cache import default_cache_path

    return (path if path is not None else default_cache_path(os.environ)).expanduser()


def check_cache_command(cache: CacheOption = None) -> None:
    """Check the cache file (sqlite integrity, every entry readable); exit 1 when it is damaged."""
    from planner_loop.llm.cache_health import check_cache

    health = check_cache(_cache_path(cache))
    typer.echo(f"cache:   {health.path}")
    typer.echo(f"entries: {health.entries}")
    if health.ok:
        typer.echo("status:  ok")
        return
    for problem in health.problems:
        typer.echo(f"problem: {problem}")
    typer.echo(f"run `planner-loop cache repair --cache {health.path}` to keep what still reads")
    raise typer.Exit(1)


def repair_cache_command(cache: CacheOption = None) -> None:
    """Rebuild the cache from every entry that still reads; the damaged file is kept beside it."""
    from planner_loop.llm.cache_health import repair_cache

    report = repair_cache(_cache_path(cache))
    typer.echo(f"cache:   {report.path}")
    typer.echo(f"kept {report.kept} entries, dropped {report.dropped}; damaged file kept as {report.damaged_copy}")
