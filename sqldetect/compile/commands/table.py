"""``table``: keep only the listed fields, in that order (wildcards expand against the current fields)."""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile import wildcards
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import FieldInfo, Kind, Relation
from sqldetect.compile.sql import alias, col, null
from sqldetect.spl import ast


def project(ctx: StageContext, names: list[str]) -> StageResult:
    """SELECT exactly ``names`` (missing ones as NULL columns, so they still show) plus hidden columns."""
    output = Relation(order=[], hidden=list(ctx.input.hidden))
    items: list[exp.Expression] = []
    for name in names:
        info = ctx.input.get(name)
        if info is None:
            column = ctx.new_column(name, output)
            output.fields[name] = FieldInfo(name, Kind.NULL, column)
            items.append(alias(null(), column))
        else:
            column = ctx.new_column(name, output, reuse=info.column)
            output.fields[name] = FieldInfo(name, info.kind, column)
            items.append(col(info.column) if column == info.column else alias(col(info.column), column))
    items.extend(col(h) for h in ctx.input.hidden)
    select = exp.select(*items, copy=False).from_(ctx.source(), copy=False)
    kept = {ctx.input.fields[n].column for n in names if n in ctx.input.fields}
    dropped = {f.column for f in ctx.input} - kept
    ctx.keep_order(output, select, dropped)
    return StageResult(select, output)


def expand_fields(ctx: StageContext, fields: list[ast.FieldName]) -> list[str]:
    names: list[str] = []
    for f in fields:
        for name in wildcards.expand(f.name, ctx.input.names()):
            if name not in names:
                names.append(name)
    return names


@command("table")
def table(ctx: StageContext, cmd: ast.TableCommand) -> StageResult:
    """Keep only the listed fields, in order; wildcards allowed."""
    return project(ctx, expand_fields(ctx, cmd.fields))
