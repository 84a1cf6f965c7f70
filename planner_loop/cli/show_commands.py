"""CLI command ``show``: summarise a run's episodes, or print one episode's transcript.

Episodes are listed in the config's condition order, then by instance in natural order
(``instance-2`` before ``instance-10``) and seed. Text cut for the terminal is marked with "…".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

PROMPT_CHARS = 1500
CRITIC_CHARS = 2000
ELLIPSIS = "…"


def register(app: typer.Typer) -> None:
    """Add ``show`` to the main app."""
    app.command("show")(show_command)


def show_command(
    run_dir: Annotated[Path, typer.Argument(help="a run directory")],
    episode: Annotated[Optional[str], typer.Argument(help="episode key (or a unique part of it)")] = None,
    condition: Annotated[Optional[list[str]], typer.Option(
        "--condition", help="only this condition (repeatable)")] = None,
    false_positives: Annotated[bool, typer.Option(
        "--false-positives", help="only episodes where the critic called an invalid plan valid")] = False,
    invalid: Annotated[bool, typer.Option("--invalid", help="only episodes whose final plan is invalid")] = False,
) -> None:
    """Summarise a run's episodes, or print one episode's transcript."""
    from rich.console import Console

    from planner_loop.errors import ConfigError
    from planner_loop.runs import RunStore

    store = RunStore(run_dir)
    manifest = store.manifest()
    order = condition_order(manifest)
    records = sort_records(store.episodes(), order)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 120))   # files and pipes: no squeezed columns
    console.print(f"run directory: {run_dir.resolve()}", soft_wrap=True, highlight=False)
    if condition:
        unknown = sorted(set(condition) - {r["condition"] for r in records})
        if unknown:
            known = ", ".join(dict.fromkeys(r["condition"] for r in records))
            raise ConfigError(f"no condition {', '.join(map(repr, unknown))} in {run_dir} (conditions: {known})")
    chosen = filter_records(records, conditions=condition, false_positives=false_positives, invalid=invalid)
    if episode is None:
        _summary(console, manifest, chosen, order, total=len(records))
        return
    matches = [r for r in chosen if r["key"] == episode] or [r for r in chosen if episode in r["key"]]
    if not matches:
        raise ConfigError(f"no episode {episode!r} in {run_dir} ({len(chosen)} episodes match the filters)")
    if len(matches) > 1:
        keys = ", ".join(r["key"] for r in matches[:5])
        raise ConfigError(f"{episode!r} matches {len(matches)} episodes ({keys}, ...); give the full key")
    _transcript(console, matches[0])


def condition_order(manifest: Mapping[str, Any]) -> list[str]:
    """Condition names in the order the experiment config lists them."""
    config = manifest.get("config") or {}
    return [str(c.get("name")) for c in config.get("conditions", []) if isinstance(c, Mapping)]


def sort_records(records: Sequence[dict[str, Any]], order: Sequence[str]) -> list[dict[str, Any]]:
    """Config condition order, then natural instance order, then seed."""
    from planner_loop.analysis.records import natural_key

    rank = {name: index for index, name in enumerate(order)}

    def key(record: Mapping[str, Any]) -> tuple[Any, ...]:
        instance = record.get("instance") or {}
        name = str(record.get("condition"))
        return (rank.get(name, len(rank)), natural_key(name), natural_key(str(instance.get("id", ""))),
                int(record.get("seed") or 0), natural_key(str(record.get("key"))))

    return sorted(records, key=key)


def has_critic(record: Mapping[str, Any]) -> bool:
    return (record.get("verifier") or {}).get("kind") == "llm"


def is_false_positive(record: Mapping[str, Any]) -> bool:
    """Some round's LLM-critic verdict said valid on a plan the sound validator rejects."""
    return has_critic(record) and any(
        (r.get("verdict") or {}).get("valid") is True and not (r.get("ground_truth") or {}).get("valid")
        for r in record.get("rounds") or ())


def filter_records(records: Sequence[dict[str, Any]], *, conditions: Sequence[str] | None, false_positives: bool,
                   invalid: bool) -> list[dict[str, Any]]:
    chosen = list(records)
    if conditions:
        chosen = [r for r in chosen if r["condition"] in set(conditions)]
    if false_positives:
        chosen = [r for r in chosen if is_false_positive(r)]
    if invalid:
        chosen = [r for r in chosen if not r["final"]["valid"]]
    return chosen


def clip(text: str, limit: int, *, keep: str = "end") -> str:
    """At most ``limit`` characters, cut at a word boundary, the cut marked with "…"."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if keep == "end":
        part = text[-limit:]
        space = part.find(" ")
        if 0 <= space < limit // 4:
            part = part[space + 1:]
        return ELLIPSIS + part
    part = text[:limit]
    space = part.rfind(" ")
    if space > limit * 3 // 4:
        part = part[:space]
    return part + ELLIPSIS


def _mark(value: Any) -> str:
    return {True: "[green]yes[/]", False: "[red]no[/]", None: "[yellow]?[/]"}.get(value, str(value))


def _summary(console: Any, manifest: Mapping[str, Any], records: list[dict[str, Any]], order: Sequence[str], *,
             total: int) -> None:
    from rich import box
    from rich.table import Table

    shown = f"{len(records)} of {total}" if len(records) != total else str(total)
    table = Table(title=f"{manifest.get('name')}  ({shown} episodes, config {manifest.get('config_hash')})",
                  box=box.SIMPLE_HEAD)
    critic_column = any(has_critic(r) for r in records)
    columns = ["system", "rounds", "termination", "accepted", "valid"] + (["critic"] if critic_column else [])
    table.add_column("episode", no_wrap=True)
    for column in columns:
        table.add_column(column, no_wrap=True, min_width=len(column))
    for record in records:
        final = record["final"]
        cells = [record["key"], record["system"], str(len(record["rounds"])), record["termination"],
                 _mark(final["accepted"]), _mark(final["valid"])]
        if critic_column:
            cells.append(_mark(final.get("critic_valid")) if has_critic(record) else "—")
        table.add_row(*cells)
    console.print(table)
    by_condition: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_condition.setdefault(record["condition"], []).append(record)
    names = [n for n in order if n in by_condition] + [n for n in by_condition if n not in order]
    for name in names:
        group = by_condition[name]
        valid = sum(bool(r["final"]["valid"]) for r in group)
        console.print(f"{name}: {valid}/{len(group)} valid final plans, "
                      f"mean rounds {sum(len(r['rounds']) for r in group) / len(group):.2f}", highlight=False)


def _sizes(instance: Mapping[str, Any]) -> str:
    sizes = instance.get("sizes") or ({"blocks": instance["blocks"]} if instance.get("blocks") is not None else {})
    return ", ".join(f"{name} {value}" for name, value in sizes.items()) or "size unknown"


def _new_turns(previous: Sequence[Mapping[str, Any]] | None, previous_reply: str | None,
               messages: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The messages of this round that the previous round's request and reply did not already hold."""
    if previous is None:
        return list(messages)
    before = [*previous, {"role": "assistant", "content": previous_reply or ""}]
    common = 0
    while common < min(len(before), len(messages)) and before[common].get("content") == messages[common].get("content"):
        common += 1
    return list(messages[common:])


def _transcript(console: Any, record: dict[str, Any]) -> None:
    from rich.panel import Panel
    from rich.text import Text

    instance = record["instance"]
    verifier = record.get("verifier") or {}
    conversation = record.get("context_policy") == "conversation"
    console.print(f"[bold]{record['key']}[/]  system {record['system']}  verifier {verifier.get('kind')} "
                  f"(feedback {verifier.get('feedback')}"
                  + (f", critic {verifier.get('critic_model')} {verifier.get('critic_mode')}, stepwise "
                     f"{verifier.get('stepwise')}, votes {verifier.get('votes')}" if has_critic(record) else "")
                  + f")  generator {record.get('generator_model')}  context {record.get('context_policy')}")
    console.print(f"instance {instance.get('id')} ({instance.get('set')}, {instance.get('problem')}), "
                  f"{_sizes(instance)}, optimal length {instance.get('optimal_length')}; seed {record.get('seed')}")
    previous: Sequence[Mapping[str, Any]] | None = None
    previous_reply: str | None = None
    for item in record["rounds"]:
        truth = item.get("ground_truth") or {}
        verdict = item.get("verdict") or {}
        messages = item.get("messages") or []
        lines = Text()
        if conversation:
            for turn in _new_turns(previous, previous_reply, messages):
                lines.append(f"{turn.get('role')}:\n", style="bold")
                lines.append(str(turn.get("content", "")).strip() + "\n\n")
        elif item["round"] == 1 and messages:
            lines.append("prompt (last message):\n", style="bold")
            lines.append(clip(messages[-1]["content"], PROMPT_CHARS) + "\n\n")
        elif messages:
            lines.append("to the generator:\n", style="bold")
            lines.append(messages[-1]["content"].strip() + "\n\n")
        previous, previous_reply = messages, item.get("reply")
        lines.append("reply:\n", style="bold")
        lines.append(str(item.get("reply") or "").strip() + "\n\n")
        if item.get("plan") is None:
            lines.append(f"no plan read: {item.get('parse_error')}\n", style="red")
        else:
            lines.append("plan: ", style="bold")
            lines.append(" ".join(item["plan"]) + "\n")
        lines.append("verdict: ", style="bold")
        lines.append({True: "valid", False: "invalid", None: "none / unreadable"}[verdict.get("valid")] + "\n")
        detail = verdict.get("detail") or {}
        votes = detail.get("votes", [])
        for number, vote in enumerate(votes, start=1):
            label = f"critic reply {number} ({vote['reading']}, {vote['valid']})" if len(votes) > 1 else (
                f"critic reply ({vote['reading']})")
            lines.append(label + ":\n", style="bold")
            lines.append(clip(vote["text"], CRITIC_CHARS) + "\n")
        if detail.get("error"):
            lines.append(f"verifier error: {detail['error']}\n", style="red")
        if verdict.get("feedback"):
            lines.append("feedback: ", style="bold")
            lines.append(verdict["feedback"] + "\n")
        lines.append("ground truth: ", style="bold")
        if truth.get("valid"):
            lines.append("valid\n", style="green")
        else:
            parts = []
            if truth.get("failed_step") is not None:
                parts.append(f"step {truth['failed_step']} {truth.get('action')} unmet "
                             f"{' '.join(truth.get('unmet_preconditions') or []) or '-'}")
            if truth.get("unmet_goals"):
                parts.append("unmet goals " + " ".join(truth["unmet_goals"]))
            parts += [f"{e['kind']}: {e['message']}" for e in truth.get("errors") or []]
            lines.append("invalid (" + "; ".join(parts) + ")\n", style="red")
        console.print(Panel(lines, title=f"round {item['round']}", expand=True))
    final = record["final"]
    critic = f", critic {_mark(final.get('critic_valid'))}" if has_critic(record) else ""
    console.print(f"termination [bold]{record['termination']}[/]"
                  + (f" ({record['error']})" if record.get("error") else "")
                  + f"; final plan valid {_mark(final['valid'])}, accepted {_mark(final['accepted'])}{critic}")
