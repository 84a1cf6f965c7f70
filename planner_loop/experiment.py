"""Experiment configs: a YAML file naming instances, prompts, models and the conditions to compare.

``load_experiment(path)`` reads the file defensively (``planner_loop.config.yaml_source``: size,
depth, encoding, duplicate keys), validates it (unknown keys refused) and returns an
``ExperimentConfig`` whose defaults are resolved, so ``config.model_dump()`` is exactly what a run
used. Conditions are a union tagged by verifier kind (``planner_loop.config.conditions``). Errors
raise ``ConfigError`` naming the file, the line and the key path. Schema: ``docs/experiments.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from planner_loop.config.conditions import (
    DEFAULT_MAX_ROUNDS,
    LEGACY_CRITIC_DEFAULTS,
    NAME_PATTERN,
    SYSTEM_VERIFIER,
    ConditionConfig,
    ContextPolicy,
    CriticCondition,
    CriticMode,
    FeedbackLevel,
    NoVerifierCondition,
    SoundCondition,
    Strict,
    System,
    ValCondition,
    VerifierKind,
    checked_spec,
)
from planner_loop.config.messages import config_error
from planner_loop.config.yaml_source import read_yaml
from planner_loop.errors import ConfigError
from planner_loop.generation.problem_set import read_manifest
from planner_loop.resources import builtin_dir

__all__ = [
    "DEFAULT_MAX_ROUNDS", "SYSTEM_VERIFIER", "BatchConfig", "CacheConfig", "ConditionConfig", "ContextPolicy", "CriticCondition",
    "CriticMode", "Encoding", "ExperimentConfig", "FeedbackLevel", "GeneratorConfig", "Instance", "InstancesConfig",
    "NoVerifierCondition", "PromptConfig", "SoundCondition", "System", "ValCondition", "VerifierKind",
    "load_experiment", "load_instance_pool", "load_instances", "natural_key", "parse_experiment",
    "resolve_instance_dir", "select_instances", "upgrade_config_data",
]

Encoding = Literal["nl", "pddl"]


def _is_local(spec: str) -> bool:
    return spec == "local" or spec.startswith("local:")


class InstancesConfig(Strict):
    """Which problems to run: a problem set with ``manifest.jsonl`` or a PlanBench instance folder."""

    set: str = Field(min_length=1, description="built-in set name (e.g. blocksworld/3-5) or a folder path")
    limit: int | None = Field(default=None, ge=1, description="take the first N instances by id")
    ids: tuple[str, ...] | None = Field(default=None, min_length=1, description="only these instance ids")

    @field_validator("ids")
    @classmethod
    def _distinct(cls, ids: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if ids is not None and len(set(ids)) != len(ids):
            raise ValueError("instance ids must be distinct")
        return ids


class PromptConfig(Strict):
    """How the generator is prompted."""

    encoding: Encoding = "nl"
    shots: int = Field(default=1, ge=0, le=64)
    example_rule: Literal["next-by-id"] = "next-by-id"


class GeneratorConfig(Strict):
    """The plan-writing model and its sampling."""

    model: str = "local"
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, ge=1)
    constrained: bool | None = Field(
        default=None, description="JSON-schema constrained decoding; default: on for the local model"
    )
    timeout_s: float = Field(default=300.0, gt=0, le=86400)

    @field_validator("model")
    @classmethod
    def _spec(cls, model: str) -> str:
        return checked_spec(model)

    @model_validator(mode="after")
    def _resolve(self) -> GeneratorConfig:
        if self.constrained is None:
            self._fill(constrained=_is_local(self.model))
        return self


class CacheConfig(Strict):
    """The response cache: ``read-write`` (default), ``replay`` (cache only, misses are errors) or ``off``."""

    mode: Literal["read-write", "replay", "off"] = "read-write"
    path: str | None = Field(default=None, min_length=1, description="default: <run dir>/cache")


class BatchConfig(Strict):
    """Batch mode (``run --batch``): model calls go through the OpenAI Batch API, round by round."""

    enabled: bool = False
    poll_s: float = Field(default=30.0, gt=0, le=3600, description="seconds between polls of a running batch")


# Keys that do not decide what the episodes hold: changing them leaves the config hash alone.
_UNHASHED = ("concurrency", "cache", "prices", "batch")


class ExperimentConfig(Strict):
    """A whole experiment: every condition runs on every instance with every seed."""

    name: str = Field(min_length=1)
    description: str = ""
    domain: str = Field(default="blocksworld", min_length=1)
    instances: InstancesConfig
    prompt: PromptConfig = PromptConfig()
    generator: GeneratorConfig = GeneratorConfig()
    conditions: tuple[ConditionConfig, ...] = Field(min_length=1)
    seeds: tuple[int, ...] = Field(default=(0,), min_length=1)
    concurrency: int = Field(default=2, ge=1, le=256)
    cache: CacheConfig = CacheConfig()
    batch: BatchConfig = BatchConfig()
    prices: str | None = Field(default=None, min_length=1,
                               description="price file; a relative path is read beside the config")

    @model_validator(mode="after")
    def _check(self) -> ExperimentConfig:
        if not re.fullmatch(NAME_PATTERN, self.name):
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
        return parse_experiment(data, source="command line")

    def hash(self) -> str:
        """Hash of everything that determines the episode records (concurrency, cache and prices excluded).

        Taken over the config's shape before conditions became a tagged union, so a run recorded
        then still resumes.
        """
        data = self.model_dump(mode="json")
        for key in _UNHASHED:
            data.pop(key)
        data["conditions"] = [condition.legacy_dump() for condition in self.conditions]
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def critic_model_of(self, condition: ConditionConfig) -> str:
        """The critic's model spec (defaults to the generator's: self-critique)."""
        if isinstance(condition, CriticCondition) and condition.critic_model:
            return condition.critic_model
        return self.generator.model

    def prices_path(self, base: Path | None = None) -> Path | None:
        """The ``prices`` file: relative paths are taken beside the config (``base``) when there."""
        if self.prices is None:
            return None
        path = Path(self.prices).expanduser()
        if not path.is_absolute() and base is not None and (base / path).exists():
            return base / path
        return path


def upgrade_config_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """A config dict as stored by older versions (every condition carried the critic's fields) in
    today's shape: critic fields at their neutral values are dropped from non-critic conditions."""
    upgraded = dict(data)
    conditions = upgraded.get("conditions")
    if isinstance(conditions, list):
        upgraded["conditions"] = [_upgrade_condition(c) for c in conditions]
    return upgraded


def _upgrade_condition(condition: Any) -> Any:
    if not isinstance(condition, Mapping) or SYSTEM_VERIFIER.get(condition.get("system")) == "llm":
        return condition
    return {key: value for key, value in condition.items()
            if not (key in LEGACY_CRITIC_DEFAULTS and value == LEGACY_CRITIC_DEFAULTS[key])}


def load_experiment(path: Path | str) -> ExperimentConfig:
    """Read and validate an experiment YAML file; raise ``ConfigError`` naming file, line and key."""
    path = Path(path)
    document = read_yaml(path, what="experiment config")
    if not isinstance(document.data, dict):
        raise ConfigError("an experiment config must be a YAML mapping (key: value lines)", source=path, line=1)
    return parse_experiment(document.data, source=path, node=document.node)


def parse_experiment(
    data: Mapping[str, Any], *, source: Path | str = "<config>", node: Any = None
) -> ExperimentConfig:
    """Validate an already-loaded config mapping (``source``/``node`` only sharpen error messages)."""
    try:
        return ExperimentConfig.model_validate(dict(data))
    except ValidationError as error:
        raise config_error(error, data, ExperimentConfig, source=source, node=node) from None


@dataclass(frozen=True)
class Instance:
    """One problem of an instance set, as recorded in the episode's ``instance`` field."""

    id: str
    set: str
    problem: Path
    problem_label: str
    blocks: int | None
    optimal_length: int | None
    sizes: Mapping[str, int] = field(default_factory=dict)   # the manifest's size fields
    solvable: bool | None = None                              # the manifest's "solvable", when it says

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
    ``*.pddl`` file except a domain file is an instance (PlanBench's layout, whose unsolvable labels
    and optimal lengths are read beside it: ``domains.planbench.planbench_rows``).
    """
    folder, set_name = resolve_instance_dir(config.set, base=base)
    problems_root = builtin_dir("problems").resolve()
    manifest = folder / "manifest.jsonl"
    rows: list[dict[str, Any]] = []
    if manifest.is_file():
        rows.extend(read_manifest(manifest))
    else:
        from planner_loop.domains.planbench import planbench_rows

        rows.extend(planbench_rows(folder))
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
            sizes=manifest_sizes(row),
            solvable=row["solvable"] if isinstance(row.get("solvable"), bool) else None,
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


# Integer manifest fields that describe how an instance was made, not how big it is.
_NOT_SIZES = frozenset({"seed", "instance_seed", "attempt", "optimal_length", "optimal_plan_length",
                        "generator_version"})


def manifest_sizes(row: Mapping[str, Any]) -> dict[str, int]:
    """A manifest row's size fields (``blocks``; ``cities``, ``packages``, ...): its other integer fields."""
    sizes = {key: int(value) for key, value in row.items()
             if key not in _NOT_SIZES and isinstance(value, int) and not isinstance(value, bool)}
    if "n_blocks" in sizes and "blocks" not in sizes:
        sizes["blocks"] = sizes.pop("n_blocks")
    return sizes


def _problem_field(row: Mapping[str, Any]) -> Any:
    return row.get("problem") or row.get("file") or row.get("path")


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
