"""The short CI run of ``benchmarks/fuzz.py``: a few hundred generated inputs across every kind, through
the same entry points and classification as the long run, must give no traceback, no hang (> 1 s)
and no accepted-malformed input (wrong verdict, leaked credential)."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

FUZZ_FILE = Path(__file__).resolve().parents[1] / "benchmarks" / "fuzz.py"
# inputs per kind: PDDL parsing (plus the unified-planning cross-check) is ~50 ms an input, the rest far less
COUNTS = {"pddl": 40, "config": 40, "planbench": 40, "reply-blocksworld": 40, "reply-mystery": 30,
          "reply-logistics": 30, "plan": 60, "spec": 80, "verdict": 80}


@pytest.fixture(scope="module")
def fuzz() -> ModuleType:
    spec = importlib.util.spec_from_file_location("planner_loop_fuzz_harness", FUZZ_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_every_kind_is_fuzzed(fuzz: ModuleType) -> None:
    assert set(COUNTS) == set(fuzz.kinds())


@pytest.mark.parametrize("name", list(COUNTS))
def test_no_traceback_hang_or_malformed(fuzz: ModuleType, name: str, tmp_path: Path) -> None:
    [stats] = fuzz.fuzz([name], COUNTS[name], seed=20240, jobs=1, out=tmp_path, chunk=COUNTS[name])
    assert stats.tried == COUNTS[name]
    bad = {status: stats.counts.get(status, 0) for status in ("traceback", "hang", "malformed")}
    saved = "\n".join((Path(p + ".txt")).read_text(encoding="utf-8")[:1500] for p in stats.saved)
    assert bad == {"traceback": 0, "hang": 0, "malformed": 0}, saved
    assert stats.slowest_s <= fuzz.HANG_S


def test_inputs_depend_only_on_seed_kind_and_index(fuzz: ModuleType) -> None:
    kind = fuzz.kinds()["config"]
    assert fuzz.make_input(kind, 3, 17) == fuzz.make_input(kind, 3, 17)
    assert len({fuzz.make_input(kind, 3, i) for i in range(20)}) > 10


def test_classification_catches_each_outcome(fuzz: ModuleType, tmp_path: Path) -> None:
    """The harness itself can fail: a crash, a slow reader and a refusal are told apart."""

    def crash(payload: object, workdir: Path) -> object:
        raise KeyError(payload)

    def slow(payload: object, workdir: Path) -> object:
        import time

        time.sleep(fuzz.HANG_S + 0.1)
        return fuzz.Outcome("accepted")

    def refuse(payload: object, workdir: Path) -> object:
        from planner_loop.errors import ConfigError

        def run() -> object:
            raise ConfigError("no", source="f.yaml", line=2)

        return fuzz._refusal_or_raise(run)

    make = random.Random
    assert fuzz.classify(fuzz.Kind("c", make, crash), "x", tmp_path)[0].status == "traceback"
    assert fuzz.classify(fuzz.Kind("s", make, slow), "x", tmp_path)[0].status == "hang"
    outcome = fuzz.classify(fuzz.Kind("r", make, refuse), "x", tmp_path)[0]
    assert (outcome.status, outcome.detail) == ("refused", "f.yaml:2: no")


def test_independent_checks_flag_what_the_reader_must_refuse(fuzz: ModuleType) -> None:
    domain = "(define (domain d) (:requirements :strips) (:predicates (p ?x) (q)))"
    problem = "(define (problem t) (:domain d) (:objects a) (:init (p a)) (:goal (and (q))))"
    assert fuzz.independent_pddl_problem(domain, problem) is None
    assert "undeclared object" in fuzz.independent_pddl_problem(domain, problem.replace("(p a)", "(p b)"))
    assert "declared predicate" in fuzz.independent_pddl_problem(domain, problem.replace("(q)", "(r)"))
    assert "declared twice" in fuzz.independent_pddl_problem(domain.replace("(q))", "(q) (q))"), problem)
    assert "requirement" in fuzz.independent_pddl_problem(domain.replace(":strips", ":adl"), problem)
    assert fuzz.has_duplicate_key(b"a: 1\nb: {c: 1, c: 2}\n") is True
    assert fuzz.has_duplicate_key(b"a: 1\nb: {c: 1}\n") is False
