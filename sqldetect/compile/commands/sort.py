"""``sort``: order rows by fields (``-`` descending), with ``num()``/``str()``/``auto()`` comparison.

Splunk keeps at most 10,000 rows unless a count is given (``sort 0`` keeps all). The sort is stable: rows that
tie keep their previous order. Rows missing a sort field always come last.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind, OrderKey, order_by_expressions
from sqldetect.compile.sql import lit, star
from sqldetect.spl import ast

DEFAULT_LIMIT = 10_000


def sort_keys(ctx: StageContext, keys: list[ast.SortKey], reverse: bool = False) -> list[OrderKey]:
    out: list[OrderKey] = []
    for key in keys:
        info = ctx.input.get(key.field)
        if info is None:
            continue  # sorting by a field no row has changes nothing
        if key.kind == "ip":
            raise ctx.unsupported("sort ip()", span=key.span)
        mode = "raw" if key.kind == "str" or info.kind in (Kind.TIME, Kind.NUMBER) else "auto"
        if key.kind == "num" and info.kind is not Kind.NUMBER:
            mode = "auto"
        out.append(OrderKey(info.column, key.descending != reverse, mode))
    return out


@command("sort", resets_order=True, consumes_order=True)
def sort(ctx: StageContext, cmd: ast.SortCommand) -> StageResult:
    """Order rows by fields (+/-, num(), str(), auto()); keeps 10,000 rows unless a count is given."""
    output = ctx.input.copy()
    output.order = sort_keys(ctx, cmd.keys, cmd.reverse) + list(ctx.input.order)
    limit = DEFAULT_LIMIT if cmd.limit is None else cmd.limit
    select = exp.select(star()).from_(ctx.source(), copy=False)
    if limit > 0:
        number = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order_by_expressions(output.order)),
                            over="OVER")
        select = select.qualify(exp.LTE(this=number, expression=lit(limit)), copy=False)
    return StageResult(select, output)
