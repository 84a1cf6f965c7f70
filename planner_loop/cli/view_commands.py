"""CLI command ``view``: browse runs in a web page (served on 127.0.0.1, or written as static files)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    """Add ``view`` to the main app."""
    app.command("view")(view_command)


def view_command(
    run_dirs: Annotated[list[Path], typer.Argument(help="one or more run directories")],
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="write the viewer here (open index.html from disk) instead of serving a temporary copy")] = None,
    port: Annotated[Optional[int], typer.Option(
        "--port", min=0, max=65535, help="serve on this port of 127.0.0.1 (default: a free one); with --out, serve it too")] = None,
) -> None:
    """Browse runs: tables whose cells open their episodes, a filterable episode list, transcripts."""
    import tempfile
    from http.server import ThreadingHTTPServer

    from planner_loop.viewer import Site, build_site, make_server, serve

    def build(folder: Path, server: ThreadingHTTPServer | None) -> Site:
        try:
            return build_site(run_dirs, folder)
        except BaseException:
            if server is not None:
                server.server_close()
            raise

    if out is not None:
        server = make_server(out, port) if port is not None else None   # a busy --port is refused before writing
        site = build(out, server)
        typer.echo(f"viewer: {site.index.resolve()}  ({site.episodes} episodes, {site.chunks} chunk files)")
        if server is not None:
            serve(out, announce=typer.echo, server=server)
        return
    with tempfile.TemporaryDirectory(prefix="planner-loop-view-") as folder:
        server = make_server(Path(folder), port or 0)
        site = build(Path(folder), server)
        typer.echo(f"{site.episodes} episodes from " + ", ".join(str(d) for d in run_dirs))
        serve(Path(folder), announce=typer.echo, server=server)
