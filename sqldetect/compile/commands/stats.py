"""``stats``, ``eventstats`` and ``streamstats``: one aggregation table (``aggregations.py``), three shapes.

- stats: GROUP BY the BY fields. Rows whose BY field is NULL are dropped; a multivalue BY field puts the row
  in the group of each of its (distinct) values. Output: BY fields, then aggregations, ordered by the BY
  values. Without BY, exactly one row (``count`` is 0 over no rows).
- eventstats: every row kept, each gets its group's aggregates (window functions). Rows with a NULL BY field
  get NULL. With a multivalue BY field, a row's group is every row sharing at least one of its values
  (decision recorded in docs/semantics.md).
- streamstats: running aggregates in the current row order (window frames): ``window=N``, ``current=f``,
  ``global``; BY fields partition.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from sqldetect.compile.aggregations import consumes_order, plan_aggregations, translate_planned
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import FieldInfo, Kind, OrderKey, Relation
from sqldetect.compile.sql import alias, and_, anon, col, ident, lit, null, star
from sqldetect.compile.typed import Typed
from sqldetect.spl import ast


def _by_names(ctx: StageContext, cmd: ast.StatsCommand) -> list[str]:
    names = []
    for f in cmd.by:
        if "*" in f.name:
            raise ctx.unsupported("wildcard BY fields", span=f.span)
        if f.name not in names:
            names.append(f.name)
    return names


def _check_options(ctx: StageContext, cmd: ast.Command, allowed: set[str]) -> None:
    for key, opt in cmd.options.items():
        if key not in allowed:
            raise ctx.unsupported(f"{cmd.name} {key}=", span=opt.span)


def _consumes(cmd: ast.Command) -> bool:
    return consumes_order(getattr(cmd, "aggregations", []))


def group_select(ctx: StageContext, aggregations: list[ast.Aggregation], by: list[str],
                 source: exp.Expression | None = None, relation: Relation | None = None,
                 extra_where: exp.Expression | None = None) -> StageResult:
    """A GROUP BY over ``by`` with SPL's stats rules; shared by stats, tstats, timechart and top-like
    commands. ``source``/``relation`` default to the stage input."""
    relation = relation or ctx.input
    from_: exp.Expression = source if source is not None else ctx.source()
    mv_by = [n for n in by if (info := relation.get(n)) is not None and info.kind is Kind.MULTIVALUE]
    if mv_by:
        # one row per distinct value of each multivalue BY field
        replaced = [alias(anon("unnest", anon("list_distinct", col(relation.fields[n].column))),
                          relation.fields[n].column) for n in mv_by]
        inner = exp.select(star(replace=replaced)).from_(from_)
        from_ = exp.Subquery(this=inner, alias=exp.TableAlias(this=ident("split_by")))
        relation = relation.copy()
        for n in mv_by:
            relation.fields[n] = FieldInfo(n, Kind.STRING, relation.fields[n].column)

    output = Relation()
    items: list[exp.Expression] = []
    group: list[exp.Expression] = []
    conditions: list[exp.Expression] = []
    for name in by:
        value = ctx.field(name, relation)
        if value.kind is Kind.NULL:
            # a BY field that does not exist: every row has NULL there, so no row survives
            conditions.append(exp.Boolean(this=False))
            info = ctx.set_field(output, name, Kind.STRING)
            items.append(alias(null(), info.column))  # not value.sql: an ungrouped column fails to bind
            continue
        info = ctx.set_field(output, name, value.kind)
        items.append(alias(value.sql, info.column) if info.column != relation.fields[name].column else value.sql)
        group.append(value.sql.copy())
        conditions.append(exp.Not(this=exp.Is(this=value.sql.copy(), expression=exp.Null())))
    order = ctx.order_by(relation) if consumes_order(aggregations) else []
    for item in plan_aggregations(ctx, aggregations, relation, exclude=set(by)):
        typed = translate_planned(ctx, item, relation, order, lambda agg: agg)
        if item.output in by:
            continue
        info = ctx.set_field(output, item.output, typed.kind)
        items.append(alias(typed.sql, info.column))
    select = exp.select(*items).from_(from_)
    where = [c for c in [*conditions, extra_where] if c is not None]
    if where:
        select = select.where(and_(*where))
    if group:
        select = select.group_by(*group)
    output.order = [OrderKey(output.fields[n].column, False, "raw" if output.fields[n].kind is Kind.TIME else "auto")
                    for n in by if n in output.fields]
    return StageResult(select, output)


@command("stats", resets_order=True, consumes_order=_consumes)
def stats(ctx: StageContext, cmd: ast.StatsCommand) -> StageResult:
    """Aggregate rows per group of BY values (null BY values dropped, multivalue BY values split)."""
    _check_options(ctx, cmd, {"allnum", "dedup_splitvals", "delim", "partitions"})
    if not cmd.aggregations:
        raise ctx.error("stats needs at least one aggregation")
    return group_select(ctx, cmd.aggregations, _by_names(ctx, cmd))


@command("eventstats", consumes_order=_consumes)
def eventstats(ctx: StageContext, cmd: ast.StatsCommand) -> StageResult:
    """Add each row's group aggregates to the row (window functions); every row is kept."""
    _check_options(ctx, cmd, {"allnum"})
    by = _by_names(ctx, cmd)
    if not cmd.aggregations:
        raise ctx.error("eventstats needs at least one aggregation")
    by_values = [ctx.field(n) for n in by]
    mv_by = [n for n, v in zip(by, by_values, strict=True) if v.kind is Kind.MULTIVALUE]
    order = ctx.order_by() if consumes_order(cmd.aggregations) else []
    changes: list[tuple[str, Typed]] = []
    if any(v.kind is Kind.NULL for v in by_values):
        for item in plan_aggregations(ctx, cmd.aggregations, ctx.input, exclude=set(by)):
            changes.append((item.output, Typed(exp.Null(), Kind.NULL)))
        return ctx.with_changes(changes)
    present = and_(*(exp.Not(this=exp.Is(this=v.sql, expression=exp.Null())) for v in by_values)) if by else None
    if mv_by:
        return _eventstats_shared_values(ctx, cmd, by, present)

    def over(agg: exp.Expression) -> exp.Expression:
        return exp.Window(this=agg, partition_by=[v.sql.copy() for v in by_values], over="OVER")

    for item in plan_aggregations(ctx, cmd.aggregations, ctx.input, exclude=set(by)):
        typed = translate_planned(ctx, item, ctx.input, order, over)
        value = typed.sql if present is None else exp.Case().when(present.copy(), typed.sql)
        changes.append((item.output, Typed(value, typed.kind)))
    return ctx.with_changes(changes)


def _eventstats_shared_values(ctx: StageContext, cmd: ast.StatsCommand, by: list[str],
                              present: exp.Expression | None) -> StageResult:
    """eventstats with a multivalue BY field: aggregate, for each row, over the rows that share at least one
    value of every BY field with it (a correlated subquery per aggregation)."""
    outer = ctx.source_name or ""
    peer = "peer"
    conditions = []
    for name in by:
        info = ctx.input.fields[name]
        mine, theirs = col(info.column, outer), col(info.column, peer)
        if info.kind is Kind.MULTIVALUE:
            conditions.append(anon("list_has_any", theirs, mine))
        else:
            conditions.append(exp.EQ(this=theirs, expression=mine))
    order = ctx.order_by() if consumes_order(cmd.aggregations) else []
    changes: list[tuple[str, Typed]] = []
    for item in plan_aggregations(ctx, cmd.aggregations, ctx.input, exclude=set(by)):
        typed = translate_planned(ctx, item, ctx.input, order, lambda agg: agg)
        sub = exp.select(typed.sql).from_(
            exp.Table(this=ident(outer), alias=exp.TableAlias(this=ident(peer)))
        ).where(and_(*[c.copy() for c in conditions]))
        value: exp.Expression = exp.Subquery(this=sub)
        if present is not None:
            value = exp.Case().when(_qualified(present.copy(), outer), value)
        changes.append((item.output, Typed(value, typed.kind)))
    return ctx.with_changes(changes)


def _qualified(e: exp.Expression, table: str) -> exp.Expression:
    for column in e.find_all(exp.Column):
        if not column.table:
            column.set("table", ident(table))
    return e


@command("streamstats", consumes_order=True)
def streamstats(ctx: StageContext, cmd: ast.StatsCommand) -> StageResult:
    """Running aggregates in the current row order: window=N, current=f, BY partitions."""
    _check_options(ctx, cmd, {"window", "current", "global", "allnum"})
    by = _by_names(ctx, cmd)
    window = int(cmd.option("window", "0") or 0)
    current = (cmd.option("current", "t") or "t").lower() in ("t", "true", "1")
    by_values = [ctx.field(n) for n in by]
    if any(v.kind is Kind.MULTIVALUE for v in by_values):
        raise ctx.unsupported("streamstats BY a multivalue field", span=cmd.span)
    order = ctx.order_by()
    if not order:
        raise ctx.error("streamstats needs a row order, but the input order is unknown here")
    end: object = "CURRENT ROW" if current else lit(1)
    end_side = None if current else "PRECEDING"
    if window > 0:
        start: object = lit(window - 1 if current else window)
    else:
        start = "UNBOUNDED"
    spec = exp.WindowSpec(kind="ROWS", start=start, start_side="PRECEDING", end=end, end_side=end_side)

    def over(agg: exp.Expression) -> exp.Expression:
        return exp.Window(this=agg, partition_by=[v.sql.copy() for v in by_values if v.kind is not Kind.NULL],
                          order=exp.Order(expressions=[o.copy() for o in order]), spec=spec.copy(), over="OVER")

    changes: list[tuple[str, Typed]] = []
    present = and_(*(exp.Not(this=exp.Is(this=v.sql, expression=exp.Null())) for v in by_values)) if by else None
    for item in plan_aggregations(ctx, cmd.aggregations, ctx.input, exclude=set(by)):
        typed = translate_planned(ctx, item, ctx.input, order, over)
        value = typed.sql if present is None else exp.Case().when(present.copy(), typed.sql)
        changes.append((item.output, Typed(value, typed.kind)))
    return ctx.with_changes(changes)


__all__: list[Callable] = []
