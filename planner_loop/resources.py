"""Where the built-in data (domains, problem sets, experiments) lives: a checkout or an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def builtin_dir(kind: str) -> Path:
    """Return the directory of built-in ``kind`` data (``domains``, ``problems`` or ``experiments``).

    In a wheel the data sits in ``planner_loop/_builtin/<kind>``; in a checkout (editable install)
    it is the top-level ``<kind>/`` folder beside the package.
    """
    if kind not in {"domains", "problems", "experiments"}:
        raise ValueError(f"unknown built-in data kind {kind!r}")
    installed = _PACKAGE_DIR / "_builtin" / kind
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / kind
