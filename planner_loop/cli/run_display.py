"""What ``planner-loop run`` shows while it runs: a live bar on a terminal, plain periodic lines elsewhere."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from planner_loop.run_meter import RunProgress

if TYPE_CHECKING:
    from planner_loop.llm.batch import BatchStatus


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def span(seconds: float) -> str:
    """A short duration: ``42s``, ``3m10s``, ``2h05m``."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def batch_text(batches: Sequence[BatchStatus]) -> str:
    """The pending batches in a few words, e.g. ``batch in_progress: 120/512 done, 0 failed, waiting 3m10s``."""
    if not batches:
        return ""
    if len(batches) == 1:
        head = f"batch {batches[0].status}"
    else:
        states = Counter(b.status for b in batches)
        head = f"{len(batches)} batches ({', '.join(f'{n} {status}' for status, n in states.most_common())})"
    total = sum(b.total for b in batches)
    counts = (f": {sum(b.completed for b in batches)}/{total} done, {sum(b.failed for b in batches)} failed,"
              if total else ",")
    longest = max(b.waiting_s for b in batches)
    return f"{head}{counts} waiting {'up to ' if len(batches) > 1 else ''}{span(longest)}"


def money(value: float | None) -> str:
    return "cost unknown" if value is None else f"${value:,.4f}"


def cost_text(known_usd: float | None, unpriced: tuple[str, ...]) -> str:
    """Dollars spent, or "cost unknown" naming the models without a price (and what the priced ones cost)."""
    if not unpriced:
        return money(known_usd or 0.0)
    priced = f"; {money(known_usd)} for the priced models" if known_usd else ""
    return f"cost unknown (no price for {', '.join(unpriced)}: give one with --prices FILE{priced})"


def status_text(state: RunProgress) -> str:
    """One line: episodes (per condition), calls, tokens, retries, 429s, cost, ETA, and pending batches."""
    conditions = ", ".join(f"{name} {done}/{total}" for name, (done, total) in state.by_condition.items())
    batches = f"; {batch_text(state.batches)}" if state.batches else ""
    return (f"{state.done}/{state.total} episodes ({conditions}); accepted {state.accepted}, valid {state.valid}; "
            f"{state.calls} calls, {state.tokens:,} tokens, {state.retries} retries, {state.rate_limited} 429s; "
            f"{cost_text(state.cost_usd, state.unpriced)}; elapsed {_clock(state.elapsed_s)}, ETA {_clock(state.eta_s)}"
            f"{batches}")


class RunDisplay:
    """Progress for a person: a rich bar on a terminal, else a plain line every ``every_s`` seconds."""

    def __init__(self, console: Any, name: str, *, every_s: float) -> None:
        self.console = console
        self.name = name
        self.every_s = every_s
        self.live = bool(console.is_terminal)
        self._last_line = 0.0
        self._bar: Any = None
        self._task: Any = None
        self.last: RunProgress | None = None

    def update(self, state: RunProgress) -> None:
        self.last = state
        if not self.live:
            now = time.monotonic()
            if now - self._last_line >= self.every_s:
                self._last_line = now
                self.console.print(f"[{time.strftime('%H:%M:%S')}] {self.name}: {status_text(state)}",
                                   soft_wrap=True, highlight=False, markup=False)
            return
        if self._bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[status]}"), console=self.console, transient=False)
            self._task = self._bar.add_task(self.name, total=state.total, status="")
            self._bar.start()
        conditions = " ".join(f"{n} {d}/{t}" for n, (d, t) in state.by_condition.items())
        batches = f" · {batch_text(state.batches)}" if state.batches else ""
        self._bar.update(self._task, total=state.total, completed=state.done,
                         status=f"{conditions} · calls {state.calls} · retries {state.retries} · "
                                f"429s {state.rate_limited} · {cost_text(state.cost_usd, state.unpriced)} · "
                                f"ETA {_clock(state.eta_s)}{batches}")

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
