"""``head`` / ``tail``: the first / last N rows of the current order (tail returns them in reverse)."""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import OrderKey
from sqldetect.compile.sql import lit, star
from sqldetect.spl import ast


def _row_number(order: list[exp.Ordered]) -> exp.Expression:
    return exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order) if order else None, over="OVER")


@command("head", consumes_order=True)
def head(ctx: StageContext, cmd: ast.HeadCommand) -> StageResult:
    """The first N rows (default 10), or rows while an eval condition holds: head (cond)."""
    for key in ("null", "keeplast"):
        if key in cmd.options:
            raise ctx.unsupported(f"head {key}=", span=ctx.option_span(key))
    limit = int(cmd.option("limit") or cmd.count)
    select = exp.select(star()).from_(ctx.source(), copy=False)
    order = ctx.order_by()
    if cmd.expr is not None:
        cond = ctx.eval_condition(cmd.expr)
        failed = exp.Case().when(cond, lit(0), copy=False).else_(lit(1), copy=False)
        running = exp.Window(this=exp.Sum(this=failed), order=exp.Order(expressions=order),
                             spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                                                 end="CURRENT ROW"), over="OVER")
        select = select.qualify(exp.EQ(this=running, expression=lit(0)), copy=False)
    else:
        select = select.qualify(exp.LTE(this=_row_number(order), expression=lit(limit)), copy=False)
    return StageResult(select, ctx.input.copy())


@command("tail", consumes_order=True)
def tail(ctx: StageContext, cmd: ast.HeadCommand) -> StageResult:
    """The last N rows (default 10), in reverse order."""
    if not ctx.input.order:
        raise ctx.error("tail needs a row order, but the input order is unknown here")
    output = ctx.input.copy()
    output.order = [OrderKey(k.column, not k.descending, k.mode) for k in ctx.input.order]
    order = ctx.order_by(output)
    select = exp.select(star()).from_(ctx.source(), copy=False).qualify(
        exp.LTE(this=_row_number(order), expression=lit(int(cmd.count))), copy=False)
    return StageResult(select, output)
