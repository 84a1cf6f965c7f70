"""Run (or resume) an experiment into a run directory: the episodes of every condition × instance × seed.

Start-up checks (config, instances, model specs, keys, prices for a cost limit) happen before
anything is written. A run stops cleanly (finished episodes written, calls in flight cached) on an
endpoint failure, a call or cost limit, or a stop request; re-running the same command resumes it.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner_loop.errors import ConfigError
from planner_loop.llm.collector import paced_collection
from planner_loop.llm.wrappers import CallGate, CallsStopped, CoalescedModel, GatedModel, Limits, RoleModel, Spend
from planner_loop.run_meter import RunMeter, RunProgress, recorded_spend
from planner_loop.run_store import RunStorageError, RunStore, episode_key, storage_message

if TYPE_CHECKING:
    from planner_loop.domains.protocol import Domain
    from planner_loop.experiment import ConditionConfig, ExperimentConfig, Instance
    from planner_loop.llm import ChatModel, PriceTable
    from planner_loop.loop import EpisodeSetup
    from planner_loop.prompts import ExampleBank, PromptBuilder
    from planner_loop.verifiers.protocol import Verifier


@dataclass(frozen=True)
class RunResult:
    """What ``run_experiment`` did. ``stopped`` is None (finished), ``max-calls``, ``max-cost`` or ``interrupted``."""

    store: RunStore
    total: int
    ran: int
    skipped: int
    stopped: str | None = None
    spend: Spend = Spend(0, None)
    repaired: tuple[str, ...] = ()
    unpriced: tuple[str, ...] = ()
    """Models with paid calls but no price: ``spend.cost_usd`` leaves their calls out."""

    @property
    def saved(self) -> int:
        """Finished episodes on disk."""
        return self.skipped + self.ran


@dataclass(frozen=True)
class RunPlan:
    """What a run will do, worked out before anything is written."""

    config: ExperimentConfig
    domain: Domain
    pool: list[Instance]
    instances: list[Instance]
    jobs: list[tuple[ConditionConfig, Instance, int]]

    def keys(self) -> list[str]:
        return [episode_key(c.name, i.id, seed) for c, i, seed in self.jobs]


def plan_run(config: ExperimentConfig, *, config_file: Path | None = None) -> RunPlan:
    """Resolve the domain and the instances (``ConfigError`` on a bad config)."""
    from planner_loop.domains import get_domain
    from planner_loop.experiment import load_instance_pool, select_instances
    from planner_loop.run_mystery import check_randomizable, randomized_source

    domain = get_domain(randomized_source(config.domain) or config.domain)
    base = config_file.parent if config_file is not None else None
    pool = load_instance_pool(config.instances, base=base)
    instances = select_instances(pool, config.instances)
    if not instances:
        raise ConfigError("instances: the selection is empty (check instances.ids and instances.limit)")
    jobs = [(condition, instance, seed)
            for condition in config.conditions for instance in instances for seed in config.seeds]
    plan = RunPlan(config, domain, pool, instances, jobs)
    check_randomizable(plan)
    return plan


def model_roles(config: ExperimentConfig) -> list[tuple[str, str]]:
    """(spec, role) of every model the run calls: the generator, then each distinct critic."""
    roles = [(config.generator.model, "generator")]
    for condition in config.conditions:
        if condition.verifier == "llm":
            roles.append((config.critic_model_of(condition), "critic"))
    return list(dict.fromkeys(roles))


async def check_models(config: ExperimentConfig, *, prices: PriceTable | None, limits: Limits,
                       env: Mapping[str, str] | None = None) -> None:
    """Resolve every model spec and key (no endpoint is contacted); refuse a cost limit without prices."""
    from planner_loop.llm import open_model, parse_spec
    from planner_loop.llm.pricing import price_for

    environ = os.environ if env is None else env
    for spec, role in model_roles(config):
        model = open_model(spec, cache=None, call_log=None, concurrency=1, timeout_s=config.generator.timeout_s,
                           role=role, prices=prices, env=environ)
        await model.aclose()
        parsed = parse_spec(spec, environ)
        if limits.max_cost_usd is not None and parsed.kind != "local" and price_for(prices, parsed.model) is None:
            raise ConfigError(f"--max-cost: no price for model {parsed.model!r} ({role}); "
                              "give its price with --prices FILE or the config's prices key")


def resolve_prices(config: ExperimentConfig, *, config_file: Path | None = None,
                   override: Path | None = None) -> PriceTable:
    """The shipped price table, overlaid with ``override`` (``--prices``) or else the config's ``prices`` file."""
    from planner_loop.llm.pricing import load_price_table

    base = config_file.parent if config_file is not None else None
    return load_price_table(override if override is not None else config.prices_path(base))


def build_verifier(config: ExperimentConfig, condition: ConditionConfig, domain: Domain,
                   models: Mapping[str, ChatModel]) -> Verifier:
    """The verifier of one condition; critics are looked up in ``models`` as ``critic:<spec>``."""
    from planner_loop.verifiers.registry import build_verifier as build

    return build(config, condition, domain, models)


async def episode_setup(plan: RunPlan, bank: ExampleBank, condition: ConditionConfig, instance: Instance,
                        seed: int) -> EpisodeSetup:
    """Everything one episode needs (solving examples and reference plans with the planner when asked)."""
    from planner_loop.domains.extraction import plan_json_schema
    from planner_loop.experiment import CriticCondition
    from planner_loop.llm import SamplingParams
    from planner_loop.loop import EpisodeSetup

    config = plan.config
    task = bank.task(instance.id)
    shots_needed = max([config.prompt.shots, *(c.critic_shots for c in config.conditions
                                                if isinstance(c, CriticCondition))])
    examples = tuple(await bank.examples(instance.id, shots_needed))
    optimal_length = instance.optimal_length
    reference = None
    reference_guided = isinstance(condition, CriticCondition) and condition.reference_guided
    # an instance recorded as unsolvable has no reference plan and no optimal length to solve for
    if instance.solvable is not False and (reference_guided or optimal_length is None):
        reference = await bank.optimal_plan(instance.id)
        if optimal_length is None and reference is not None:
            optimal_length = len(reference.steps)
    schema = plan_json_schema(plan.domain, task) if config.generator.constrained else None
    return EpisodeSetup(
        key=episode_key(condition.name, instance.id, seed), condition=condition,
        instance=instance, task=task, seed=seed, generator_model=config.generator.model,
        critic_model=config.critic_model_of(condition) if condition.verifier == "llm" else None,
        generator_params=SamplingParams(temperature=config.generator.temperature,
                                        max_tokens=config.generator.max_tokens, seed=seed, json_schema=schema),
        encoding=config.prompt.encoding, shots=config.prompt.shots,
        example_rule=config.prompt.example_rule, examples=examples,
        reference_plan=reference if reference_guided else None,
        sizes=dict(instance.sizes) or {"objects": len(task.objects)}, solvable=instance.solvable,
        optimal_length=optimal_length, strategy=condition.strategy.name,
        strategy_params=dict(condition.strategy.params), budget=condition.budget)


def prompt_builder(plan: RunPlan) -> PromptBuilder:
    """The generator's prompts; a set holding unsolvable instances offers the "NO PLAN EXISTS" answer."""
    from planner_loop.prompts import PromptBuilder

    config = plan.config
    return PromptBuilder(plan.domain, config.prompt.encoding, constrained=bool(config.generator.constrained),
                         allow_no_plan=any(instance.solvable is False for instance in plan.pool))


async def run_experiment(
    config: ExperimentConfig,
    run_dir: Path,
    *,
    config_file: Path | None = None,
    progress: Callable[[RunProgress], None] | None = None,
    limits: Limits = Limits(),
    prices: PriceTable | None = None,
    stop: asyncio.Event | None = None,
    env: Mapping[str, str] | None = None,
    progress_every_s: float = 2.0,
) -> RunResult:
    """Run (or resume) every episode of ``config`` into ``run_dir``.

    Endpoint failures (``ModelError``) stop the run after the episodes already finished were written;
    ``limits`` and ``stop`` end it cleanly (``RunResult.stopped``). ``prices`` defaults to
    :func:`resolve_prices` (pass ``{}`` for none). Write failures raise
    ``RunStorageError``; finished episodes stay on disk either way.
    """
    plan = plan_run(config, config_file=config_file)
    if prices is None:
        prices = resolve_prices(config, config_file=config_file)
    await check_models(config, prices=prices, limits=limits, env=env)
    if config.batch.enabled:
        from planner_loop.run_batch import check_batchable

        check_batchable([spec for spec, _ in model_roles(config)], os.environ if env is None else env)
    store = RunStore.open(run_dir, config, config_file=config_file)
    try:
        with paced_collection():
            return await _run(plan, store, config_file=config_file, progress=progress, limits=limits,
                              prices=prices, stop=stop, env=env, progress_every_s=progress_every_s)
    except OSError as error:
        raise RunStorageError(storage_message(Path(error.filename or store.path), error)) from None
    except sqlite3.OperationalError as error:
        raise RunStorageError(f"response cache: {error}; finished episodes are saved in {store.path}") from None
    finally:
        store.lock.release()


async def _run(plan: RunPlan, store: RunStore, *, config_file: Path | None,
               progress: Callable[[RunProgress], None] | None, limits: Limits, prices: PriceTable | None,
               stop: asyncio.Event | None, env: Mapping[str, str] | None, progress_every_s: float) -> RunResult:
    from planner_loop.llm import CallLog, ResponseCache, open_model
    from planner_loop.loop import run_episode
    from planner_loop.prompts import ExampleBank
    from planner_loop.run_mystery import seed_plans
    from planner_loop.run_batch import BatchRounds, RoundModel, open_batching

    config = plan.config
    repaired = tuple(path.name for path in store.repaired)
    finished = store.finished_keys()
    todo = [job for job in plan.jobs if episode_key(job[0].name, job[1].id, job[2]) not in finished]
    earlier = recorded_spend(store.calls_path)
    call_log = CallLog(store.calls_path)
    meter = RunMeter(plan, [r for r in store.episodes() if r["key"] in set(plan.keys())], call_log, earlier,
                   priced=bool(prices), prices=prices)
    gate = CallGate(limits, meter.spend)

    def report() -> None:
        if progress is not None:
            progress(meter.progress())

    def result(stopped: str | None = None) -> RunResult:
        return RunResult(store, meter.total, meter.done - meter.skipped, meter.skipped, stopped, meter.spend(),
                         repaired, meter.unpriced())

    report()
    if not todo:
        store.canonicalise(plan.keys())
        return result()

    cache = None
    if config.cache.mode != "off":
        cache_path = Path(config.cache.path).expanduser() if config.cache.path else store.path / "cache.sqlite"
        cache = ResponseCache(cache_path, config.cache.mode)
    bank = ExampleBank(plan.domain, plan.pool, config.prompt.example_rule)
    _load_solved(bank, store)
    shared: dict[str, CoalescedModel] = {}
    models: dict[str, Any] = {}          # generator under its spec, critics under "critic:<spec>"
    watchers: list[asyncio.Task[Any]] = []
    rounds = BatchRounds() if config.batch.enabled else None    # batch mode: the run goes round by round
    if rounds is not None:
        meter.batch_source = rounds.pending
    try:
        for spec, role in model_roles(config):
            if spec not in shared:
                raw = open_model(spec, cache=cache, call_log=call_log, concurrency=config.concurrency,
                                 timeout_s=config.generator.timeout_s, role=role, prices=prices, env=env)
                if rounds is not None:
                    raw = rounds.add(open_batching(spec, raw, store.path, first=not shared,
                                                   poll_s=config.batch.poll_s))
                shared[spec] = CoalescedModel(GatedModel(raw, gate))
            role_model = RoleModel(shared[spec], role)
            models[spec if role == "generator" else f"critic:{spec}"] = (
                role_model if rounds is None else RoundModel(role_model, rounds))
        verifiers = {c.name: build_verifier(config, c, plan.domain, models) for c in config.conditions}
        prompts = prompt_builder(plan)
        # randomized mystery: each seed runs on its own renamed domain and set (run_mystery)
        per_seed = {seed: (p, ExampleBank(p.domain, p.pool, config.prompt.example_rule), prompt_builder(p),
                           {c.name: build_verifier(config, c, p.domain, models) for c in config.conditions})
                    for seed, p in seed_plans(plan, store.path).items()}
        semaphore = asyncio.Semaphore(config.concurrency if rounds is None else len(todo))

        async def one(condition: ConditionConfig, instance: Instance, seed: int) -> None:
            async with semaphore:
                if gate.stop_reason is not None:
                    raise CallsStopped(gate.stop_reason)
                run_plan, run_bank, run_prompts, run_verifiers = per_seed.get(seed, (plan, bank, prompts, verifiers))
                if run_plan is not plan:
                    instance = next(inst for inst in run_plan.pool if inst.id == instance.id)
                setup = await episode_setup(run_plan, run_bank, condition, instance, seed)
                if run_bank is bank:
                    _save_solved(bank, store)
                episode = await run_episode(setup, domain=run_plan.domain, prompts=run_prompts,
                                            generator=models[config.generator.model],
                                            verifier=run_verifiers[condition.name])
                record = episode.to_json()
                store.append(record)
                meter.finished(record)
                report()

        if stop is not None:
            async def on_stop() -> None:
                await stop.wait()
                gate.stop("interrupted")
            watchers.append(asyncio.create_task(on_stop()))
        if progress is not None:
            async def tick() -> None:
                while True:
                    await asyncio.sleep(progress_every_s)
                    report()
            watchers.append(asyncio.create_task(tick()))
        async def in_round(condition: ConditionConfig, instance: Instance, seed: int) -> None:
            if rounds is None:
                return await one(condition, instance, seed)
            with rounds.episode(episode_key(condition.name, instance.id, seed)):
                return await one(condition, instance, seed)

        stopped = await _run_all([in_round(*job) for job in todo])
        if stopped is None:
            store.canonicalise(plan.keys())
        report()
        return result(stopped)
    finally:
        if rounds is not None:
            rounds.close()
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        for model in shared.values():
            await model.aclose()
        if cache is not None:
            cache.close()


async def _run_all(coroutines: list[Any]) -> str | None:
    """Run all; return why calls were stopped (None: all finished).

    A stopped episode lets the others finish their calls in flight; any other failure cancels the rest
    and is re-raised (finished work stays written).
    """
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    stopped: str | None = None
    pending = set(tasks)
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                error = task.exception()
                if isinstance(error, CallsStopped):
                    stopped = stopped or error.reason
                elif error is not None:
                    raise error
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return stopped


def _load_solved(bank: ExampleBank, store: RunStore) -> None:
    from planner_loop.planning.plan import parse_plan

    bank.preload({instance_id: parse_plan("\n".join(steps)) if steps is not None else None
                  for instance_id, steps in store.load_solved().items()})


def _save_solved(bank: ExampleBank, store: RunStore) -> None:
    solved = {key: [s.to_pddl() for s in plan.steps] if plan is not None else None
              for key, plan in bank.solved().items()}
    if solved != store.load_solved():
        store.save_solved(solved)
