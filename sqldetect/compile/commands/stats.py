"""``stats``, ``eventstats`` and ``streamstats``: one aggregation table (``aggregations.py``), three shapes.

- stats: GROUP BY the BY fields. Rows whose BY field is NULL are dropped; a multivalue BY field puts the row
  in the group of each of its (distinct) values. Output: BY fields, then aggregations, ordered by the BY
  values. Without BY, exactly one row (``count`` is 0 over no rows).
- eventstats: every row kept, each gets its group's aggregates (window functions). Rows with a NULL BY field
  get NULL. With a multivalue BY field, a row's group is every row sharing at least one of its values
  (decision recorded in docs/semantics.md).
- streamstats: running aggregates in the current row order (window frames): ``window=N``, ``current=f``,
  ``global``; BY fields partition (with a window and ``global=true`` the frame is the last N rows of the
  whole stream, so it is ranged over each row's position in the stream).
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
        inner = exp.select(star(replace=replaced), copy=False).from_(from_, copy=False)
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
            # a BY field without values (absent, or set to null()): every row has NULL there, so no row
            # survives; the output column is a NULL literal, as a column outside GROUP BY would not bind
            conditions.append(exp.Boolean(this=False))
            info = ctx.set_field(output, name, Kind.STRING)
            items.append(alias(null(), info.column))
            group.append(null())  # still a grouped query: no input rows give no output rows
            continue
        info = ctx.set_field(output, name, value.kind)
        items.append(alias(value.sql, info.column) if info.column != relation.fields[name].column else value.sql)
        # value.sql is the field's column: a fresh reference per use is cheaper than a copy
        group.append(ctx.field(name, relation).sql)
        conditions.append(exp.Not(this=exp.Is(this=ctx.field(name, relation).sql, expression=exp.Null())))
    order = ctx.order_by(relation) if consumes_order(aggregations) else []
    for item in plan_aggregations(ctx, aggregations, relation, exclude=set(by)):
        typed = translate_planned(ctx, item, relation, order, lambda agg: agg)
        if item.output in by:
            continue
        info = ctx.set_field(output, item.output, typed.kind)
        items.append(alias(typed.sql, info.column))
    select = exp.select(*items, copy=False).from_(from_, copy=False)
    where = [c for c in [*conditions, extra_where] if c is not None]
    if where:
        select = select.where(and_(*where), copy=False)
    if group:
        select.set("group", exp.Group(expressions=group))  # as ``group_by`` builds it, without its wrappers
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

    whole_partition = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                                     end="UNBOUNDED", end_side="FOLLOWING")

    def over(agg: exp.Expression) -> exp.Expression:
        # order-sensitive functions (first, last, list) read the rows in the current order, over the
        # whole group (an ORDER BY alone would make the frame end at the current row)
        if order:
            return exp.Window(this=agg, partition_by=[v.sql.copy() for v in by_values],
                              order=exp.Order(expressions=[o.copy() for o in order]), spec=whole_partition.copy(),
                              over="OVER")
        return exp.Window(this=agg, partition_by=[v.sql.copy() for v in by_values], over="OVER")

    for item in plan_aggregations(ctx, cmd.aggregations, ctx.input, exclude=set(by)):
        typed = translate_planned(ctx, item, ctx.input, order, over)
        value = typed.sql if present is None else exp.Case().when(present.copy(), typed.sql, copy=False)
        changes.append((item.output, Typed(value, typed.kind)))
    return ctx.with_changes(changes)


def _eventstats_shared_values(ctx: StageContext, cmd: ast.StatsCommand, by: list[str],
                              present: exp.Expression | None) -> StageResult:
    """eventstats with a multivalue BY field: each row is aggregated over its *peers*, the rows that share at
    least one value of every BY field with it. Rows are numbered, their BY values exploded, peers found by an
    equality join on the values (so DuckDB can hash-join instead of comparing every pair of rows), then each
    row's peers are aggregated and joined back."""
    del present  # rows without BY values have no peers, so they get no value
    row, peer, key = "_sqld_row", "_sqld_peer", "_sqld_key"
    numbered = exp.select(star(), alias(exp.Window(this=exp.RowNumber(), over="OVER"), row), copy=False).from_(ctx.source(), copy=False)
    ctes: list[tuple[str, exp.Expression]] = [("numbered", numbered)]
    pair_queries = []
    for i, name in enumerate(by, start=1):
        info = ctx.input.fields[name]
        value: exp.Expression = col(info.column)
        if info.kind is Kind.MULTIVALUE:
            value = anon("unnest", anon("list_distinct", value))
        exploded = exp.select(col(row), alias(value, key), copy=False).from_(exp.Table(this=ident("numbered")), copy=False)
        if info.kind is not Kind.MULTIVALUE:
            exploded = exploded.where(exp.Not(this=exp.Is(this=col(info.column), expression=exp.Null())), copy=False)
        ctes.append((f"by_values_{i}", exploded))
        pair_queries.append(
            exp.select(col(row, "a"), alias(col(row, "b"), peer))
            .from_(exp.Table(this=ident(f"by_values_{i}"), alias=exp.TableAlias(this=ident("a"))), copy=False)
            .join(exp.Table(this=ident(f"by_values_{i}"), alias=exp.TableAlias(this=ident("b"))),
                  on=exp.EQ(this=col(key, "a"), expression=col(key, "b")), copy=False)
        )
    peers: exp.Expression = pair_queries[0].distinct(copy=False)
    for query in pair_queries[1:]:
        peers = exp.Intersect(this=peers, expression=query, distinct=True)
    ctes.append(("peers", peers))

    order = ctx.order_by() if consumes_order(cmd.aggregations) else []
    output = ctx.input.copy()
    group_items: list[exp.Expression] = [col(row, "peers")]
    outputs: list[tuple[str, str, Kind]] = []
    for n, item in enumerate(plan_aggregations(ctx, cmd.aggregations, ctx.input, exclude=set(by)), start=1):
        typed = translate_planned(ctx, item, ctx.input, order, lambda agg: agg)
        group_items.append(alias(typed.sql, f"_sqld_agg_{n}"))
        outputs.append((item.output, f"_sqld_agg_{n}", typed.kind))
    groups = (exp.select(*group_items, copy=False).from_(exp.Table(this=ident("peers")), copy=False)
              .join(exp.Table(this=ident("numbered")), on=exp.EQ(this=col(row, "numbered"),
                                                                   expression=col(peer, "peers")), copy=False)
              .group_by(col(row, "peers"), copy=False))
    ctes.append(("groups", groups))

    replaced: list[exp.Expression] = []
    added: list[exp.Expression] = []
    for name, agg_column, kind in outputs:
        existing = output.fields.get(name)
        if existing is not None:
            output.fields[name] = FieldInfo(name, kind, existing.column)
            replaced.append(alias(col(agg_column), existing.column))
        else:
            info = ctx.set_field(output, name, kind)
            added.append(alias(col(agg_column), info.column))
    hidden = [row] + [agg for _, agg, _ in outputs]
    select = exp.select(star(exclude=hidden, replace=replaced), *added, copy=False).from_(
        exp.Table(this=ident("numbered")), copy=False).join(exp.Table(this=ident("groups")), using=[ident(row)], join_type="left", copy=False)
    for name, body in ctes:
        select = select.with_(name, as_=body, copy=False)
    ctx.keep_order(output, select, set())
    return StageResult(select, output)


@command("streamstats", consumes_order=True)
def streamstats(ctx: StageContext, cmd: ast.StatsCommand) -> StageResult:
    """Running aggregates in the current row order: window=N, current=f, BY partitions, global=f."""
    _check_options(ctx, cmd, {"window", "current", "global", "allnum"})
    by = _by_names(ctx, cmd)
    window = int(cmd.option("window", "0") or 0)
    current = _truthy(cmd.option("current", "t"))
    global_window = _truthy(cmd.option("global", "t"))
    by_values = [ctx.field(n) for n in by]
    if any(v.kind is Kind.MULTIVALUE for v in by_values):
        raise ctx.unsupported("streamstats BY a multivalue field", span=cmd.span)
    order = ctx.order_by()
    if not order:
        raise ctx.error("streamstats needs a row order, but the input order is unknown here")
    partition = [v.sql.copy() for v in by_values if v.kind is not Kind.NULL]
    # With BY, window=N and global=true (the default) the window is the last N rows of the whole stream,
    # of which each row aggregates those of its own group: frame the group's rows by their position in
    # the whole stream (RANGE over a row number) instead of by their position within the group.
    positional = window > 0 and bool(partition) and global_window
    if positional:
        frame_order = [exp.Ordered(this=col(POSITION))]
        kind = "RANGE"
    else:
        frame_order = order
        kind = "ROWS"
    end: object = "CURRENT ROW" if current else lit(1)
    end_side = None if current else "PRECEDING"
    start: object = lit(window - 1 if current else window) if window > 0 else "UNBOUNDED"
    spec = exp.WindowSpec(kind=kind, start=start, start_side="PRECEDING", end=end, end_side=end_side)

    def over(agg: exp.Expression) -> exp.Expression:
        return exp.Window(this=agg, partition_by=[p.copy() for p in partition],
                          order=exp.Order(expressions=[o.copy() for o in frame_order]), spec=spec.copy(),
                          over="OVER")

    changes: list[tuple[str, Typed]] = []
    present = and_(*(exp.Not(this=exp.Is(this=v.sql, expression=exp.Null())) for v in by_values)) if by else None
    for item in plan_aggregations(ctx, cmd.aggregations, ctx.input, exclude=set(by)):
        typed = translate_planned(ctx, item, ctx.input, order, over)
        value = typed.sql if present is None else exp.Case().when(present.copy(), typed.sql, copy=False)
        changes.append((item.output, Typed(value, typed.kind)))
    result = ctx.with_changes(changes)
    if positional:
        _read_with_position(result.select, ctx, order)
    return result


POSITION = "_sqld_pos"


def _read_with_position(select: exp.Select, ctx: StageContext, order: list[exp.Ordered]) -> None:
    """Make ``select`` read its input numbered in the current order (column ``_sqld_pos``), and not pass
    that column on."""
    number = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[o.copy() for o in order]), over="OVER")
    numbered = exp.select(star(), alias(number, POSITION), copy=False).from_(ctx.source(), copy=False)
    select.set("from_", exp.From(this=exp.Subquery(this=numbered, alias=exp.TableAlias(this=ident("numbered")))))
    passthrough = select.expressions[0]
    assert isinstance(passthrough, exp.Star)
    passthrough.set("except_", [*(passthrough.args.get("except_") or []), col(POSITION)])


def _truthy(text: str | None) -> bool:
    return (text or "").lower() in ("t", "true", "1", "yes")


__all__: list[Callable] = []
