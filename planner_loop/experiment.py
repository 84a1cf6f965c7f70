"""Experiment configs: a YAML file naming instances, prompts, models and the conditions to compare.

``load_experiment(path)`` validates the file (unknown keys rejected) and returns an
``ExperimentConfig`` whose defaults are resolved, so ``config.model_dump()`` is exactly what a run
used. Errors raise ``ConfigError`` naming the file, the line and the key path.
The schema is documented in ``docs/experiments.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from planner_loop.errors import ConfigError
from planner_loop.generation.problem_set import read_manifest
from planner_loop.resources import builtin_dir

System = Literal["llm-only", "llm+llm", "llm+sound", "llm+val"]
VerifierKind = Literal["none", "symbolic", "val", "llm"]
FeedbackLevel = Literal["none", "binary", "first-error", "all-errors"]
CriticMode = Literal["binary", "detailed"]
ContextPolicy = Literal["last", "history"]
Encoding = Literal["nl", "pddl"]

SYSTEM_VERIFIER: Mapping[str, str] = {
    "llm-only": "none",
    "llm+llm": "llm",
    "llm+sound": "symbolic",
    "llm+val": "val",
}
DEFAULT_MAX_ROUNDS = 15


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def _fill(self, **values: Any) -> None:
        """Store resolved defaults from an after-validator (the model is frozen to callers)."""
        for key, value in values.items():
            object.__setattr__(self, key, value)


def _is_local(spec: str) -> bool:
    return spec == "local" or spec.startswith("local:")


class InstancesConfig(_Strict):
    """Which problems to run: a problem set with ``manifest.jsonl`` or a PlanBench instance folder."""

    set: str = Field(description="built-in set name (e.g. blocksworld/3-5) or a folder path")
    limit: int | None = Field(default=None, ge=1, description="take the first N instances by id")
    ids: tuple[str, ...] | None = Field(default=None, description="only these instance ids")


class PromptConfig(_Strict):
    """How the generator is prompted."""

    encoding: Encoding = "nl"
    shots: int = Field(default=1, ge=0, le=64)
    example_rule: Literal["next-by-id"] = "next-by-id"


class GeneratorConfig(_Strict):
    """The plan-writing model and its sampling."""

    model: str = "local"
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, ge=1)
    constrained: bool | None = Field(
        default=None, description="JSON-schema constrained decoding; default: on for the local model"
    )
    timeout_s: float = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _resolve(self) -> GeneratorConfig:
        if self.constrained is None:
            self._fill(constrained=_is_local(self.model))
        return self


class ConditionConfig(_Strict):
    """One system configuration of the loop, compared against the others on the same instances."""

    name: str = Field(min_length=1)
    system: System
    verifier: VerifierKind | None = None
    feedback: FeedbackLevel | None = None
    max_rounds: int | None = Field(default=None, ge=1, le=1000)
    context: ContextPolicy = "last"
    critic_model: str | None = None
    critic_mode: CriticMode | None = None
    stepwise: bool = False
    votes: int = Field(default=1, ge=1, le=64)
    critic_temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    critic_max_tokens: int = Field(default=512, ge=1)
    critic_shots: int = Field(default=0, ge=0, le=16)
    reference_guided: bool = False
    critic_constrained: bool | None = None

    @model_validator(mode="after")
    def _resolve(self) -> ConditionConfig:
        if not re.fullmatch(r"[A-Za-z0-9_.+=-]+", self.name):
            raise ValueError(f"condition name {self.name!r} may use only letters, digits and _.+=-")
        kind = SYSTEM_VERIFIER[self.system]
        if self.verifier is not None and self.verifier != kind:
            raise ValueError(f"system {self.system} uses verifier {kind!r}, not {self.verifier!r}")
        update: dict[str, Any] = {"verifier": kind}
        if kind == "none":
            if self.feedback not in (None, "none"):
                raise ValueError("llm-only gets no feedback; leave 'feedback' out or set it to none")
            if self.max_rounds not in (None, 1):
                raise ValueError("llm-only has exactly one round; leave 'max_rounds' out")
            update |= {"feedback": "none", "max_rounds": 1}
        else:
            if self.feedback == "none":
                raise ValueError("feedback 'none' is the llm-only system; use binary, first-error or all-errors")
            feedback = self.feedback
            if kind == "llm":
                if self.critic_mode == "binary" and feedback not in (None, "binary"):
                    raise ValueError("critic_mode binary gives binary feedback only")
                if feedback is None:
                    feedback = "binary" if self.critic_mode == "binary" else "first-error"
                update["critic_mode"] = "binary" if feedback == "binary" else "detailed"
            feedback = feedback or "first-error"
            if kind == "val" and feedback == "all-errors":
                raise ValueError("VAL reports only the first failure: use feedback binary or first-error")
            update |= {"feedback": feedback, "max_rounds": self.max_rounds or DEFAULT_MAX_ROUNDS}
        if kind != "llm":
            llm_only = {"critic_model", "critic_mode", "critic_temperature", "critic_constrained"}
            given = sorted(k for k in llm_only if getattr(self, k) is not None)
            if given or self.stepwise or self.votes != 1 or self.critic_shots or self.reference_guided:
                extra = given + [k for k in ("stepwise", "votes", "critic_shots", "reference_guided")
                                 if getattr(self, k) not in (False, 1, 0)]
                raise ValueError(f"{', '.join(extra)} only apply to the llm+llm system")
        elif self.critic_temperature is None:
            # Votes need diverse samples; a single critique is greedy like the reference study.
            update["critic_temperature"] = 0.7 if self.votes > 1 else 0.0
        self._fill(**update)
        return self


class CacheConfig(_Strict):
    """The response cache: ``read-write`` (default), ``replay`` (cache only, misses are errors) or ``off``."""

    mode: Literal["read-write", "replay", "off"] = "read-write"
    path: str | None = Field(default=None, description="default: <run dir>/cache")


class ExperimentConfig(_Strict):
    """A whole experiment: every condition runs on every instance with every seed."""

    name: str = Field(min_length=1)
    description: str = ""
    domain: str = "blocksworld"
    instances: InstancesConfig
    prompt: PromptConfig = PromptConfig()
    generator: GeneratorConfig = GeneratorConfig()
    conditions: tuple[ConditionConfig, ...] = Field(min_length=1)
    seeds: tuple[int, ...] = Field(default=(0,), min_length=1)
    concurrency: int = Field(default=2, ge=1, le=256)
    cache: CacheConfig = CacheConfig()

    @model_validator(mode="after")
    def _check(self) -> ExperimentConfig:
        if not re.fullmatch(r"[A-Za-z0-9_.+=-]+", self.name):
            raise ValueError(f"experiment name {self.name!r} may use only letters, digits and _.+=-")
        names = [c.name for c in self.conditions]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate condition names: {', '.join(dupes)}")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds must be distinct")
        return self

    def with_overrides(
        self, *, model: str | None = None, limit: int | None = None, concurrency: int | None = None
    ) -> ExperimentConfig:
        """Apply CLI overrides: ``model`` points the generator and every critic at one spec."""
        data = self.model_dump(mode="json")
        if model is not None:
            data["generator"]["model"] = model
            data["generator"]["constrained"] = None if self.generator.constrained == _is_local(
                self.generator.model) else self.generator.constrained
            for condition in data["conditions"]:
                if condition["verifier"] == "llm":
                    condition["critic_model"] = model
        if limit is not None:
            data["instances"]["limit"] = limit
        if concurrency is not None:
            data["concurrency"] = concurrency
        return ExperimentConfig.model_validate(data)

    def hash(self) -> str:
        """Hash of everything that determines the episode records (concurrency and cache excluded)."""
        data = self.model_dump(mode="json")
        data.pop("concurrency")
        data.pop("cache")
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def critic_model_of(self, condition: ConditionConfig) -> str:
        """The critic's model spec (defaults to the generator's: self-critique)."""
        return condition.critic_model or self.generator.model


def load_experiment(path: Path | str) -> ExperimentConfig:
    """Read and validate an experiment YAML file; raise ``ConfigError`` naming file, line and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read experiment config: {error.strerror}", source=path) from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"not valid YAML: {problem}", source=path, line=line) from None
    if not isinstance(data, dict):
        raise ConfigError("an experiment config must be a YAML mapping", source=path, line=1)
    return parse_experiment(data, source=path, node=node)


def parse_experiment(
    data: Mapping[str, Any], *, source: Path | str = "<config>", node: yaml.Node | None = None
) -> ExperimentConfig:
    """Validate an already-loaded config mapping (``source``/``node`` only sharpen error messages)."""
    try:
        return ExperimentConfig.model_validate(dict(data))
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(first["loc"])
        key = _loc_text(loc, data)
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        elif first["type"] == "missing":
            message = "required key is missing"
        # a failed item also empties its list, which pydantic reports again on the list: skip echoes
        more = sum(1 for other in error.errors()[1:] if tuple(other["loc"]) != loc[: len(other["loc"])])
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ConfigError(f"{key}: {message}{suffix}", source=source, line=_line_of(node, loc)) from None


def _loc_text(loc: Sequence[Any], data: Mapping[str, Any]) -> str:
    parts: list[str] = []
    current: Any = data
    for item in loc:
        if isinstance(item, int):
            name = None
            if isinstance(current, list) and item < len(current) and isinstance(current[item], dict):
                name = current[item].get("name")
            parts.append(f"[{item}]" if name is None else f"[{item}:{name}]")
        else:
            parts.append(("." if parts else "") + str(item))
        try:
            current = current[item]
        except (KeyError, IndexError, TypeError):
            current = None
    return "".join(parts) or "config"


def _line_of(node: yaml.Node | None, loc: Sequence[Any]) -> int | None:
    """Line (1-based) of the deepest YAML node on the error's key path."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for item in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(item, str):
            for key, value in node.value:
                if key.value == item:
                    child, line = value, key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(item, int) and item < len(node.value):
            child = node.value[item]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


@dataclass(frozen=True)
class Instance:
    """One problem of an instance set, as recorded in the episode's ``instance`` field."""

    id: str
    set: str
    problem: Path
    problem_label: str
    blocks: int | None
    optimal_length: int | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "set": self.set, "problem": self.problem_label,
                "blocks": self.blocks, "optimal_length": self.optimal_length}


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key putting ``instance-2`` before ``instance-10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def resolve_instance_dir(spec: str, *, base: Path | None = None) -> tuple[Path, str]:
    """Find the folder of an instance set; return it and the set's recorded name."""
    candidates = []
    if base is not None:
        candidates.append(base / spec)
    candidates += [Path(spec), builtin_dir("problems") / spec]
    for candidate in candidates:
        if candidate.is_dir():
            resolved = candidate.resolve()
            problems = builtin_dir("problems").resolve()
            if resolved.is_relative_to(problems):
                return resolved, resolved.relative_to(problems).as_posix()
            return resolved, spec
    raise ConfigError(f"instances.set: no instance folder {spec!r} (looked beside the config, "
                      f"in the working directory and in the built-in problems)")


def load_instances(config: InstancesConfig, *, base: Path | None = None) -> list[Instance]:
    """The instances to run: the set in id order, after ``ids`` and ``limit``."""
    return select_instances(load_instance_pool(config, base=base), config)


def load_instance_pool(config: InstancesConfig, *, base: Path | None = None) -> list[Instance]:
    """Every instance of the set in id order (the pool few-shot examples are drawn from).

    A folder with ``manifest.jsonl`` is a planner-loop problem set; otherwise every
    ``*.pddl`` file except a domain file is an instance (PlanBench's layout).
    """
    folder, set_name = resolve_instance_dir(config.set, base=base)
    problems_root = builtin_dir("problems").resolve()
    manifest = folder / "manifest.jsonl"
    rows: list[dict[str, Any]] = []
    if manifest.is_file():
        rows.extend(read_manifest(manifest))
    else:
        for file in folder.glob("*.pddl"):
            if "domain" not in file.stem:
                rows.append({"id": file.stem, "problem": file.name})
    instances: list[Instance] = []
    for row in rows:
        ident = str(row.get("id") or row.get("name") or Path(str(_problem_field(row))).stem)
        problem = folder / str(_problem_field(row) or f"{ident}.pddl")
        if not problem.is_file():
            problem = folder / Path(str(_problem_field(row))).name
        if problem.resolve().is_relative_to(problems_root):
            label = "problems/" + problem.resolve().relative_to(problems_root).as_posix()
        else:
            label = f"{config.set.rstrip('/')}/{problem.name}"
        instances.append(Instance(
            id=ident, set=set_name, problem=problem, problem_label=label,
            blocks=_int_or_none(row.get("blocks", row.get("n_blocks", row.get("objects")))),
            optimal_length=_int_or_none(row.get("optimal_length", row.get("optimal_plan_length"))),
        ))
    instances.sort(key=lambda inst: natural_key(inst.id))
    if not instances:
        raise ConfigError(f"instances.set: no problems in {folder}")
    return instances


def select_instances(instances: list[Instance], config: InstancesConfig) -> list[Instance]:
    """Apply ``ids`` then ``limit`` to an instance pool."""
    if config.ids is not None:
        known = {inst.id for inst in instances}
        missing = [i for i in config.ids if i not in known]
        if missing:
            raise ConfigError(f"instances.ids: unknown instance ids {', '.join(missing[:5])}")
        instances = [inst for inst in instances if inst.id in set(config.ids)]
    if config.limit is not None:
        instances = instances[: config.limit]
    return instances


def _problem_field(row: Mapping[str, Any]) -> Any:
    return row.get("problem") or row.get("file") or row.get("path")


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
