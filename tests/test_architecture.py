"""The package's structure: no import cycle, layers import downward only, small modules, one registry class.

Imports are read statically with :mod:`ast` (imports inside functions count; ``if TYPE_CHECKING:`` blocks
do not, since they never run). The layer map below is the one in ``docs/internals.md``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import networkx as nx
import pytest

import planner_loop

PACKAGE = Path(planner_loop.__file__).parent
MAX_LINES = 420  # a hard cap slightly above the ~400-line guideline

# Top to bottom; a module may import its own layer and the layers below it. ``llm`` sits beside the
# domain layer: anything above domains may use it, and it uses only the bottom layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli",),
    ("analysis", "export", "viewer", "critic_bench"),
    ("orchestration", "run_store", "runs", "run_estimate", "run_meter", "run_mystery", "run_batch", "experiment",
     "config"),
    ("strategies", "loop"),
    ("verifiers", "prompts"),
    ("llm",),
    ("domains", "generation"),
    ("planning",),
    ("errors", "resources", "registry", "records"),
)
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}
BOTTOM = frozenset(LAYERS[-1])
INDEPENDENT = {"llm": BOTTOM}  # part -> the only parts it may import besides itself
LAZY_REF = re.compile(r"^(planner_loop(?:\.\w+)+):[\w.]+$")  # registry entries, imported on first use


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``node`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for other in child.orelse:
                yield other
                yield from _runtime_nodes(other)
            continue
        yield child
        yield from _runtime_nodes(child)


def _resolve(name: str) -> str | None:
    """The planner_loop module ``name`` refers to (a module, or the module holding attribute ``name``)."""
    known = modules()
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


@cache
def imports_of(name: str) -> frozenset[str]:
    """The planner_loop modules that module ``name`` imports at run time."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # ``from pkg import sub`` imports the submodule; ``from mod import name`` the module
            targets.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base
                           for alias in node.names)
    resolved = {_resolve(target) for target in targets if target.split(".")[0] == "planner_loop"}
    return frozenset(m for m in resolved if m is not None and m != name)


@cache
def lazy_refs_of(name: str) -> frozenset[str]:
    """Modules named by ``"module:attr"`` registry entries in module ``name``."""
    path = modules()[name]
    found = {_resolve(match.group(1)) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             for match in [LAZY_REF.match(node.value)] if match}
    return frozenset(m for m in found if m is not None and m != name)


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for name in modules():
        graph.add_node(name)
        graph.add_edges_from((name, target) for target in imports_of(name))
    return graph


def part_of(name: str) -> str | None:
    """The layer part of a module: ``planner_loop.domains.templates`` -> ``domains``; None for the root."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def test_the_import_reader_sees_function_level_imports_and_skips_type_checking() -> None:
    # templates imports the generation registry inside a method and Plan only for type checking
    assert "planner_loop.generation" in imports_of("planner_loop.domains.templates")
    assert "planner_loop.planning.plan" not in imports_of("planner_loop.domains.templates")
    assert "planner_loop.llm.protocol" in imports_of("planner_loop.llm.openai_backend")
    # ``from planner_loop.critic_bench import summary`` is an edge to the submodule, not the package
    assert "planner_loop.critic_bench.summary" in imports_of("planner_loop.critic_bench.runner")
    assert "planner_loop.critic_bench" not in imports_of("planner_loop.critic_bench.runner")


def test_no_import_cycle() -> None:
    cycles = sorted(nx.simple_cycles(import_graph()), key=len)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join([*c, c[0]]) for c in cycles[:10])


def test_every_part_of_the_package_is_in_the_layer_map() -> None:
    parts = {part_of(name) for name in modules()} - {None}
    assert parts - set(RANK) == set(), "add new packages/modules to LAYERS here and in docs/internals.md"


def _upward(source: str, target: str) -> bool:
    here, there = part_of(source), part_of(target)
    if here is None or there is None or here == there:
        return False
    if here in INDEPENDENT:
        return there not in INDEPENDENT[here]
    return RANK[there] < RANK[here]


def test_no_layer_imports_upward() -> None:
    bad = sorted(f"{source} -> {target}" for source in modules()
                 for target in imports_of(source) | lazy_refs_of(source) if _upward(source, target))
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_the_layer_rule_would_catch_an_upward_import() -> None:
    assert _upward("planner_loop.planning.search", "planner_loop.domains")
    assert _upward("planner_loop.llm.spec", "planner_loop.planning.strips")
    assert _upward("planner_loop.domains.extraction", "planner_loop.llm.protocol")
    assert _upward("planner_loop.records.episode", "planner_loop.loop")
    assert not _upward("planner_loop.verifiers.llm_critic", "planner_loop.llm.protocol")
    assert not _upward("planner_loop.cli.main", "planner_loop.errors")


def test_no_module_over_the_line_cap() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    over = sorted(f"{name}: {lines} lines" for name, lines in sizes.items() if lines > MAX_LINES)
    assert not over, f"modules over {MAX_LINES} lines (split them by idea):\n" + "\n".join(over)


def _classes() -> Iterator[tuple[str, ast.ClassDef]]:
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                yield name, node


def test_one_registry_class() -> None:
    """A class that registers and looks up by name is :class:`planner_loop.registry.Registry` or built on it."""
    offenders = []
    for module, node in _classes():
        if (module, node.name) == ("planner_loop.registry", "Registry"):
            continue
        methods = {item.name for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)}
        looks_like_one = {"register", "get"} <= methods or node.name.endswith("Registry")
        built_on_it = any(isinstance(n, ast.Name) and n.id == "Registry" for n in ast.walk(node))
        if looks_like_one and not built_on_it:
            offenders.append(f"{module}.{node.name}")
    assert not offenders, f"registries not built on planner_loop.registry.Registry: {offenders}"


def test_each_kind_has_its_registry_and_entry_point_group() -> None:
    from planner_loop.domains.registry import DomainRegistry
    from planner_loop.generation.registry import default_generators
    from planner_loop.llm.spec import default_providers
    from planner_loop.planning.search import default_planners
    from planner_loop.registry import Registry
    from planner_loop.strategies.registry import default_strategies
    from planner_loop.verifiers.registry import default_verifiers

    registries = [default_generators(plugins=False), default_providers(plugins=False), default_planners(plugins=False),
                  default_strategies(plugins=False), default_verifiers(plugins=False),
                  DomainRegistry.default(plugins=False)._registry]
    assert all(isinstance(registry, Registry) and len(registry) > 0 for registry in registries)
    assert sorted(registry.group or "" for registry in registries) == [
        f"planner_loop.{kind}" for kind in ("domains", "generators", "model_providers", "planners", "strategies",
                                            "verifiers")]


@pytest.mark.parametrize("kind", ["domains", "generators", "verifiers", "planners", "model_providers", "strategies"])
def test_internals_doc_names_each_entry_point_group(kind: str) -> None:
    doc = PACKAGE.parent / "docs" / "internals.md"
    if not doc.is_file():
        pytest.skip("docs/ not present (installed package)")
    assert f"planner_loop.{kind}" in doc.read_text(encoding="utf-8")
