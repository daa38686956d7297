"""Helpers for the SPL parser tests: a compact S-expression view of expression trees (so a test states the
expected tree in one readable line) and a span checker that slices the source by every span in a tree."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from sqldetect.errors import Span
from sqldetect.spl import ast
from sqldetect.spl.parser import parse
from sqldetect.spl.strings import unescape


def sexpr(node: Any) -> str:
    """``AND(a, OR(b, c))`` for search trees, ``(a + (b * c))`` for eval trees."""
    if isinstance(node, ast.SearchAnd):
        return f"AND({', '.join(sexpr(o) for o in node.operands)})"
    if isinstance(node, ast.SearchOr):
        return f"OR({', '.join(sexpr(o) for o in node.operands)})"
    if isinstance(node, ast.SearchNot):
        return f"NOT({sexpr(node.operand)})"
    if isinstance(node, ast.SearchTerm):
        return _value(node.value)
    if isinstance(node, ast.SearchCompare):
        return f"{node.field}{node.op}{_value(node.value)}"
    if isinstance(node, ast.SearchIn):
        return f"{node.field} IN({','.join(_value(v) for v in node.values)})"
    if isinstance(node, ast.TimeModifier):
        return f"@{node.name}={node.value}"
    if isinstance(node, ast.SearchSubsearch):
        return f"[{' | '.join(c.name for c in node.pipeline.commands)}]"
    if isinstance(node, ast.Literal):
        return f'"{node.value}"' if node.is_string else str(node.value)
    if isinstance(node, ast.FieldRef):
        return f"'{node.name}'" if node.quoted else node.name
    if isinstance(node, ast.Call):
        return f"{node.name}({', '.join(sexpr(a) for a in node.args)})"
    if isinstance(node, ast.BinaryOp):
        return f"({sexpr(node.left)} {node.op} {sexpr(node.right)})"
    if isinstance(node, ast.UnaryOp):
        return f"({node.op} {sexpr(node.operand)})"
    if isinstance(node, ast.InList):
        keyword = "NOT IN" if node.negated else "IN"
        return f"({sexpr(node.operand)} {keyword} [{', '.join(sexpr(v) for v in node.values)}])"
    if node is None:
        return "None"
    raise AssertionError(f"not an expression: {node!r}")


def _value(value: ast.SearchValue) -> str:
    text = f'"{value.text}"' if value.quoted else value.text
    return f"{value.modifier}({text})" if value.modifier else text


def check_spans(pipeline: ast.Pipeline) -> int:
    """Assert every span lies in the source and inside its parent, and that the spans of leaves slice out
    exactly what the node says it holds. Returns the number of spans checked."""
    source = pipeline.source
    checked = 0

    def slice_of(span: Span) -> str:
        return source[span.start : span.end]

    def visit(node: Any, parent: Span | None) -> None:
        nonlocal checked
        if isinstance(node, list):
            for item in node:
                visit(item, parent)
            return
        if isinstance(node, dict):
            for item in node.values():
                visit(item, parent)
            return
        if not dataclasses.is_dataclass(node):
            return
        span = getattr(node, "span", None)
        if isinstance(span, Span):
            checked += 1
            assert 0 <= span.start <= span.end <= len(source), (node, span)
            if parent is not None:
                assert parent.start <= span.start and span.end <= parent.end, (type(node).__name__, span, parent)
            _check_leaf(node, slice_of(span), slice_of)
            parent = span
        for item in dataclasses.fields(node):
            if item.name in ("span", "source"):
                continue
            visit(getattr(node, item.name), parent)

    visit(pipeline, None)
    return checked


def _check_leaf(node: Any, text: str, slice_of: Callable[[Span], str]) -> None:
    if isinstance(node, ast.Command):
        assert text == text.strip(), node
        assert text or (isinstance(node, ast.SearchCommand) and node.expr is None), node
        if node.name != "search" or text.lower().startswith("search"):
            assert text.lower().startswith(node.name), (node.name, text)
    elif isinstance(node, ast.SearchValue):
        if node.modifier:
            assert text.startswith(f"{node.modifier}(") and text.endswith(")"), (node, text)
        elif node.quoted:
            assert text[0] == text[-1] == '"' and unescape(text[1:-1]) == node.text, (node, text)
        else:
            assert unescape(text) == node.text, (node, text)
    elif isinstance(node, ast.SearchCompare) and node.field_span is not None:
        field_text = slice_of(node.field_span)
        assert field_text == node.field or unescape(field_text[1:-1]) == node.field, (node, field_text)
    elif isinstance(node, ast.Literal):
        assert text == node.text, (node, text)
    elif isinstance(node, ast.FieldRef):
        assert text == node.name or (node.quoted and text[0] == "'" and text[-1] == "'"), (node, text)
    elif isinstance(node, ast.Call):
        assert text.startswith(node.name) and text.endswith(")"), (node, text)
    elif isinstance(node, (ast.Subsearch, ast.SearchSubsearch)):
        assert text.startswith("[") and text.endswith("]"), text
    elif isinstance(node, ast.FieldName) and not node.quoted:
        assert unescape(text) == node.name, (node, text)
    elif isinstance(node, ast.Option):
        assert text.lower().startswith(node.key), (node, text)


@pytest.fixture
def sx() -> Callable[[Any], str]:
    return sexpr


@pytest.fixture
def spans() -> Callable[[ast.Pipeline], int]:
    return check_spans


@pytest.fixture
def search_expr() -> Callable[[str], Any]:
    """Parse ``text`` as a one-stage search and return its expression (spans checked on the way)."""

    def run(text: str) -> Any:
        pipeline = parse(text)
        check_spans(pipeline)
        assert len(pipeline.commands) == 1
        command = pipeline.commands[0]
        assert isinstance(command, ast.SearchCommand)
        return command.expr

    return run


@pytest.fixture
def eval_expr() -> Callable[[str], Any]:
    """Parse ``| where <text>`` and return the expression (spans checked on the way)."""

    def run(text: str) -> Any:
        pipeline = parse(f"| where {text}")
        check_spans(pipeline)
        command = pipeline.commands[0]
        assert isinstance(command, ast.WhereCommand)
        return command.expr

    return run


@pytest.fixture
def stage() -> Callable[[str], ast.Command]:
    """Parse ``| <text>`` and return its only command (spans checked on the way)."""

    def run(text: str) -> ast.Command:
        pipeline = parse(f"| {text}")
        check_spans(pipeline)
        assert len(pipeline.commands) == 1, pipeline.commands
        return pipeline.commands[0]

    return run
