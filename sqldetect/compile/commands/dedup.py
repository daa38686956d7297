"""``dedup``: keep the first N rows (in the current order) of each combination of field values.

Rows with a NULL in any listed field are dropped unless ``keepempty=true``. ``consecutive=true`` removes only
rows equal to the row before. ``sortby`` sorts first. A multivalue field is compared as a whole list.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.commands.sort import sort_keys
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind, order_by_expressions
from sqldetect.compile.sql import and_, lit, or_, star
from sqldetect.spl import ast


def _truthy(text: str | None) -> bool:
    return (text or "").lower() in ("t", "true", "1", "yes")


@command("dedup", consumes_order=True)
def dedup(ctx: StageContext, cmd: ast.DedupCommand) -> StageResult:
    """Keep the first N rows per combination of values (keepempty, consecutive, sortby)."""
    if _truthy(cmd.option("keepevents")):
        raise ctx.unsupported("dedup keepevents=true", span=ctx.option_span("keepevents"))
    values = [ctx.field(f.name) for f in cmd.fields]
    output = ctx.input.copy()
    if cmd.sortby:
        output.order = sort_keys(ctx, cmd.sortby) + list(ctx.input.order)
    order = order_by_expressions(output.order)
    select = exp.select(star()).from_(ctx.source(), copy=False)
    keepempty = _truthy(cmd.option("keepempty"))
    present = [exp.Not(this=exp.Is(this=v.sql.copy(), expression=exp.Null())) for v in values
               if v.kind is not Kind.NULL]
    if any(v.kind is Kind.NULL for v in values) and not keepempty:
        return StageResult(select.where(exp.Boolean(this=False), copy=False), output)
    keys = [v.sql.copy() for v in values if v.kind is not Kind.NULL]
    if _truthy(cmd.option("consecutive")):
        if not order:
            raise ctx.error("dedup consecutive=true needs a row order, but the input order is unknown here")
        changed = [exp.NullSafeNEQ(this=k.copy(), expression=exp.Window(
            this=exp.Anonymous(this="lag", expressions=[k.copy()]),
            order=exp.Order(expressions=[o.copy() for o in order]), over="OVER")) for k in keys]
        first_row = exp.EQ(this=exp.Window(this=exp.RowNumber(), order=exp.Order(
            expressions=[o.copy() for o in order]), over="OVER"), expression=lit(1))
        select = select.qualify(or_(first_row, *changed), copy=False)
    else:
        number = exp.Window(this=exp.RowNumber(), partition_by=keys,
                            order=exp.Order(expressions=order) if order else None, over="OVER")
        kept = exp.LTE(this=number, expression=lit(cmd.count))
        if keepempty and keys:
            # keepempty=true keeps every row lacking one of the fields, not just the first such row
            missing = or_(*(exp.Is(this=k.copy(), expression=exp.Null()) for k in keys))
            kept = or_(kept, missing)
        select = select.qualify(kept, copy=False)
    if present and not keepempty:
        select = select.where(and_(*present), copy=False)
    return StageResult(select, output)
