"""inspect_ai eval logs of a run: one log per condition, one sample per episode, messages per round.

Built with inspect_ai's own log types (``EvalLog``/``EvalSample``) and written with its
``write_eval_log`` as JSON logs, so ``read_eval_log`` loads them and ``inspect view`` opens them.
Scores per sample: ``ground_truth`` (the sound validator on the final plan: ``C``/``I``) and, for
LLM-critic conditions, ``critic`` (the critic's verdict on it: ``C`` valid, ``I`` invalid, ``N``
unreadable). Ids, times and uuids come from the run itself, so the same run gives the same files.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from inspect_ai.log import (
    EvalConfig,
    EvalDataset,
    EvalLog,
    EvalMetric,
    EvalResults,
    EvalSample,
    EvalScore,
    EvalSpec,
    write_eval_log,
)
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    ModelOutput,
)
from inspect_ai.scorer import Score

EPOCH_TIME = "1970-01-01T00:00:00+00:00"


def _id(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:22]


def _message(role: str, content: str, ident: str, metadata: dict[str, Any] | None = None) -> Any:
    kind = {"system": ChatMessageSystem, "assistant": ChatMessageAssistant}.get(role, ChatMessageUser)
    return kind(content=content, id=ident, metadata=metadata)


def _conversation(record: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
    """(input, messages): the first prompt, then per round the turns it added and the generator's reply
    (an assistant message whose metadata holds the round number, plan, verdict and ground truth)."""
    key = str(record.get("key"))
    messages: list[Any] = []
    first: list[Any] = []
    previous: list[Mapping[str, Any]] = []
    previous_reply: str | None = None
    for item in record.get("rounds") or []:
        turns = list(item.get("messages") or [])
        before = [*previous, {"role": "assistant", "content": previous_reply or ""}] if previous else []
        common = 0
        while common < min(len(before), len(turns)) and before[common].get("content") == turns[common].get("content"):
            common += 1
        fresh = turns[common:] if before else turns
        if before and not fresh and turns:
            fresh = turns[-1:]
        for turn in fresh:
            message = _message(str(turn.get("role")), str(turn.get("content", "")), f"{key}#{len(messages)}")
            messages.append(message)
            if not previous:
                first.append(message)
        verdict = item.get("verdict") or {}
        truth = item.get("ground_truth") or {}
        messages.append(_message("assistant", str(item.get("reply") or ""), f"{key}#{len(messages)}", {
            "round": item.get("round"), "plan": item.get("plan"), "verdict_valid": verdict.get("valid"),
            "ground_truth_valid": truth.get("valid"), "failed_step": truth.get("failed_step")}))
        previous, previous_reply = turns, item.get("reply")
    return first, messages


def _scores(record: Mapping[str, Any]) -> dict[str, Score]:
    final = record.get("final") or {}
    rounds = record.get("rounds") or []
    last = rounds[-1] if rounds else {}
    truth = last.get("ground_truth") or {}
    explanation = "valid" if final.get("valid") else (
        f"step {truth.get('failed_step')} {truth.get('action')} unmet {' '.join(truth.get('unmet_preconditions') or [])}"
        if truth.get("failed_step") is not None else "unmet goals " + " ".join(truth.get("unmet_goals") or [])
        if truth.get("unmet_goals") else str(last.get("parse_error") or "invalid"))
    scores = {"ground_truth": Score(value="C" if final.get("valid") else "I", explanation=explanation,
                                    answer="\n".join(last.get("plan") or []) or None)}
    if (record.get("verifier") or {}).get("kind") == "llm":
        said = final.get("critic_valid")
        scores["critic"] = Score(value={True: "C", False: "I"}.get(said, "N"),
                                 explanation=(last.get("verdict") or {}).get("feedback") or None)
    return scores


def _sample(record: Mapping[str, Any], model: str) -> EvalSample:
    instance = record.get("instance") or {}
    first, messages = _conversation(record)
    rounds = record.get("rounds") or []
    reply = str(rounds[-1].get("reply") or "") if rounds else ""
    return EvalSample(
        id=str(record.get("key")), epoch=int(record.get("seed") or 0) + 1, input=first or "", target="",
        messages=messages, output=ModelOutput(model=model, choices=[ChatCompletionChoice(
            message=ChatMessageAssistant(content=reply, id=f"{record.get('key')}#output", source="generate", model=model),
            stop_reason="stop")]), scores=_scores(record),
        metadata={"condition": record.get("condition"), "instance": instance.get("id"),
                  "instance_set": instance.get("set"), "sizes": instance.get("sizes") or (
                      {"blocks": instance["blocks"]} if instance.get("blocks") is not None else {}),
                  "optimal_length": instance.get("optimal_length"), "rounds": len(rounds),
                  "termination": record.get("termination"), "accepted": (record.get("final") or {}).get("accepted"),
                  "verifier": record.get("verifier")},
        uuid=_id("sample", str(record.get("key"))),
    )


def _results(samples: Sequence[EvalSample], critic: bool) -> EvalResults:
    n = len(samples)
    correct = sum(1 for s in samples if s.scores and s.scores["ground_truth"].value == "C")
    scores = [EvalScore(name="ground_truth", scorer="sound_validator",
                        metrics={"accuracy": EvalMetric(name="accuracy", value=correct / n if n else 0.0)})]
    if critic:
        invalid = [s for s in samples if s.scores and s.scores["ground_truth"].value == "I"]
        false_pos = sum(1 for s in invalid if s.scores and s.scores["critic"].value == "C")
        accepted = sum(1 for s in samples if s.scores and s.scores["critic"].value == "C")
        scores.append(EvalScore(name="critic", scorer="llm_critic", metrics={
            "said_valid": EvalMetric(name="said_valid", value=accepted / n if n else 0.0),
            "false_positive_rate": EvalMetric(name="false_positive_rate",
                                              value=false_pos / len(invalid) if invalid else 0.0)}))
    return EvalResults(total_samples=n, completed_samples=n, scores=scores)


def write_inspect_logs(manifest: Mapping[str, Any], records: Sequence[Mapping[str, Any]], out: Path) -> list[Path]:
    """One ``<experiment>_<condition>.json`` eval log per condition in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    experiment = str(manifest.get("name") or "run")
    created = str(manifest.get("created") or manifest.get("created_at") or EPOCH_TIME)
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        groups.setdefault(str(record.get("condition")), []).append(record)
    paths = []
    for condition, group in groups.items():
        model = str(group[0].get("generator_model") or "unknown")
        instance_set = str((group[0].get("instance") or {}).get("set") or "")
        samples = [_sample(record, model) for record in group]
        critic = (group[0].get("verifier") or {}).get("kind") == "llm"
        spec = EvalSpec(
            eval_id=_id("eval", experiment, condition), run_id=_id("run", experiment), created=created,
            task=f"planner-loop/{experiment}/{condition}", task_id=_id("task", experiment, condition),
            dataset=EvalDataset(name=instance_set, samples=len({(r.get('instance') or {}).get('id') for r in group})),
            model=model, config=EvalConfig(),
            metadata={"experiment": experiment, "condition": condition, "system": group[0].get("system"),
                      "verifier": group[0].get("verifier"), "config_hash": manifest.get("config_hash")},
        )
        log = EvalLog(status="success", eval=spec, samples=samples, results=_results(samples, critic))
        path = out / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', experiment)}_{re.sub(r'[^A-Za-z0-9._-]+', '-', condition)}.json"
        write_eval_log(log, str(path), format="json")
        paths.append(path)
    return paths
