"""The domain registry, the data-file format and the template renderer."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from planner_loop.domains import DomainRegistry, get_domain, load_domain, parse_domain_spec
from planner_loop.domains.registry import ENTRY_POINT_GROUP
from planner_loop.errors import ConfigError
from planner_loop.planning.plan import Plan, PlanStep
from planner_loop.planning.task import Literal, parse_task

PROBLEM = """(define (problem p) (:domain blocksworld-4ops) (:objects a b c m)
  (:init (clear a) (clear c) (clear m) (handempty) (on a b) (ontable b) (ontable c) (ontable m))
  (:goal (and (on c a))))"""


def test_builtin_blocksworld_is_registered() -> None:
    registry = DomainRegistry.default()
    assert "blocksworld" in registry
    domain = registry.get("blocksworld")
    assert domain.domain_file.name == "domain.pddl"
    domain.check()


def test_unknown_name_suggests_near_names() -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'blocksworld'"):
        get_domain("blockworld")


def test_duplicate_registration_needs_replace() -> None:
    domain = get_domain("blocksworld")
    registry = DomainRegistry([domain])
    other = load_domain(domain.domain_file.parent)
    with pytest.raises(ConfigError, match="already registered"):
        registry.register(other)
    registry.register(other, replace=True)
    assert registry.get("blocksworld") is other
    assert DomainRegistry.default().get("blocksworld") is not other  # no shared global state


def test_planbench_wording() -> None:
    domain = get_domain("blocksworld")
    task = parse_task(domain.domain_file.read_text(), PROBLEM)
    task = replace(task, goal=(*task.goal, Literal(("clear", "b"), positive=False)))
    assert domain.render_action(PlanStep("pick-up", ("a",))) == "pick up the red block"
    assert domain.render_action(PlanStep("put-down", ("b",))) == "put down the blue block"
    assert domain.render_action(PlanStep("stack", ("c", "a"))) == "stack the orange block on top of the red block"
    assert domain.render_action(PlanStep("unstack", ("a", "b"))) == "unstack the red block from on top of the blue block"
    assert domain.render_action(PlanStep("unstack", ("a", "b")), "pddl") == "(unstack a b)"
    assert domain.render_atom(("on", "a", "b")) == "the red block is on top of the blue block"
    assert domain.render_atom(("clear", "a")) == "the red block is clear"
    assert domain.render_atom(("handempty",)) == "the hand is empty"
    assert domain.render_atom(("ontable", "a")) == "the red block is on the table"
    assert domain.render_atom(("holding", "a")) == "I am holding the red block"
    assert domain.render_atom(("clear", "m")) == "the block m is clear"  # past the twelve colours
    state = domain.render_state(task.init)
    assert state.startswith("the red block is on top of the blue block, ") and state.endswith(" and the hand is empty")
    assert domain.render_goal(task) == (
        "the orange block is on top of the red block and it is not the case that the blue block is clear"
    )
    assert domain.render_goal(task, "pddl") == "(and (on c a) (not (clear b)))"
    plan = Plan((PlanStep("pick-up", ("c",)), PlanStep("stack", ("c", "a"))))
    assert domain.render_plan(plan, "pddl") == "(pick-up c)\n(stack c a)\n"
    assert "(:action unstack" in domain.describe("pddl")
    assert "unstack" in domain.describe("nl")
    with pytest.raises(ConfigError, match="style"):
        domain.render_state(task.init, "latex")


def test_data_file_errors_name_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        parse_domain_spec("name: x\npredicates: {}\nactions: {}\ncolour: red\n", source="d.yaml")
    assert error.value.describe().startswith("d.yaml:4: unknown key 'colour'")
    with pytest.raises(ConfigError, match="numbered"):
        parse_domain_spec("name: x\npredicates: {p: 'the {x}'}\nactions: {}\n", source="d.yaml")
    with pytest.raises(ConfigError, match="has 1 group"):
        parse_domain_spec("name: x\npredicates: {}\nactions: {}\nobject_patterns: {'p(\\d+)': 'package {2}'}\n")
    spec = parse_domain_spec("name: x\npredicates: {on: 'the {0} on {1}', off: null}\nactions: {}\n")
    assert set(spec.predicates) == {"on", "off"}  # YAML 1.1 would read these keys as booleans


def test_templates_are_checked_against_the_pddl(tmp_path: Path) -> None:
    source = get_domain("blocksworld").domain_file
    (tmp_path / "domain.pddl").write_text(source.read_text())
    (tmp_path / "domain.yaml").write_text(
        "name: bad\npredicates: {on: 'the {0} is on the {1}'}\n"
        "actions: {pick-up: 'lift {0}', put-down: 'drop {0}', stack: 'stack {0} on {1}', unstack: 'unstack {0}'}\n"
    )
    with pytest.raises(ConfigError, match="'unstack' takes 2"):
        load_domain(tmp_path).check()


def test_entry_point_plugin_domain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = get_domain("blocksworld").domain_file
    package = tmp_path / "towers_plugin"
    (package / "data").mkdir(parents=True)
    (package / "data" / "domain.pddl").write_text(source.read_text())
    (package / "data" / "domain.yaml").write_text(
        "name: towers\npredicates: {on: 'the {0} is on the {1}'}\n"
        "actions: {pick-up: 'lift {0}', put-down: 'drop {0}', stack: 'put {0} on {1}', unstack: 'take {0} off {1}'}\n"
    )
    (package / "__init__.py").write_text(
        "from pathlib import Path\n\ndef domains():\n    return [Path(__file__).parent / 'data']\n"
    )
    dist = tmp_path / "towers_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: towers-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\ntowers = towers_plugin:domains\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = DomainRegistry.default()
    assert "towers" in registry
    assert registry.get("towers").render_action(PlanStep("stack", ("a", "b"))) == "put a on b"
    assert "towers" not in DomainRegistry.default(plugins=False)
    sys.modules.pop("towers_plugin", None)
