"""``top`` / ``rare``: the most (least) frequent value combinations of some fields, with count and percent.

``top [N|limit=N] [countfield=count] [percentfield=percent] [showcount=t] [showperc=t] [useother=f]
[otherstr=OTHER] fields [BY fields]``:

- Rows are counted per combination of the listed fields' values (per BY group); a row lacking any listed
  or BY field is not counted; a multivalue field counts once per value, as ``stats ... by`` does.
- ``percent`` = count × 100 / the number of counted rows of the BY group (ambiguity 12: the denominator
  is the rows that have the fields, so a complete listing adds up to 100), rounded to 6 decimals as Splunk
  prints it.
- Within a group rows are sorted by count, descending for ``top`` and ascending for ``rare``; equal counts
  are ordered by the values ascending (ambiguity 12, decision in docs/semantics.md). Groups come in BY-value
  order. ``limit=0`` keeps every row (default 10).
- ``useother=true`` adds, per group with rows beyond the limit, one row whose listed fields hold ``otherstr``
  and whose count/percent cover the rest.
- Output fields: BY fields, listed fields, then count and percent (unless hidden by showcount/showperc).
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.commands.stats import group_select
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import SEQ_COLUMN, FieldInfo, Kind, OrderKey, Relation, order_by_expressions
from sqldetect.compile.sql import alias, anon, col, lit
from sqldetect.compile.typed import Typed, as_string
from sqldetect.spl import ast

RANKED = "ranked"
TOTAL = "_sqld_total"


def _names(ctx: StageContext, fields: list[ast.FieldName], what: str) -> list[str]:
    names: list[str] = []
    for f in fields:
        if "*" in f.name:
            raise ctx.unsupported(f"wildcard {what} fields", span=f.span)
        if f.name not in names:
            names.append(f.name)
    return names


def _named(value: exp.Expression, column: str) -> exp.Expression:
    """``value AS column``, or just the column when it already has that name."""
    if isinstance(value, exp.Column) and not value.table and value.name == column:
        return value
    return alias(value, column)


@command("top", aliases=("rare",), resets_order=True)
def top(ctx: StageContext, cmd: ast.TopCommand) -> StageResult:
    """Most (top) or least (rare) frequent value combinations with count and percent (limit, BY, useother)."""
    rare = cmd.name == "rare"
    ctx.check_options({"limit", "countfield", "percentfield", "showcount", "showperc", "useother", "otherstr"})
    fields = _names(ctx, cmd.fields, cmd.name)
    by = _names(ctx, cmd.by, "BY")
    countfield = cmd.option("countfield") or "count"
    percentfield = cmd.option("percentfield") or "percent"
    showcount = ctx.flag("showcount", True)
    showperc = ctx.flag("showperc", True)
    useother = ctx.flag("useother", False)
    otherstr = cmd.option("otherstr") or "OTHER"
    limit = cmd.limit

    counting = ast.Aggregation("count", None, TOTAL, "count", cmd.span)
    grouped = group_select(ctx, [counting], by + fields)
    counted = grouped.relation
    count_col = col(counted.fields[TOTAL].column)
    by_cols = [col(counted.fields[n].column) for n in by]
    ties = order_by_expressions([OrderKey(counted.fields[n].column, False, "auto") for n in fields])
    rank_order = [exp.Ordered(this=count_col.copy(), desc=not rare, nulls_first=False), *ties]
    rank = exp.Window(this=exp.RowNumber(), partition_by=[c.copy() for c in by_cols],
                      order=exp.Order(expressions=rank_order), over="OVER")
    group_total = exp.Window(this=exp.Sum(this=count_col.copy()), partition_by=[c.copy() for c in by_cols],
                             over="OVER")
    ranked = exp.select(exp.Star(), alias(group_total, "_sqld_group_total"), alias(rank, SEQ_COLUMN)).from_(
        exp.Subquery(this=grouped.select, alias=exp.TableAlias(this=exp.to_identifier("counted", quoted=True))), copy=False)

    output = Relation()
    kinds: dict[str, Kind] = {}
    for name in by + fields:
        kind = counted.fields[name].kind
        if useother and name in fields and kind is not Kind.STRING:
            kind = Kind.STRING  # the OTHER row puts text in every listed field
        kinds[name] = kind
        output.fields[name] = FieldInfo(name, kind, ctx.new_column(name, output))

    def percent(count: exp.Expression, total: exp.Expression) -> exp.Expression:
        return anon("round", exp.Div(this=exp.Mul(this=count, expression=lit(100.0)), expression=total), lit(6))

    def row_items(values: dict[str, exp.Expression], count: exp.Expression, total: exp.Expression,
                  seq: exp.Expression) -> list[exp.Expression]:
        items = [_named(values[n], output.fields[n].column) for n in by + fields]
        if showcount:
            items.append(_named(count, output.fields[countfield].column))
        if showperc:
            items.append(alias(percent(count.copy(), total), output.fields[percentfield].column))
        items.append(_named(seq, SEQ_COLUMN))
        return items

    if showcount:
        output.fields[countfield] = FieldInfo(countfield, Kind.NUMBER, ctx.new_column(countfield, output))
    if showperc:
        output.fields[percentfield] = FieldInfo(percentfield, Kind.NUMBER, ctx.new_column(percentfield, output))

    def value(name: str) -> exp.Expression:
        typed = Typed(col(counted.fields[name].column), counted.fields[name].kind)
        return as_string(typed) if kinds[name] is Kind.STRING and typed.kind is not Kind.STRING else typed.sql

    shown = exp.select(*row_items({n: value(n) for n in by + fields}, col(counted.fields[TOTAL].column),
                                  col("_sqld_group_total"), col(SEQ_COLUMN))).from_(RANKED, copy=False)
    if limit > 0:
        shown = shown.where(exp.LTE(this=col(SEQ_COLUMN), expression=lit(limit)), copy=False)
    body: exp.Expression = shown
    if useother and limit > 0:
        other_values = {n: col(counted.fields[n].column) for n in by}
        other_values.update({n: lit(otherstr) for n in fields})
        rest = exp.Sum(this=col(counted.fields[TOTAL].column))
        other = exp.select(*row_items(other_values, rest, exp.Max(this=col("_sqld_group_total")),
                                      lit(limit + 1))).from_(RANKED, copy=False).where(
            exp.GT(this=col(SEQ_COLUMN), expression=lit(limit)), copy=False)
        if by:
            other = other.group_by(*[col(counted.fields[n].column) for n in by], copy=False)
        body = exp.Union(this=shown, expression=other, distinct=False)
    body = body.with_(RANKED, as_=ranked, copy=False)  # type: ignore[attr-defined]
    output.hidden = [SEQ_COLUMN]
    output.order = [OrderKey(output.fields[n].column, False, "raw" if kinds[n] is Kind.TIME else "auto")
                    for n in by] + [OrderKey(SEQ_COLUMN)]
    return StageResult(body, output)  # type: ignore[arg-type]
