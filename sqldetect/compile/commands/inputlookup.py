"""``inputlookup [append=f] [start=0] [max=N] <table> [where <search>]``: the rows of a CSV lookup.

- Each CSV row becomes a result, in file order; every value is text and empty cells are no value.
- ``start=`` (0-based) and ``max=`` pick rows as the file is read, before ``where`` filters them.
- ``where`` uses the search language (case-insensitive values, wildcards, ``NOT``/``!=``...).
- As the first command it generates rows; later in a pipeline it needs ``append=true`` and then adds the
  lookup rows after the current ones (fields unioned), otherwise it is an error as in Splunk.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.combine import Part, stack, subquery
from sqldetect.compile.commands.lookup import resolve_table, table_name_span
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.lookups import ROW_COLUMN, LookupTable
from sqldetect.compile.registry import command
from sqldetect.compile.relation import SEQ_COLUMN, FieldInfo, Kind, OrderKey, Relation
from sqldetect.compile.sql import alias, and_, col, lit
from sqldetect.spl import ast

LOOKUP = "lookup"


def lookup_rows(ctx: StageContext, table: LookupTable, where: ast.SearchExpr | None, start: int,
                maximum: int | None) -> StageResult:
    """SELECT the lookup's rows (text fields, hidden file-row number as the order)."""
    relation = Relation()
    for name in table.columns:
        relation.fields[name] = FieldInfo(name, Kind.STRING, ctx.new_column(name, relation))
    items: list[exp.Expression] = [
        col(name, LOOKUP) if relation.fields[name].column == name else alias(col(name, LOOKUP),
                                                                              relation.fields[name].column)
        for name in table.columns
    ]
    items.append(alias(col(ROW_COLUMN, LOOKUP), SEQ_COLUMN))
    conditions: list[exp.Expression] = []
    if start:
        conditions.append(exp.GT(this=col(ROW_COLUMN, LOOKUP), expression=lit(start)))
    if maximum is not None:
        conditions.append(exp.LTE(this=col(ROW_COLUMN, LOOKUP), expression=lit(start + maximum)))
    if where is not None:
        reading = Relation(fields={n: FieldInfo(n, Kind.STRING, n) for n in table.columns})
        conditions.append(ctx.search_condition(where, reading))
    select = exp.select(*items).from_(table.source(LOOKUP), copy=False)
    if conditions:
        select = select.where(and_(*conditions), copy=False)
    relation.hidden = [SEQ_COLUMN]
    relation.order = [OrderKey(SEQ_COLUMN)]
    return StageResult(select, relation)


@command("inputlookup", generating=True)
def inputlookup(ctx: StageContext, cmd: ast.InputlookupCommand) -> StageResult:
    """The rows of a CSV lookup (start=, max=, where <search>); later in a pipeline with append=t."""
    ctx.check_options({"append", "start", "max"})
    append = ctx.flag("append", False)
    if ctx.source_name is not None and not append:
        raise ctx.error("inputlookup must be the first command unless append=true")
    table = resolve_table(ctx, cmd.table, table_name_span(ctx, cmd, cmd.table))
    rows = lookup_rows(ctx, table, cmd.where, ctx.int_option("start", 0) or 0, ctx.int_option("max", None))
    if ctx.source_name is None:
        return rows
    return stack(ctx, [Part(ctx.source(), ctx.input), Part(subquery(rows.select, "lookup_rows"), rows.relation)])
