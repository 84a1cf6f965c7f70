"""The CLI called in-process as the console script would run it, and the shape of its one-line refusal."""

from __future__ import annotations

import sys

import pytest

from planner_loop.cli.main import run as cli_run


def call_cli(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run ``planner-loop ARGS``; returns (exit code, stderr + stdout)."""
    monkeypatch.setattr(sys, "argv", ["planner-loop", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli_run()
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.err + captured.out


def one_line(output: str) -> str:
    """Our own refusal: exactly one line, ``planner-loop: error: ...``, and no traceback."""
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("planner-loop: error: "), lines[0]
    return lines[0]
