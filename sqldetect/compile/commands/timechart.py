"""``timechart span=<span> <aggregations>``: aggregates per time bucket, one row per bucket.

- ``span=`` is required: without it Splunk sizes buckets from the search's time range, which a query over
  a table does not have. Buckets are aligned as ``bin`` aligns them (sub-day spans from the Unix epoch, UTC).
- Every bucket between the first and the last bucket that has events appears (``cont=true``, the default;
  Splunk spans the search's time range, sqldetect the data's — decision in docs/semantics.md): count-like
  results (``count``, ``dc``, ``distinct_count``, ``estdc``) are 0 there, other aggregations have no value.
  ``cont=false`` keeps only buckets with events.
- Rows come in ascending time order. Aggregation functions and their names are those of ``stats``.
- ``BY <field>`` is refused: it makes one output column per value of the field, so the columns depend on
  the data (write ``bin _time span=... | stats ... by _time, field`` instead). ``limit``, ``useother``,
  ``usenull`` only shape BY columns and are accepted; ``bins``, ``minspan``, ``fixedrange``... are refused.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.aggregations import consumes_order, plan_aggregations
from sqldetect.compile.combine import subquery
from sqldetect.compile.commands.bin import _best_unit, parse_span, time_bucket_sql
from sqldetect.compile.commands.stats import group_select
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind, OrderKey
from sqldetect.compile.sql import alias, anon, col, lit, star
from sqldetect.spl import ast

GRID = "grid"
BUCKETS = "buckets"
ZERO_WHEN_EMPTY = {"count", "c", "dc", "distinct_count", "estdc"}


def _interval(ctx: StageContext, text: str, span) -> exp.Expression:
    amount, kind = parse_span(ctx, text, span)
    if kind == "month":
        return exp.Interval(this=lit(str(int(amount))), unit=exp.Var(this="MONTH"))
    if amount >= 1 and amount == int(amount):
        unit, size = _best_unit(int(amount))
        return exp.Interval(this=lit(str(int(amount) // size)), unit=exp.Var(this=unit))
    return exp.Interval(this=lit(str(round(amount * 1_000_000))), unit=exp.Var(this="MICROSECOND"))


def _consumes(cmd: ast.Command) -> bool:
    return consumes_order(getattr(cmd, "aggregations", []))


@command("timechart", resets_order=True, consumes_order=_consumes)
def timechart(ctx: StageContext, cmd: ast.TimechartCommand) -> StageResult:
    """Aggregate per time bucket (span= required, no BY); empty buckets between the first and last appear."""
    ctx.check_options({"span", "cont", "limit", "useother", "usenull", "partial", "aligntime"})
    if cmd.by:
        raise ctx.unsupported("timechart BY", "timechart ... BY <field> makes one column per value of the field, "
                              "which depends on the data; use bin _time span=... | stats ... by _time, <field>",
                              cmd.by[0].span)
    if not cmd.span_value:
        raise ctx.unsupported("timechart without span=", "timechart needs span= (Splunk sizes buckets from the "
                              "search time range, which sqldetect does not have)")
    if not cmd.aggregations:
        raise ctx.error("timechart needs an aggregation such as count")
    time = ctx.field("_time")
    if time.kind is not Kind.TIME:
        raise ctx.error("timechart needs _time in its input rows")
    span = ctx.option_span("span")
    bucket = time_bucket_sql(ctx, time.sql, cmd.span_value, span, cmd.option("aligntime"))
    bucketed = exp.select(star(replace=[alias(bucket, ctx.input.fields["_time"].column)])).from_(ctx.source(), copy=False)
    grouped = group_select(ctx, cmd.aggregations, ["_time"], source=subquery(bucketed, "bucketed"))
    output = grouped.relation
    output.order = [OrderKey(output.fields["_time"].column)]
    if not ctx.flag("cont", True):
        return StageResult(grouped.select, output)

    time_column = output.fields["_time"].column
    step = _interval(ctx, cmd.span_value, span)
    grid = exp.select(alias(anon("unnest", anon("range", exp.Min(this=col(time_column)), exp.Add(
        this=exp.Max(this=col(time_column)), expression=step), step.copy())), time_column)).from_(BUCKETS, copy=False)
    zero = {item.output for item in plan_aggregations(ctx, cmd.aggregations, ctx.input, exclude={"_time"})
            if item.func.lower() in ZERO_WHEN_EMPTY}
    items: list[exp.Expression] = [col(time_column, GRID)]
    for info in output:
        if info.name == "_time":
            continue
        value: exp.Expression = col(info.column, BUCKETS)
        if info.name in zero:
            value = exp.Coalesce(this=value, expressions=[lit(0)])
        items.append(alias(value, info.column))
    select = exp.select(*items).from_(subquery(grid, GRID), copy=False).join(
        BUCKETS, join_type="LEFT", on=exp.EQ(this=col(time_column, GRID), expression=col(time_column, BUCKETS)), copy=False)
    select = select.with_(BUCKETS, as_=grouped.select, copy=False)
    return StageResult(select, output)
