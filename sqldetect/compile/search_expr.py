"""Translate the ``search`` expression language into a SQL condition.

Rules (semantics doc §2, decisions in docs/semantics.md):
- ``field=value`` compares the whole value, case-insensitively, ``*`` globbing; any value of a multivalue
  field may match; ``field=*`` means the field has a non-empty value; CIDR values match address ranges.
- ``field!=value`` needs the field present: it is ``field=* AND NOT field=value``.
- ``NOT x`` keeps rows where ``x`` is not true, including rows that lack the field (SQL's NULL is made false
  first, so ``NOT`` never drops them).
- ``< <= > >=`` compare numerically when both sides are numbers, else as text.
- bare terms and phrases match ``_raw`` at token boundaries, case-insensitively (``matching.term_regex``);
  ``TERM(x)`` needs whole tokens between major breakers; ``CASE(x)`` is case-sensitive.
- Without ``_raw`` (after a transforming command) a bare term matches when any field's value matches it.
- Time modifiers (``earliest=``, ``latest=``, ``timeformat=``...) are not boolean operands: wherever they
  stand they set the time range of the search, ANDed with the rest (an earliest alone ends at now).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sqldetect.compile import matching
from sqldetect.compile.relation import Kind, Relation
from sqldetect.compile.sql import (
    FALSE,
    TRUE,
    and_,
    anon,
    cast,
    coalesce,
    col,
    lit,
    not_,
    or_,
    paren_if_needed,
    try_cast,
)
from sqldetect.compile.typed import Typed, any_value, as_string
from sqldetect.spl import ast

if TYPE_CHECKING:
    from sqldetect.compile.context import StageContext

_NUMBER_TEXT = __import__("re").compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def looks_numeric(text: str) -> bool:
    return bool(_NUMBER_TEXT.match(text))


class SearchTranslator:
    """Translates one search expression over one relation."""

    def __init__(self, ctx: StageContext, relation: Relation) -> None:
        self.ctx = ctx
        self.relation = relation

    def condition(self, node: ast.SearchExpr | None) -> exp.Expression:
        """The expression as a SQL condition. Time modifiers are not boolean operands: wherever they stand
        (even under OR or NOT) they set the search's time range, which is ANDed with the rest."""
        if node is None:
            return TRUE
        modifiers: list[ast.TimeModifier] = []
        body = _without_time_modifiers(node, modifiers)
        condition = self._expr(body) if body is not None else TRUE
        time_range = self._time_range(modifiers) if modifiers else None
        if time_range is None:
            return condition
        return time_range if condition == TRUE else and_(condition, time_range)

    # ------------------------------------------------------------------------------------------------
    def _expr(self, node: ast.SearchExpr) -> exp.Expression:
        if isinstance(node, ast.SearchAnd):
            return and_(*(self._expr(n) for n in node.operands))
        if isinstance(node, ast.SearchOr):
            return exp.Paren(this=or_(*(self._expr(n) for n in node.operands)))
        if isinstance(node, ast.SearchNot):
            inner = self._expr(node.operand)
            return not_(coalesce(paren_if_needed(inner), FALSE))
        if isinstance(node, ast.SearchTerm):
            return self._term(node)
        if isinstance(node, ast.SearchCompare):
            return self._compare(node)
        if isinstance(node, ast.SearchIn):
            matches = [self._equals(node.field, v) for v in node.values]
            return exp.Paren(this=or_(*matches)) if len(matches) > 1 else matches[0]
        if isinstance(node, ast.SearchSubsearch):
            from sqldetect.compile.subsearch import subsearch_condition

            return subsearch_condition(self.ctx, self.relation, node)
        raise self.ctx.error(f"unexpected search node {type(node).__name__}")

    # ------------------------------------------------------------------------------------------------ terms
    def _term(self, node: ast.SearchTerm) -> exp.Expression:
        value = node.value
        if value.modifier == "PREFIX":
            raise self.ctx.unsupported("PREFIX()", "PREFIX() is only meaningful in tstats", node.span)
        text = value.text
        if text.strip("*") == "" and value.modifier is None:
            return TRUE  # `*` matches every event
        whole_token = value.modifier == "TERM"
        case_sensitive = value.modifier == "CASE"
        raw = self.relation.get("_raw")
        if raw is not None:
            return matching.raw_term_match(col(raw.column), text, whole_token=whole_token,
                                           case_sensitive=case_sensitive)
        # No _raw (after stats/table...): the term matches when any field value contains it.
        checks = []
        for info in self.relation:
            typed = Typed(col(info.column), info.kind)
            checks.append(any_value(typed, lambda t: matching.raw_term_match(
                as_string(t), text, whole_token=whole_token, case_sensitive=case_sensitive)))
        if not checks:
            return FALSE
        return exp.Paren(this=or_(*checks))

    # ------------------------------------------------------------------------------------------------ compare
    def _compare(self, node: ast.SearchCompare) -> exp.Expression:
        if node.op == "=":
            return self._equals(node.field, node.value)
        if node.op == "!=":
            present = self._present(node.field)
            return and_(present, not_(coalesce(paren_if_needed(self._equals(node.field, node.value)), FALSE)))
        return self._ordering(node)

    def _field(self, name: str) -> Typed:
        return self.ctx.field(name, self.relation)

    def _present(self, name: str) -> exp.Expression:
        t = self._field(name)
        if t.kind is Kind.NULL:
            return FALSE
        if t.kind is Kind.STRING:
            return exp.NEQ(this=t.sql, expression=lit(""))  # NULL or "" → not present
        if t.kind is Kind.MULTIVALUE:
            return exp.GT(this=anon("len", t.sql), expression=lit(0))
        return exp.Not(this=exp.Is(this=t.sql, expression=exp.Null()))

    def _equals(self, name: str, value: ast.SearchValue) -> exp.Expression:
        t = self._field(name)
        text = value.text
        if text == "*" and value.modifier is None:
            return self._present(name)
        if t.kind is Kind.NULL:
            return FALSE
        case_sensitive = value.modifier == "CASE"

        def scalar(v: Typed) -> exp.Expression:
            if v.kind is Kind.NUMBER and looks_numeric(text) and "*" not in text:
                return exp.EQ(this=v.sql, expression=lit(_number(text)))
            if v.kind is Kind.TIME and looks_numeric(text):
                return exp.EQ(this=anon("epoch", v.sql), expression=lit(_number(text)))
            if matching.is_cidr(text) and v.kind in (Kind.STRING, Kind.MULTIVALUE):
                return matching.cidr_match(v.sql, text)
            s = v.sql if v.kind is Kind.STRING else as_string(v)
            return matching.glob_match(s, text, case_sensitive=case_sensitive)

        return any_value(t, scalar)

    def _ordering(self, node: ast.SearchCompare) -> exp.Expression:
        t = self._field(node.field)
        if t.kind is Kind.NULL:
            return FALSE
        op = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[node.op]
        text = node.value.text

        def scalar(v: Typed) -> exp.Expression:
            if looks_numeric(text):
                number = lit(_number(text))
                if v.kind is Kind.NUMBER:
                    return op(this=v.sql, expression=number)
                if v.kind is Kind.TIME:
                    return op(this=anon("epoch", v.sql), expression=number)
                # numeric when the value is a number, else compared as text
                return coalesce(op(this=try_cast(v.sql, "DOUBLE"), expression=number),
                                op(this=v.sql, expression=lit(text)))
            return op(this=as_string(v) if v.kind is not Kind.STRING else v.sql, expression=lit(text))

        return any_value(t, scalar)

    # ------------------------------------------------------------------------------------------------ time
    def _time_range(self, modifiers: list[ast.TimeModifier]) -> exp.Expression | None:
        """``earliest <= _time < latest`` from the search's time modifiers (the last of each kind wins).
        ``timeformat=`` sets how absolute values are read; an earliest without a latest ends at now."""
        from sqldetect.compile.timemod import DEFAULT_TIMEFORMAT, ago_bound, now_sql, time_bound

        t = self._field("_time")
        if t.kind is Kind.NULL:
            return None
        timeformat = DEFAULT_TIMEFORMAT
        for node in modifiers:
            if node.name.lower() == "timeformat":
                timeformat = node.value
        earliest: exp.Expression | None = None
        latest: exp.Expression | None = None
        has_earliest = False
        for node in modifiers:
            name = node.name.lower()
            if name == "timeformat":
                continue
            if name in ("earliest", "starttime", "starttimeu"):
                has_earliest = True
                earliest = time_bound(self.ctx, node.value, node.span,
                                      None if name == "starttimeu" else timeformat, epoch_only=name == "starttimeu")
            elif name in ("latest", "endtime", "endtimeu"):
                latest = time_bound(self.ctx, node.value, node.span,
                                    None if name == "endtimeu" else timeformat, epoch_only=name == "endtimeu")
            elif name in ("daysago", "hoursago", "minutesago", "monthsago"):
                has_earliest = True
                earliest = ago_bound(self.ctx, name, node.value, node.span)
            elif name in ("_index_earliest", "_index_latest"):
                raise self.ctx.unsupported(f"{node.name}=", f"{node.name}= filters on the index time (_indextime), "
                                           "which sqldetect's events do not have", node.span)
            else:
                raise self.ctx.unsupported(f"{node.name}=", f"time modifier {node.name}= is not supported",
                                           node.span)
        if has_earliest and latest is None:
            latest = now_sql(self.ctx)
        time_sql = t.sql if t.kind is Kind.TIME else cast(t.sql, "TIMESTAMP")
        bounds = []
        if earliest is not None:
            bounds.append(exp.GTE(this=time_sql, expression=earliest))
        if latest is not None:
            bounds.append(exp.LT(this=time_sql.copy(), expression=latest))
        return and_(*bounds) if bounds else None


def _without_time_modifiers(node: ast.SearchExpr, found: list[ast.TimeModifier]) -> ast.SearchExpr | None:
    """``node`` with its time modifiers taken out (collected into ``found``); None when nothing is left."""
    if isinstance(node, ast.TimeModifier):
        found.append(node)
        return None
    if isinstance(node, (ast.SearchAnd, ast.SearchOr)):
        if not node.operands:
            return node
        kept = [k for k in (_without_time_modifiers(n, found) for n in node.operands) if k is not None]
        if not kept:
            return None
        return type(node)(kept, node.span)
    if isinstance(node, ast.SearchNot):
        inner = _without_time_modifiers(node.operand, found)
        return None if inner is None else ast.SearchNot(inner, node.span)
    return node

def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)
