"""``mvexpand field [limit=N]``: one row per value of a multivalue field, other fields copied.

- Values come out in their list order, rows in the input order (row i's values before row i+1's).
- A row without the field produces no row (Splunk drops it; decision for ambiguity 18 in docs/semantics.md);
  a single-valued field gives the row back unchanged.
- ``limit=N`` keeps the first N values of each row.

SQL: a lateral ``range(1, len(f) + 1)`` join numbers the values; the value index also extends the row order.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import SEQ_COLUMN, FieldInfo, Kind, OrderKey, order_by_expressions
from sqldetect.compile.sql import alias, anon, col, lit, star
from sqldetect.spl import ast

SOURCE = "row"
VALUES = "value_index"


@command("mvexpand")
def mvexpand(ctx: StageContext, cmd: ast.MvexpandCommand) -> StageResult:
    """One row per value of a multivalue field (limit=N values per row); rows without it are dropped."""
    ctx.check_options({"limit"})
    limit = ctx.int_option("limit", None, minimum=1)
    value = ctx.field(cmd.field)
    output = ctx.input.copy()
    if value.kind is Kind.NULL:
        return StageResult(exp.select(star()).from_(ctx.source(), copy=False).where(exp.Boolean(this=False), copy=False), output)
    info = ctx.input.fields[cmd.field]
    if value.kind is not Kind.MULTIVALUE:
        present = exp.Not(this=exp.Is(this=value.sql, expression=exp.Null()))
        return StageResult(exp.select(star()).from_(ctx.source(), copy=False).where(present, copy=False), output)
    values = col(info.column, SOURCE)
    if limit is not None:
        values = anon("list_slice", values, lit(1), lit(limit))
    index = col("n", VALUES)
    numbers = exp.Table(this=anon("range", lit(1), exp.Add(this=anon("len", values.copy()), expression=lit(1))),
                        alias=exp.TableAlias(this=exp.to_identifier(VALUES, quoted=True),
                                             columns=[exp.to_identifier("n", quoted=True)]))
    element = alias(anon("list_extract", values.copy(), index), info.column)
    items: list[exp.Expression] = [exp.Column(this=star(replace=[element]), table=exp.to_identifier(SOURCE, quoted=True))]
    output.fields[cmd.field] = FieldInfo(cmd.field, Kind.STRING, info.column)
    if ctx.order_needed and ctx.input.order:
        order = order_by_expressions(ctx.input.order, SOURCE)
        order.append(exp.Ordered(this=index.copy(), desc=False, nulls_first=False))
        if SEQ_COLUMN in ctx.input.hidden:
            items[0].this.set("except_", [col(SEQ_COLUMN)])
        else:
            output.hidden.append(SEQ_COLUMN)
        items.append(alias(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order), over="OVER"),
                           SEQ_COLUMN))
        output.order = [OrderKey(SEQ_COLUMN)]
    else:
        output.order = []
    source = exp.Table(this=exp.to_identifier(ctx.source().name, quoted=True),
                       alias=exp.TableAlias(this=exp.to_identifier(SOURCE, quoted=True)))
    select = exp.select(*items).from_(source, copy=False).join(numbers, copy=False)
    return StageResult(select, output)
