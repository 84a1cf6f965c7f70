"""Reading a YAML config file defensively: bounded size, depth and alias expansion, strict UTF-8,
no duplicate keys, and every refusal a :class:`ConfigError` naming the file and line.

``read_yaml(path)`` returns the loaded data and the composed node tree (for :func:`line_of`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from planner_loop.errors import ConfigError

MAX_CONFIG_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_NODES = 200_000     # after alias expansion: refuses "billion laughs" documents
MAX_INT_CHARS = 100


@dataclass(frozen=True)
class YamlDocument:
    """A loaded YAML document and its node tree (``node`` is ``None`` for an empty document)."""

    data: Any
    node: yaml.Node | None


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses nesting deeper than ``MAX_DEPTH`` while composing (before recursion
    could exhaust the stack)."""

    def __init__(self, stream: str, source: str) -> None:
        super().__init__(stream)
        self._source = source
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:  # type: ignore[override]
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise ConfigError(f"nested more than {MAX_DEPTH} levels deep", source=self._source,
                                  line=mark.line + 1)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


def read_config_text(path: Path, *, what: str = "config") -> str:
    """The file's text: at most ``MAX_CONFIG_BYTES``, strict UTF-8, no NUL bytes."""
    try:
        with path.open("rb") as source:
            raw = source.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"cannot read {what}: {error.strerror or error}", source=path) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{what} is larger than {MAX_CONFIG_BYTES // 1000} kB; is this the right file?",
                          source=path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ConfigError(f"{what} is not UTF-8 text (byte {error.start}); is this a binary file?",
                          source=path, line=line) from None
    if "\x00" in text:
        raise ConfigError(f"{what} holds NUL bytes; is this a binary file?", source=path,
                          line=text.count("\n", 0, text.index("\x00")) + 1)
    return text.removeprefix("\ufeff")


def parse_yaml(text: str, source: str | Path = "<config>") -> YamlDocument:
    """Compose and construct one YAML document, refusing what a config never needs."""
    where = str(source)
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config is larger than {MAX_CONFIG_BYTES // 1000} kB", source=where)
    loader = None
    try:
        loader = _BoundedLoader(text, where)
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(None, None)
        _check_tree(node, where)
        data = loader.construct_document(node)
    except yaml.YAMLError as error:
        line = _line(error)
        if isinstance(error, yaml.reader.ReaderError):
            line = text.count("\n", 0, error.position) + 1
        raise ConfigError(f"not valid YAML: {_problem(error)}", source=where, line=line) from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDocument(data, node)


def read_yaml(path: Path | str, *, what: str = "config") -> YamlDocument:
    """:func:`read_config_text` then :func:`parse_yaml`."""
    path = Path(path)
    return parse_yaml(read_config_text(path, what=what), path)


def _check_tree(root: yaml.Node, source: str) -> None:
    """Duplicate keys (both lines named) and the expanded size, without recursion."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            # Python refuses to convert integers of over 4,300 digits (ValueError in the constructor)
            if node.tag == "tag:yaml.org,2002:int" and len(node.value) > MAX_INT_CHARS:
                raise ConfigError(f"a number of more than {MAX_INT_CHARS} digits", source=source,
                                  line=node.start_mark.line + 1)
            sizes[id(node)] = 1
            continue
        children = _children(node)
        if not children_done:
            if isinstance(node, yaml.MappingNode):
                _refuse_duplicates(node, source)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(child), 1) for child in children)
        if total > MAX_NODES:
            raise ConfigError(f"expands to more than {MAX_NODES} values (aliases?)", source=source,
                              line=node.start_mark.line + 1)
        sizes[id(node)] = total


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _refuse_duplicates(node: yaml.MappingNode, source: str) -> None:
    seen: dict[str, int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        if key.value in seen:
            raise ConfigError(f"duplicate key {key.value!r} (first on line {seen[key.value]}, again on line "
                              f"{line}); remove one", source=source, line=line)
        seen[key.value] = line


def _problem(error: yaml.YAMLError) -> str:
    problem = getattr(error, "problem", None)
    if problem:
        return str(problem)
    if isinstance(error, yaml.reader.ReaderError):
        return f"character {error.character!r} is not allowed"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _line(error: yaml.YAMLError) -> int | None:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def line_of(node: yaml.Node | None, loc: Sequence[Any]) -> int | None:
    """Line (1-based) of the deepest YAML node on the key path ``loc``."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for item in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(item):
                    child, line = value, key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(item, int) and 0 <= item < len(node.value):
            child = node.value[item]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
