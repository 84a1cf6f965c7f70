"""PDDL text before and during parsing: requirements, unsupported syntax, nesting, and the ``pddl`` parser.

Everything here refuses with a :class:`PDDLError` naming the file and, where it can be found, the
line. Each parse gets a fresh ``pddl`` transformer (the library's parser objects keep state between
calls: after one failed typed domain every later one failed) and ``sys.tracebacklimit`` is never
touched (the library's own entry point sets it and, after an error, leaves it at 0).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from planner_loop.errors import PDDLError

SUPPORTED_REQUIREMENTS = frozenset({":strips", ":typing", ":negative-preconditions", ":equality"})
MAX_NESTING = 64  # far beyond any real domain; keeps the library's recursive tree walk bounded

_COMMENT = re.compile(r";[^\n]*")
_PARAMETERS_THEN_EFFECT = re.compile(r"(:parameters\s*\((?:[^()]|\([^()]*\))*\))(\s*:effect\b)")
_UNSUPPORTED_KEYWORDS = {
    "or": "disjunction (or)",
    "imply": "implication (imply)",
    "forall": "universal quantification (forall)",
    "exists": "existential quantification (exists)",
    "when": "conditional effect (when)",
    "increase": "numeric fluents",
    "decrease": "numeric fluents",
    "assign": "numeric fluents",
    "scale-up": "numeric fluents",
    "scale-down": "numeric fluents",
    ":functions": "numeric fluents (:functions)",
    ":derived": "derived predicates (:derived)",
    ":metric": "metrics (:metric)",
    "one-of": "non-deterministic effects (one-of)",
    ":durative-action": "durative actions",
    ":constraints": "constraints",
}
_KEYWORDS = SUPPORTED_REQUIREMENTS | {":domain", ":objects", ":init", ":goal", ":requirements", ":types", ":constants",
                                      ":predicates", ":action", ":parameters", ":precondition", ":effect"}
_KEYWORD = re.compile(r"(?<![^\s(]):[^\s()]*")
_UNSUPPORTED = re.compile(r"\(\s*(" + "|".join(map(re.escape, _UNSUPPORTED_KEYWORDS)) + r")(?![\w-])")


def name_re(name: str) -> str:
    """A regex matching ``name`` as a whole PDDL name (not a part of a longer name or a variable)."""
    return r"(?<![\w?-])" + re.escape(name) + r"(?![\w-])"


class Source:
    """The (comment-stripped, lower-cased) text of one file, for locating names by line."""

    def __init__(self, text: str, name: str) -> None:
        self.name = name
        self.text = _COMMENT.sub(lambda m: " " * len(m.group()), text).lower()
        # The pddl package cannot read an action without :precondition; give it the empty one
        # (on the same line, so line numbers stay right).
        self.text = _PARAMETERS_THEN_EFFECT.sub(r"\1 :precondition (and)\2", self.text)

    def line_at(self, pos: int) -> int:
        """1-based line of character ``pos``."""
        return self.text.count("\n", 0, pos) + 1

    def line_of(self, pattern: str, start: int = 0) -> int | None:
        match = re.compile(pattern).search(self.text, start)
        return self.line_at(match.start()) if match else None

    def pos_of(self, pattern: str, start: int = 0) -> int:
        match = re.compile(pattern).search(self.text, start)
        return match.start() if match else 0

    def error(self, message: str, pattern: str | None = None, start: int = 0) -> PDDLError:
        line = self.line_of(pattern, start) if pattern else None
        return PDDLError(message, source=self.name, line=line)

    def duplicate_line(self, name: str) -> int | None:
        """Line of the second mention of ``name`` (or ``?name``) within one parenthesised list."""
        item = r"(?<![\w-])\??" + re.escape(name.lstrip("?")) + r"(?![\w-])"
        match = re.search(r"\([^()]*?" + item + r"[^()]*?(" + item + ")", self.text)
        return self.line_at(match.start(1)) if match else None


def check_text(src: Source) -> frozenset[str]:
    """Pre-parse checks: requirements, constructs outside the fragment, nesting; the requirements found."""
    found: set[str] = set()
    for block in re.finditer(r"\(\s*:requirements\b([^)]*)\)", src.text):
        for req in re.finditer(r":[\w-]+", block.group(1)):
            name = req.group()
            if name not in SUPPORTED_REQUIREMENTS:
                raise PDDLError(
                    f"unsupported requirement {name} (supported: {', '.join(sorted(SUPPORTED_REQUIREMENTS))})",
                    source=src.name,
                    line=src.line_at(block.start(1) + req.start()),
                )
            found.add(name)
    match = _UNSUPPORTED.search(src.text)
    if match:
        what = _UNSUPPORTED_KEYWORDS[match.group(1)]
        raise PDDLError(f"unsupported formula: {what} is outside the STRIPS fragment", source=src.name,
                        line=src.line_at(match.start()))
    # The library's lexer reads ":objectsfoo a" as ":objects foo a"; a misspelt keyword must not add a name.
    for keyword in _KEYWORD.finditer(src.text):
        if keyword.group() not in _KEYWORDS:
            raise PDDLError(f"unknown keyword {keyword.group()}", source=src.name, line=src.line_at(keyword.start()))
    # the grammar would read "? x" as the variable ?x, and "?a?b" as two variables
    loose = re.search(r"\?(?![a-z])|(?<![\s(])\?", src.text)
    if loose:
        raise PDDLError("'?' must start a variable name: a letter right after it, a space or '(' before it",
                        source=src.name, line=src.line_at(loose.start()))
    depth = 0
    for paren in re.finditer(r"[()]", src.text):
        depth += 1 if paren.group() == "(" else -1
        if depth > MAX_NESTING:
            raise PDDLError(f"parentheses nested more than {MAX_NESTING} deep", source=src.name,
                            line=src.line_at(paren.start()))
    return frozenset(found)


@functools.cache
def _grammar(start: str) -> Any:
    # Building the lark grammar takes ~0.1 s; the tree-only parser keeps no state between parses.
    from lark import Lark
    from pddl.parser import GRAMMAR_FILE, PARSERS_DIRECTORY

    return Lark(GRAMMAR_FILE.read_text(), parser="lalr", import_paths=[PARSERS_DIRECTORY], start=start)


def parse_library(src: Source, kind: str) -> Any:
    """The ``pddl`` package's Domain (``kind="domain"``) or Problem object for ``src``."""
    import lark

    try:
        tree = _grammar(kind).parse(src.text)
    except lark.exceptions.UnexpectedEOF as error:
        raise PDDLError(f"PDDL syntax error: unexpected end of file ({error})", source=src.name,
                        line=src.text.count("\n") + 1) from None
    except lark.exceptions.UnexpectedInput as error:
        raise _syntax_error(error, src) from None
    if kind == "domain":
        from pddl.parser.domain import DomainTransformer as Transformer
    else:
        from pddl.parser.problem import ProblemTransformer as Transformer  # type: ignore[assignment]
    try:
        return Transformer().transform(tree)
    except lark.exceptions.VisitError as error:
        raise library_error(error.orig_exc, src) from None
    except RecursionError:
        raise PDDLError("formula nested too deeply", source=src.name) from None


def _syntax_error(error: Any, src: Source) -> PDDLError:
    import lark

    line = getattr(error, "line", None)
    token = getattr(error, "token", None)
    what = f"unexpected {str(token)!r}" if token is not None else "unexpected input"
    if isinstance(error, lark.exceptions.UnexpectedCharacters):
        what = f"unexpected character {error.char!r}"
    if token is not None and getattr(token, "type", "") == "$END":
        what = "unexpected end of file (missing ')'?)"
    position = getattr(error, "pos_in_stream", None)
    if isinstance(position, int) and re.match(r"\(\s*either\b", src.text[position:]):
        what = "'either' types are allowed only for action parameters and predicate arguments"
    column = getattr(error, "column", None)
    where = f" (column {column})" if isinstance(column, int) and column > 0 else ""
    return PDDLError(f"PDDL syntax error: {what}{where}", source=src.name,
                     line=line if isinstance(line, int) and line > 0 else None)


_LIBRARY_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"types? \[?'([^']+)'.*? of .*?(?:are|is) not in available types"), "undeclared type '{0}'"),
    (re.compile(r"duplicate name '([^']+)' in typed list"), "'{0}' declared twice"),
    (re.compile(r"duplicate type tag '([^']+)'"), "type '{0}' given twice"),
    (re.compile(r"invalid types for item '([^']+)'"), "'{0}' declared twice with different types"),
    (re.compile(r"more than one type, got '([^']+)'"), "'{0}' declared with more than one type"),
    (re.compile(r"Constant '([^']+)' not defined"), "undeclared constant '{0}'"),
    (re.compile(r"Predicate '([^']+)' not defined"), "undeclared predicate '{0}'"),
)


def library_error(error: BaseException, src: Source) -> PDDLError:
    """The ``pddl`` package's refusal as one located :class:`PDDLError`."""
    from pddl.exceptions import PDDLMissingRequirementError

    if isinstance(error, PDDLMissingRequirementError):
        requirement = str(error.requirement)
        if requirement == ":negative-preconditions":
            return src.error("negative literal used but :negative-preconditions is not declared", r"\(\s*not\b")
        if requirement == ":equality":
            return src.error("equality used but :equality is not declared", r"\(\s*=")
        if requirement == ":typing":
            return src.error("types used but :typing is not declared", r"\s-\s")
        return src.error(f"unsupported formula: needs {requirement}, outside the STRIPS fragment")
    text = str(error)
    if "typing requirement is not specified" in text:
        return src.error("types used but :typing is not declared", r"\s-\s")
    if "cycle detected in the type hierarchy" in text or "object must not have supertypes" in text:
        return src.error(f"bad type hierarchy: {text}", r"\(\s*:types\b")
    for pattern, message in _LIBRARY_MESSAGES:
        match = pattern.search(text)
        if match:
            name = match.group(1).lower()
            if message.endswith("declared twice"):
                return PDDLError(message.format(name), source=src.name, line=src.duplicate_line(name))
            if message.startswith("undeclared type"):
                return src.error(message.format(name), r"-\s*(\(\s*either[^)]*)?" + name_re(name))
            return src.error(message.format(name), name_re(name.lstrip("?")))
    quoted = re.search(r"'([^']+)'", text)
    return src.error(f"invalid PDDL: {text}", name_re(quoted.group(1).lower()) if quoted else r"\(\s*define\b")
