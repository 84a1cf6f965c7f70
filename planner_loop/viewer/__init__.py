"""The run viewer: report tables whose cells open the episodes behind them, a filterable episode list
and round-by-round transcripts with the state after each step. Built as static files (``build_site``)
that work from ``file://`` or through ``serve``; every script and style ships in this package."""

from __future__ import annotations

from planner_loop.viewer.build import Site, build_site
from planner_loop.viewer.serve import make_server, serve

__all__ = ["Site", "build_site", "make_server", "serve"]
