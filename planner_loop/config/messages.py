"""Turning a pydantic ``ValidationError`` on a config into one ``ConfigError`` line: the key path
(``conditions[0:name].votes``), the YAML line, and a message that helps (near names, which system
a key belongs to, what a system accepts)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from planner_loop.config.conditions import CONDITION_TAG_ERROR, CONDITION_VARIANTS, SYSTEM_VERIFIER, fields_elsewhere
from planner_loop.config.yaml_source import line_of
from planner_loop.errors import ConfigError
from planner_loop.registry import near_names


def config_error(error: ValidationError, data: Mapping[str, Any], root: type[BaseModel], *,
                 source: Any, node: Any) -> ConfigError:
    """The first problem of ``error`` as a ``ConfigError`` naming file, line and key."""
    problems = error.errors()
    first = problems[0]
    raw_loc = tuple(first["loc"])
    loc, tag = _strip_tags(raw_loc)
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = _unknown_key_message(loc, tag, data, root)
    elif first["type"] == "missing":
        message = "required key is missing"
    elif first["type"] == CONDITION_TAG_ERROR:
        loc, message = (*loc, "system"), _system_message(_at(data, loc))
    # a failed item also empties its list, which pydantic reports again on the list: skip echoes
    more = sum(1 for other in problems[1:] if tuple(other["loc"]) != raw_loc[: len(other["loc"])])
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    from planner_loop.llm.textsafety import redact  # a value echoed from the file may hold a URL credential

    return ConfigError(redact(f"{_loc_text(loc, data)}: {message}{suffix}"), source=source, line=line_of(node, loc))


def _strip_tags(loc: Sequence[Any]) -> tuple[tuple[Any, ...], str | None]:
    """Drop the union tag pydantic puts after ``conditions[i]``; return it separately."""
    out: list[Any] = []
    tag = None
    for index, item in enumerate(loc):
        if (index >= 2 and loc[index - 2] == "conditions" and isinstance(loc[index - 1], int)
                and item in CONDITION_VARIANTS):
            tag = item
            continue
        out.append(item)
    return tuple(out), tag


def _fields_at(loc: Sequence[Any], tag: str | None, root: type[BaseModel]) -> list[str]:
    model: type[BaseModel] = root
    if loc and loc[0] == "conditions":
        return list(CONDITION_VARIANTS[tag].model_fields) if tag else []
    for item in loc:
        annotation = model.model_fields[item].annotation if item in model.model_fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _unknown_key_message(loc: Sequence[Any], tag: str | None, data: Mapping[str, Any],
                         root: type[BaseModel]) -> str:
    key = str(loc[-1]) if loc else ""
    if tag is not None and len(loc) == 3:
        systems = fields_elsewhere(key, tag)
        if systems:
            return f"only applies to the {' and '.join(systems)} system, not {_at(data, loc[:2]).get('system')}"
    close = near_names(key, _fields_at(loc[:-1], tag, root))
    return "unknown key" + (f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else "")


def _system_message(condition: Any) -> str:
    known = ", ".join(SYSTEM_VERIFIER)
    if not isinstance(condition, Mapping):
        return f"a condition must be a mapping with a system ({known})"
    system = condition.get("system")
    if system is None:
        return f"required key is missing (one of {known})"
    close = near_names(str(system), SYSTEM_VERIFIER)[:1] if isinstance(system, str) else []
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    return f"unknown system {str(system)[:80]!r}{hint}; use one of {known}"


def _at(data: Any, loc: Sequence[Any]) -> Any:
    for item in loc:
        try:
            data = data[item]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _loc_text(loc: Sequence[Any], data: Mapping[str, Any]) -> str:
    parts: list[str] = []
    current: Any = data
    for item in loc:
        if isinstance(item, int):
            name = None
            if isinstance(current, list) and item < len(current) and isinstance(current[item], dict):
                name = current[item].get("name")
            parts.append(f"[{item}]" if not isinstance(name, str) else f"[{item}:{name[:60]}]")
        else:
            text = str(item) if re.fullmatch(r"[\w.+<>-]{1,80}", str(item)) else repr(str(item)[:80])
            parts.append(("." if parts else "") + text)
        try:
            current = current[item]
        except (KeyError, IndexError, TypeError):
            current = None
    return "".join(parts) or "config"
