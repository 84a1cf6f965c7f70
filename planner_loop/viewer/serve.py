"""Serve a built viewer on 127.0.0.1 (a free port unless one is given) until interrupted."""

from __future__ import annotations

import errno
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from planner_loop.errors import UserInputError


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:   # noqa: A002 - the base class's name
        return


def make_server(site: Path, port: int = 0) -> ThreadingHTTPServer:
    """A server for ``site`` bound to 127.0.0.1:``port`` (0: any free port); not started."""
    handler = partial(_QuietHandler, directory=str(site))
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as error:
        reason = "already in use" if error.errno == errno.EADDRINUSE else (error.strerror or str(error))
        raise UserInputError(f"--port {port}: cannot serve on 127.0.0.1:{port} ({reason})") from None


def serve(site: Path, port: int = 0, *, announce: Callable[[str], None] = print,
          server: ThreadingHTTPServer | None = None) -> None:
    """Serve ``site`` (or run ``server``, made by :func:`make_server`) and print its address; returns on Ctrl-C."""
    server = server if server is not None else make_server(site, port)
    host, bound = server.server_address[:2]
    announce(f"viewer: http://{host}:{bound}/  (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
