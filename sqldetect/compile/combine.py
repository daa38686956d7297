"""Putting rows of different shapes together: kind unification and UNION ALL with SPL's row order.

``append``, ``appendpipe``, ``inputlookup append=t``, ``top useother=t`` and ``timechart`` all stack rows
whose fields differ. SPL simply unions the field sets (a row lacks the fields it never had); SQL needs one
column list and one type per column. This module decides the type of each output field, converts every
part's values to it, and keeps SPL's order: all rows of the first part (in its order), then the next part's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.relation import SEQ_COLUMN, FieldInfo, Kind, OrderKey, Relation, order_by_expressions
from sqldetect.compile.sql import alias, col, from_epoch, lit, null, try_cast
from sqldetect.compile.typed import Typed, as_list, as_number, as_string

PART_COLUMN = "_sqld_part"


def unify_kinds(kinds: list[Kind], name: str = "") -> Kind:
    """One kind able to hold values of all ``kinds``: equal kinds stay; NULL adopts the others; a multivalue
    among them makes lists; numbers and times stay numeric (``_time`` stays a timestamp); else text."""
    known = {k for k in kinds if k is not Kind.NULL}
    if not known:
        return Kind.NULL
    if len(known) == 1:
        return known.pop()
    if Kind.MULTIVALUE in known:
        return Kind.MULTIVALUE
    if known <= {Kind.NUMBER, Kind.TIME}:
        return Kind.TIME if name == "_time" else Kind.NUMBER
    return Kind.STRING


def coerce(value: Typed, kind: Kind) -> exp.Expression:
    """``value`` as SQL of ``kind`` (the conversions SPL does implicitly when values meet in one field)."""
    if value.kind is kind:
        return value.sql
    if value.kind is Kind.NULL or kind is Kind.NULL:
        return null(kind.sql_type)
    if kind is Kind.STRING:
        return as_string(value)
    if kind is Kind.NUMBER:
        return as_number(value)
    if kind is Kind.MULTIVALUE:
        return as_list(value)
    if kind is Kind.TIME:
        if value.kind is Kind.STRING:
            return from_epoch(try_cast(value.sql, "DOUBLE"))
        return from_epoch(as_number(value))
    return as_string(value)


@dataclass
class Part:
    """One block of rows to stack: what to read (a CTE name or a subquery) and its relation."""

    source: exp.Expression
    relation: Relation
    #: extra columns this part fixes per output field name (e.g. ``top``'s OTHER row), else read from the part
    constants: dict[str, Typed] | None = None


def union_fields(ctx: StageContext, parts: list[Part]) -> Relation:
    """The output relation: every field of every part, in order of first appearance, with a unified kind."""
    kinds: dict[str, list[Kind]] = {}
    for part in parts:
        for info in part.relation:
            kinds.setdefault(info.name, []).append(info.kind)
        for name, value in (part.constants or {}).items():
            kinds.setdefault(name, []).append(value.kind)
    output = Relation(events=any(part.relation.events for part in parts))
    for name, seen in kinds.items():
        column = ctx.new_column(name, output)
        output.fields[name] = FieldInfo(name, unify_kinds(seen, name), column)
    return output


def stack(ctx: StageContext, parts: list[Part], *, keep_order: bool | None = None) -> StageResult:
    """``UNION ALL`` of the parts with unioned fields; rows keep part order, then each part's own order
    (carried in the hidden columns ``_sqld_part`` and ``_sqld_seq`` when a later stage needs it)."""
    output = union_fields(ctx, parts)
    ordered = ctx.order_needed if keep_order is None else keep_order
    selects: list[exp.Select] = []
    for number, part in enumerate(parts, start=1):
        items: list[exp.Expression] = []
        for info in output:
            constant = (part.constants or {}).get(info.name)
            if constant is not None:
                value = constant
            else:
                value = ctx.field(info.name, part.relation)
            items.append(alias(coerce(value, info.kind), info.column))
        if ordered:
            items.append(alias(lit(number), PART_COLUMN))
            order = order_by_expressions(part.relation.order)
            items.append(alias(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order) if order else None,
                                          over="OVER"), SEQ_COLUMN))
        selects.append(exp.select(*items).from_(part.source, copy=False))
    union: exp.Expression = selects[0]
    for select in selects[1:]:
        union = exp.Union(this=union, expression=select, distinct=False)
    if ordered:
        output.hidden = [PART_COLUMN, SEQ_COLUMN]
        output.order = [OrderKey(PART_COLUMN), OrderKey(SEQ_COLUMN)]
    return StageResult(union, output)  # type: ignore[arg-type]


def table(name: str) -> exp.Table:
    """A CTE or table by name, quoted."""
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def subquery(select: exp.Expression, name: str) -> exp.Subquery:
    """``(select) AS name``."""
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(name, quoted=True)))


def qualify(expression: exp.Expression, table_name: str) -> exp.Expression:
    """A copy of ``expression`` whose unqualified columns are qualified with ``table_name`` (so it can be used
    where two relations with the same column names meet). Lambda parameters are left alone."""
    copied = expression.copy()
    lambda_params = {p.name for lam in copied.find_all(exp.Lambda) for p in lam.expressions}
    for column in copied.find_all(exp.Column):
        if not column.table and column.name not in lambda_params:
            column.set("table", exp.to_identifier(table_name, quoted=True))
    return copied


def qualified_field(ctx: StageContext, name: str, relation: Relation, table_name: str) -> Typed:
    """Field ``name`` of ``relation`` read through table alias ``table_name``."""
    info = relation.get(name)
    if info is None:
        return Typed(null(), Kind.NULL)
    return Typed(col(info.column, table_name), info.kind)


__all__ = ["PART_COLUMN", "Part", "coerce", "qualified_field", "qualify", "stack", "subquery", "table", "unify_kinds",
           "union_fields"]
