"""paced_collection: the run's collector settings hold while a run's calls are in flight and are undone after."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from planner_loop.experiment import parse_experiment
from planner_loop.llm.collector import YOUNG_THRESHOLD, paced_collection
from planner_loop.llm.fake_server import FakeOpenAIServer
from planner_loop.runs import run_experiment


def test_pacing_freezes_and_raises_the_young_threshold_then_restores_both() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with paced_collection():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0
        garbage = [[]]
        garbage[0].append(garbage)  # a cycle made during the run is still collected
        del garbage
        assert gc.collect() >= 1
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_nested_pacing_leaves_the_outer_heap_frozen_and_a_higher_threshold_alone() -> None:
    before = gc.get_threshold()
    gc.set_threshold(50_000, *before[1:])
    try:
        with paced_collection():
            with paced_collection():
                assert gc.get_threshold()[0] == 50_000
            assert gc.get_freeze_count() > 0  # the inner exit did not thaw the outer run's heap
        assert gc.get_freeze_count() == 0
    finally:
        gc.set_threshold(*before)


def test_an_error_inside_still_restores() -> None:
    before = gc.get_threshold()
    try:
        with paced_collection():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_run_is_paced_while_its_calls_are_in_flight(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []

    def responder(request: Mapping[str, Any]) -> str:
        seen.append((gc.get_freeze_count(), gc.get_threshold()[0]))  # the server thread shares the process
        return "pick up the blue block\n[PLAN END]"

    before = gc.get_threshold()
    with FakeOpenAIServer(responder) as server:
        config = parse_experiment({
            "name": "paced", "instances": {"set": "blocksworld/3-5", "ids": ["instance-1"]},
            "prompt": {"encoding": "nl", "shots": 0}, "generator": {"model": f"openai:fake@{server.base_url}"},
            "conditions": [{"name": "only", "system": "llm-only"}], "seeds": [0], "cache": {"mode": "off"}})
        asyncio.run(run_experiment(config, tmp_path / "run"))
    assert seen and all(frozen > 0 and young == YOUNG_THRESHOLD for frozen, young in seen)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
