"""Translate the eval/where expression language into typed SQL.

SPL's eval is dynamically typed; the translator knows each sub-expression's static ``Kind`` and adds the
conversions SPL implies (semantics doc §6, decisions in docs/semantics.md):
- comparisons are case-sensitive; a string that looks like a number compares numerically with a number, and two
  strings compare numerically when both look like numbers, else as text;
- ``+`` adds numbers and concatenates strings; ``.`` always concatenates (numbers printed as Splunk prints them);
- arithmetic or concatenation with NULL gives NULL; a comparison with NULL is not true;
- a comparison against a multivalue field is true when any value satisfies it;
- ``_time`` is a TIMESTAMP column but behaves as epoch seconds in expressions.
Functions live in ``sqldetect.compile.functions`` (one table of small translations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sqldetect.compile.relation import Kind, Relation
from sqldetect.compile.sql import (
    anon,
    coalesce,
    lit,
    not_,
    number_to_string,
    paren_if_needed,
    try_cast,
)
from sqldetect.compile.typed import Typed, any_value, as_number, as_string
from sqldetect.errors import Span
from sqldetect.spl import ast

if TYPE_CHECKING:
    from sqldetect.compile.context import StageContext

_COMPARISONS = {
    "=": exp.EQ,
    "==": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}
_ARITHMETIC = {"-": exp.Sub, "*": exp.Mul, "/": exp.Div, "%": exp.Mod}


class EvalTranslator:
    """Translates eval expressions over one relation."""

    def __init__(self, ctx: StageContext, relation: Relation, overrides: dict[str, Typed] | None = None) -> None:
        self.ctx = ctx
        self.relation = relation
        #: fields assigned earlier in the same ``eval`` (their expressions, inlined: one SELECT cannot see
        #: the columns it defines)
        self.overrides = overrides or {}

    # ------------------------------------------------------------------------------------------------
    def translate(self, node: ast.EvalExpr) -> Typed:
        if isinstance(node, ast.Literal):
            if isinstance(node.value, str):
                return Typed(lit(node.value), Kind.STRING)
            return Typed(lit(node.value), Kind.NUMBER)
        if isinstance(node, ast.FieldRef):
            return self._field(node)
        if isinstance(node, ast.BinaryOp):
            return self._binary(node)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.InList):
            return self._in_list(node)
        if isinstance(node, ast.Call):
            from sqldetect.compile.functions import translate_call

            return translate_call(self, node)
        raise self.ctx.error(f"unexpected expression {type(node).__name__}", getattr(node, "span", None))

    def _field(self, node: ast.FieldRef) -> Typed:
        """A field's value. A bare dotted name (``a.b``) that is not a field here while every piece is one is
        Splunk's concatenation ``a . b`` (ESCU's ``eval process=RTLO_command_1.RTLO_command_2``); otherwise it
        is one field (``actor.alternateId`` from JSON, ``Processes.dest`` after tstats). Deciding on the
        fields of this relation keeps both readings ESCU relies on (docs/semantics.md, "Eval names")."""
        parts = node.dot_parts()
        if parts and not self._has_field(node.name) and all(self._has_field(p) for p in parts):
            return self._binary(_concatenation(node, parts))
        if node.name in self.overrides:
            return self.overrides[node.name]
        return self.ctx.field(node.name, self.relation)

    def _has_field(self, name: str) -> bool:
        """Is ``name`` a field at this point: of the input, or assigned earlier in the same ``eval``."""
        return name in self.overrides or self.relation.get(name) is not None

    def condition(self, node: ast.EvalExpr) -> exp.Expression:
        """The expression as a boolean condition (``where``, ``if``, ``case``)."""
        return self.boolean(self.translate(node), node)

    def boolean(self, t: Typed, node: ast.EvalExpr) -> exp.Expression:
        if t.kind is Kind.BOOLEAN:
            return t.sql
        if t.kind is Kind.NULL:
            return exp.Null()
        raise self.ctx.error("expected a boolean expression (a comparison or a function such as isnull())",
                             getattr(node, "span", None))

    # ------------------------------------------------------------------------------------------------
    def _binary(self, node: ast.BinaryOp) -> Typed:
        op = node.op.upper()
        if op in ("AND", "OR", "XOR"):
            left = paren_if_needed(self.condition(node.left))
            right = paren_if_needed(self.condition(node.right))
            if op == "AND":
                return Typed(exp.And(this=left, expression=right), Kind.BOOLEAN)
            if op == "OR":
                return Typed(exp.Or(this=left, expression=right), Kind.BOOLEAN)
            return Typed(exp.NEQ(this=left, expression=right), Kind.BOOLEAN)
        left = self.translate(node.left)
        right = self.translate(node.right)
        if op in _COMPARISONS:
            return Typed(self.compare(op, left, right), Kind.BOOLEAN)
        if op == "LIKE":
            return Typed(any_value(left, lambda v: exp.Like(this=as_string(v), expression=as_string(right))),
                         Kind.BOOLEAN)
        if op == ".":
            return Typed(exp.DPipe(this=as_string(left), expression=as_string(right)), Kind.STRING)
        if op == "+":
            return self._plus(left, right)
        if op in _ARITHMETIC:
            cls = _ARITHMETIC[op]
            divisor = paren_if_needed(as_number(right))
            if op in ("/", "%"):  # dividing by zero gives no value (DuckDB: inf, NaN or an error)
                divisor = anon("nullif", divisor, lit(0))
            return Typed(cls(this=paren_if_needed(as_number(left)), expression=divisor), Kind.NUMBER)
        raise self.ctx.unsupported(f"operator {node.op}", span=node.span)

    def _plus(self, left: Typed, right: Typed) -> Typed:
        """``+``: numbers add; two strings concatenate — unless both hold numbers (fields extracted from
        events are strings that behave as numbers), decided per row."""
        kinds = {left.kind, right.kind}
        if Kind.NULL in kinds:
            return Typed(exp.Null(), Kind.NULL)
        if left.kind is Kind.STRING and right.kind is Kind.STRING:
            literal = isinstance(left.sql, exp.Literal) or isinstance(right.sql, exp.Literal)
            concat = exp.DPipe(this=left.sql, expression=right.sql)
            if literal:
                return Typed(concat, Kind.STRING)
            a, b = try_cast(left.sql, "DOUBLE"), try_cast(right.sql, "DOUBLE")
            both_numbers = exp.And(this=exp.Not(this=exp.Is(this=a, expression=exp.Null())),
                                   expression=exp.Not(this=exp.Is(this=b, expression=exp.Null())))
            summed = number_to_string(exp.Add(this=a, expression=b))
            return Typed(exp.Case().when(both_numbers, summed, copy=False).else_(concat, copy=False), Kind.STRING)
        return Typed(exp.Add(this=paren_if_needed(as_number(left)), expression=paren_if_needed(as_number(right))),
                     Kind.NUMBER)

    def compare(self, op: str, left: Typed, right: Typed) -> exp.Expression:
        """A comparison with SPL's typing rules (see module docstring)."""
        cls = _COMPARISONS[op]
        if left.kind is Kind.MULTIVALUE:
            return any_value(left, lambda v: self.compare(op, v, right))
        if right.kind is Kind.MULTIVALUE:
            return any_value(right, lambda v: self.compare(op, left, v))
        if Kind.NULL in (left.kind, right.kind):
            return exp.Null()
        numeric = {Kind.NUMBER, Kind.TIME, Kind.BOOLEAN}
        if left.kind in numeric and right.kind in numeric:
            if left.kind is Kind.BOOLEAN and right.kind is Kind.BOOLEAN:
                return cls(this=left.sql, expression=right.sql)
            return cls(this=as_number(left), expression=as_number(right))
        if left.kind in numeric or right.kind in numeric:
            # number vs string: numeric when the string holds a number, else both compared as text
            text = cls(this=as_string(left), expression=as_string(right))
            return coalesce(cls(this=as_number(left), expression=as_number(right)), text)
        # string vs string
        if _is_plain_text_literal(left.sql) or _is_plain_text_literal(right.sql):
            return cls(this=left.sql, expression=right.sql)
        return coalesce(cls(this=try_cast(left.sql, "DOUBLE"), expression=try_cast(right.sql, "DOUBLE")),
                        cls(this=left.sql, expression=right.sql))

    def _unary(self, node: ast.UnaryOp) -> Typed:
        op = node.op.upper()
        if op in ("NOT", "!"):
            return Typed(not_(self.condition(node.operand)), Kind.BOOLEAN)
        value = self.translate(node.operand)
        if op == "-":
            return Typed(exp.Neg(this=paren_if_needed(as_number(value))), Kind.NUMBER)
        if op == "+":
            return Typed(as_number(value), Kind.NUMBER)
        raise self.ctx.unsupported(f"operator {node.op}", span=node.span)

    def _in_list(self, node: ast.InList) -> Typed:
        value = self.translate(node.operand)
        options = [self.translate(v) for v in node.values]
        checks = [self.compare("=", value, o) for o in options]
        out: exp.Expression = checks[0] if len(checks) == 1 else exp.Paren(this=_or_all(checks))
        if node.negated:
            out = not_(out)
        return Typed(out, Kind.BOOLEAN)


def _concatenation(node: ast.FieldRef, parts: list[str]) -> ast.BinaryOp:
    """``a.b.c`` as the tree ``(a . b) . c`` of quoted (so never split again) field references."""
    refs: list[ast.EvalExpr] = []
    start = node.span.start
    for part in parts:
        refs.append(ast.FieldRef(part, Span(start, start + len(part)), quoted=True))
        start += len(part) + 1
    tree = ast.BinaryOp(".", refs[0], refs[1], refs[0].span.cover(refs[1].span))
    for ref in refs[2:]:
        tree = ast.BinaryOp(".", tree, ref, tree.span.cover(ref.span))
    return tree


def _or_all(items: list[exp.Expression]) -> exp.Expression:
    out = items[0]
    for item in items[1:]:
        out = exp.Or(this=out, expression=item)
    return out


def _is_plain_text_literal(e: exp.Expression) -> bool:
    """A string literal that cannot be read as a number: comparing with it is plain text comparison."""
    if not isinstance(e, exp.Literal) or not e.is_string:
        return False
    try:
        float(e.this)
    except ValueError:
        return True
    return False


__all__ = ["EvalTranslator", "anon"]
