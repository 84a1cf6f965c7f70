"""PlanBench result files of every vintage, read into one shape: the replies to score.

Three kinds of file (told apart by their entries, not their names):

- **plan generation** (task 1, any prompt): ``{"instances": [{"instance_id", "llm_raw_response",
  "extracted_llm_plan", "llm_correct" | "correct"}]}``; the verdict a bool or ``"True"``/``"False"``,
  the extracted plan a string of PDDL lines or a list of them;
- **back-prompting**: per instance either ``messages`` (the chat: query, then generator replies
  each followed by the verifier's feedback; a ``null`` reply is a failed call and re-sent, not a
  round) with the final verdict in ``correct``, or ``step_wise_dict`` (one entry per round with
  the reply in ``response_object``, PlanBench's extraction in ``llm_plan`` and the verifier's
  verdict in ``sound_verifier_json``). Every round is one reply to score;
- **plan verification** (task 3): the model judges the plan in its prompt (``query``, last
  ``[PLAN]…[PLAN END]``); PlanBench's reading of that judgement is ``extracted_llm_plan.valid``,
  the truth ``parsed_ground_truth_plan.valid`` and whether they agree ``llm_correct_binary``.

PlanBench's domain names map to planner-loop domains in :func:`planner_domain` and to instance
folders in :func:`instance_folder`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner_loop.domains.reply_blocks import plan_tag_region
from planner_loop.errors import ConfigError

PLAN_GENERATION = "plan-generation"
BACKPROMPTING = "backprompting"
PLAN_VERIFICATION = "plan-verification"
MAX_RESULTS_BYTES = 512 * 1024 * 1024
DOMAIN_FILE_NAME = "generated_domain.pddl"


@dataclass(frozen=True)
class Reply:
    """One generator reply to re-score: the recorded verdict and PlanBench's reading of its plan."""

    instance_id: int
    reply: str
    recorded: bool
    recorded_plan: tuple[str, ...]
    round: int | None = None  # 1-based, back-prompting files only
    feedback: str | None = None  # the feedback PlanBench sent after this reply


@dataclass(frozen=True)
class Judgement:
    """One task-3 reply: the model's judgement of ``plan_text`` and PlanBench's readings."""

    instance_id: int
    reply: str
    plan_text: str
    recorded_reading: bool | None  # PlanBench's reading of the model's verdict
    recorded_truth: bool | None  # PlanBench's verdict on the plan itself
    recorded_correct: bool


@dataclass(frozen=True)
class ResultFile:
    """A PlanBench result file in one shape."""

    path: Path
    kind: str
    domain: str  # PlanBench's name, e.g. blocksworld_3
    engine: str | None
    prompt_type: str | None
    task: str | None
    replies: tuple[Reply, ...] = ()
    judgements: tuple[Judgement, ...] = ()

    @property
    def size(self) -> int:
        return len(self.replies) + len(self.judgements)


# --- domains and instance folders ---

_INSTANCE_FOLDERS = {
    "blocksworld": ("blocksworld/generated_basic",),
    "blocksworld_3": ("blocksworld/generated_basic_3",),
    "blocksworld_hard": ("blocksworld_hard/generated",),
    "mystery_blocksworld": ("blocksworld/mystery/generated_basic", "mystery_blocksworld/generated_basic"),
    "mystery_blocksworld_3": ("blocksworld/mystery/generated_basic_3",),
    "logistics": ("logistics/generated_basic",),
}


def planbench_key(name: str, path: Path | None = None) -> str:
    """PlanBench's domain name reduced to an instance-set key (``blocksworld_zero_shot`` -> ``blocksworld``).

    A back-prompting file under ``results_backprompting/<set>/`` names its instance set by folder.
    """
    key = name.strip().lower().replace("-", "_").split("/")[0]
    if path is not None:
        parts = [p.lower() for p in path.parts]
        if "results_backprompting" in parts:
            index = parts.index("results_backprompting")
            if index + 1 < len(parts) - 1:
                key = parts[index + 1].replace("-", "_")
    key = re.sub(r"_(?:zero_shot|one_shot|new|pddl|cot|state_tracking)$", "", key)
    key = re.sub(r"^(?:obfuscated|mystery)_?(?:deceptive_)?", "mystery_", key) if "mystery" in key else key
    return key


def planner_domain(name: str, path: Path | None = None) -> str:
    """The planner-loop domain for a PlanBench domain name; :class:`ConfigError` when there is none."""
    key = planbench_key(name, path)
    if key.startswith("mystery_blocksworld"):
        return "mystery_blocksworld"
    if key.startswith(("random_blocksworld", "randomized_blocksworld")):
        return "mystery_blocksworld_random"
    if key.startswith("blocksworld"):
        return "blocksworld"
    if key == "logistics":
        return "logistics"
    raise ConfigError(f"PlanBench domain {name!r} has no planner-loop domain; pass --domain NAME", source=path)


def instance_folder(root: Path | str, name: str, path: Path | None = None) -> Path:
    """The folder of ``instance-N.pddl`` files for a PlanBench domain under ``root``.

    ``root`` may be that folder itself, PlanBench's ``instances/`` folder, or a folder holding
    ``plan-bench/instances`` and ``llm_planning_analysis/instances``.
    """
    root = Path(root)
    if any(root.glob("instance-*.pddl")):
        return root
    key = planbench_key(name, path)
    subfolders = _INSTANCE_FOLDERS.get(key, (f"{key}/generated_basic", f"{key}/generated"))
    bases = (root, root / "instances", root / "plan-bench" / "instances", root / "llm_planning_analysis" / "instances")
    for base in bases:
        for sub in subfolders:
            if (base / sub).is_dir():
                return base / sub
    raise ConfigError(f"no instance folder for PlanBench domain {name!r} (looked for {subfolders[0]})", source=root)


def find_domain_file(instances: Path | str) -> Path | None:
    """PlanBench's ``generated_domain.pddl`` in an instance folder or one of its two parents."""
    folder = Path(instances).resolve()
    for candidate in (folder, folder.parent, folder.parent.parent):
        path = candidate / DOMAIN_FILE_NAME
        if path.is_file():
            return path
    return None


# --- reading files ---


def _as_bool(value: Any, source: Path, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in {"true", "false", "1", "0"}:
        return value.strip().lower() in {"true", "1"}
    raise ConfigError(f"{where}: verdict is {value!r}, not True/False", source=source)


def plan_lines(value: Any) -> tuple[str, ...]:
    """PlanBench's extracted plan (a string of PDDL lines or a list of them) as PDDL steps."""
    if isinstance(value, list):
        text = "\n".join(str(v) for v in value)
    elif isinstance(value, str):
        text = value
    else:
        return ()
    return tuple(
        "(" + " ".join(m.group(1).lower().split()) + ")" for m in re.finditer(r"\(([^()]*)\)", text) if m.group(1).strip()
    )


def _instance_id(entry: Mapping[str, Any], source: Path, index: int) -> int:
    value = entry.get("instance_id")
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"instance {index + 1}: instance_id is {value!r}, not a number", source=source) from None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _reply_of(response: Any) -> str:
    if isinstance(response, Mapping):
        choices = response.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
            message = choices[0].get("message")
            if isinstance(message, Mapping):
                return _text(message.get("content"))
            return _text(choices[0].get("text"))
    return _text(response)


def _generation(entry: Mapping[str, Any], source: Path, index: int) -> Reply:
    key = "llm_correct" if "llm_correct" in entry else "correct"
    instance_id = _instance_id(entry, source, index)
    recorded = _as_bool(entry[key], source, f"instance {instance_id}")
    return Reply(instance_id, _text(entry.get("llm_raw_response")), recorded, plan_lines(entry.get("extracted_llm_plan")))


def _verdict_from_feedback(text: str) -> bool | None:
    head = text.strip().lower()[:200]
    if re.search(r"\b(?:is|was) (?:invalid|incorrect|not valid|not correct)\b", head):
        return False
    if re.search(r"\b(?:is|was) (?:valid|correct)\b", head):
        return True
    return None


def _message_rounds(entry: Mapping[str, Any], source: Path, index: int) -> list[Reply]:
    instance_id = _instance_id(entry, source, index)
    raw = entry.get("messages") or []
    if not isinstance(raw, list):
        raise ConfigError(f"instance {instance_id}: 'messages' must be a list, not {type(raw).__name__}", source=source)
    messages = [m for m in raw if isinstance(m, Mapping)]
    query = next((_text(m.get("content")) for m in messages if m.get("role") == "user"), "")
    final = _as_bool(entry.get("correct", entry.get("llm_correct", False)), source, f"instance {instance_id}")
    if entry.get("could_not_extract") is True:
        final = False
    replies: list[Reply] = []
    for position, message in enumerate(messages):
        if message.get("role") != "assistant" or not isinstance(message.get("content"), str):
            continue
        following = messages[position + 1] if position + 1 < len(messages) else None
        later = [m for m in messages[position + 1 :] if m.get("role") == "assistant" and isinstance(m.get("content"), str)]
        if following is not None and following.get("role") == "user" and _text(following.get("content")) != query:
            feedback = _text(following.get("content"))
            verdict = _verdict_from_feedback(feedback)
            if verdict is None:
                continue
        elif not later:
            feedback, verdict = None, final
        else:
            continue  # the query was re-sent: this reply was never judged
        replies.append(Reply(instance_id, message["content"], verdict, (), len(replies) + 1, feedback))
    return replies


def _stepwise_rounds(entry: Mapping[str, Any], source: Path, index: int) -> list[Reply]:
    instance_id = _instance_id(entry, source, index)
    steps = entry["step_wise_dict"]
    replies: list[Reply] = []
    for key in sorted(steps, key=lambda k: int(k) if str(k).isdigit() else 0):
        step = steps[key]
        if not isinstance(step, Mapping):
            continue
        verifier = step.get("sound_verifier_json") or step.get("verifier_json") or {}
        if isinstance(verifier, str):
            try:
                verifier = json.loads(verifier)
            except ValueError:
                verifier = {}
        info = verifier.get("validation_info", {}) if isinstance(verifier, Mapping) else {}
        if not isinstance(info, Mapping) or "is_valid_plan" not in info:
            continue
        recorded = _as_bool(info["is_valid_plan"], source, f"instance {instance_id} round {key}")
        message = verifier.get("validation_message") if isinstance(verifier, Mapping) else None
        reply = _reply_of(step.get("response_object"))
        replies.append(Reply(instance_id, reply, recorded, plan_lines(step.get("llm_plan")), len(replies) + 1,
                             _text(message) or None))
    return replies


def _judgement(entry: Mapping[str, Any], source: Path, index: int) -> Judgement:
    instance_id = _instance_id(entry, source, index)
    query = _text(entry.get("query"))
    cut = query.rfind("[PLAN]")
    plan_text = ""
    if cut >= 0:
        span = plan_tag_region(query[cut:])
        plan_text = query[cut:][span[0] : span[1]] if span else ""

    def valid_of(value: Any) -> bool | None:
        if isinstance(value, Mapping) and "valid" in value:
            return _as_bool(value["valid"], source, f"instance {instance_id}")
        return None

    correct = entry.get("llm_correct_binary", entry.get("llm_correct", False))
    return Judgement(instance_id, _text(entry.get("llm_raw_response")), plan_text,
                     valid_of(entry.get("extracted_llm_plan")), valid_of(entry.get("parsed_ground_truth_plan")),
                     _as_bool(correct, source, f"instance {instance_id}"))


def file_kind(entries: list[Any]) -> str | None:
    """The kind of result file its entries make, or None."""
    first = next((e for e in entries if isinstance(e, Mapping)), None)
    if first is None:
        return None
    if "step_wise_dict" in first or ("messages" in first and "llm_raw_response" not in first):
        return BACKPROMPTING
    if "llm_correct_binary" in first or isinstance(first.get("parsed_ground_truth_plan"), Mapping):
        return PLAN_VERIFICATION
    if "llm_raw_response" in first and ({"llm_correct", "correct"} & set(first)):
        return PLAN_GENERATION
    return None


def load_result_file(path: Path | str) -> ResultFile:
    """Any PlanBench result file; :class:`ConfigError` (naming the file and entry) when it is not one."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_RESULTS_BYTES:
            raise ConfigError(f"results file is larger than {MAX_RESULTS_BYTES >> 20} MB", source=path)
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read results file: {error.strerror}", source=path) from None
    except (ValueError, RecursionError) as error:
        raise ConfigError(f"not JSON: {str(error)[:200]}", source=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("instances"), list):
        raise ConfigError("not a PlanBench result file (no 'instances' list)", source=path)
    entries = data["instances"]
    kind = file_kind(entries)
    if kind is None and entries:
        raise ConfigError("not a PlanBench result file: entries hold neither llm_raw_response with "
                          "llm_correct/correct, nor messages/step_wise_dict, nor a task-3 judgement", source=path)
    replies: list[Reply] = []
    judgements: list[Judgement] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"instance {index + 1} is not an object", source=path)
        if kind == PLAN_GENERATION:
            if "llm_raw_response" not in entry or not ({"llm_correct", "correct"} & set(entry)) or "instance_id" not in entry:
                raise ConfigError(f"instance {index + 1}: needs instance_id, llm_raw_response and llm_correct", source=path)
            replies.append(_generation(entry, path, index))
        elif kind == BACKPROMPTING:
            if isinstance(entry.get("step_wise_dict"), Mapping):
                replies += _stepwise_rounds(entry, path, index)
            else:
                replies += _message_rounds(entry, path, index)
        else:
            judgements.append(_judgement(entry, path, index))
    domain = str(data.get("domain") or "")
    return ResultFile(path, kind or PLAN_GENERATION, domain, _opt(data.get("engine")), _opt(data.get("prompt_type")),
                      _opt(data.get("task")), tuple(replies), tuple(judgements))


def _opt(value: Any) -> str | None:
    return str(value) if value is not None else None
