"""``transaction [field] [maxspan=] [maxpause=] [maxevents=1000] [startswith=] [endswith=] [keepevicted=f]``.

Groups events that share the value of ``field`` (or all events, without a field) into transactions, the way
Splunk builds them: events are taken newest first (``_time`` descending, then the input order) and each
event joins the open transaction of its group unless

- ``maxpause``: it is more than ``maxpause`` older than the event before it (the gap between neighbours);
- ``endswith``: it matches the end condition (seen newest first, an end event opens a transaction);
- ``startswith``: the event before it matched the start condition (the start closed that transaction);
- ``maxspan``: it is more than ``maxspan`` older than the transaction's newest event;
- ``maxevents``: the transaction already has ``maxevents`` events (default 1000).

With ``startswith`` a transaction must begin (its oldest event) with a start event, with ``endswith`` end
(its newest) with an end event; others are evicted and dropped unless ``keepevicted=true``, which keeps them
and adds ``closed_txn`` (1 complete, 0 evicted).

Each transaction is one row: ``_time`` = its earliest event, ``duration`` = latest − earliest (seconds),
``eventcount``, ``_raw`` = the events' ``_raw`` oldest first joined by newlines, the grouping field, and every
other field as the distinct values of its members, sorted as text (``mvlist=false``). Rows come newest
transaction first.

SQL: window functions (``LAG`` over the newest-first order, a running sum numbers the transactions); only
``maxspan`` needs the transaction's first event while walking, done with a recursive CTE. Refused by name:
several fields (Splunk then links events transitively through partial matches), a multivalue field,
``mvlist=true``, ``mvraw``, ``keeporphans``, ``unifyends``, ``connected=true`` with fields.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.commands.bin import parse_span
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import FieldInfo, Kind, OrderKey, Relation, order_by_expressions
from sqldetect.compile.sql import FALSE, alias, and_, anon, cast, coalesce, col, epoch, lit, or_, star
from sqldetect.compile.typed import Typed, as_string
from sqldetect.spl import ast

START, END, T, POS, NEW, TXN, CHUNK = ("_sqld_start", "_sqld_end", "_sqld_t", "_sqld_p", "_sqld_new",
                                       "_sqld_txn", "_sqld_chunk")
DEFAULT_MAXEVENTS = 1000


def _seconds(ctx: StageContext, key: str) -> float | None:
    text = ctx.command.option(key)
    if text is None:
        return None
    amount, kind = parse_span(ctx, text, ctx.option_span(key))
    if kind == "month":
        raise ctx.unsupported(f"transaction {key}= in months", span=ctx.option_span(key))
    return amount


def _condition(ctx: StageContext, expr: ast.SearchExpr | ast.EvalExpr | None) -> exp.Expression:
    if expr is None:
        return FALSE
    if isinstance(expr, (ast.Literal, ast.FieldRef, ast.Call, ast.BinaryOp, ast.UnaryOp, ast.InList)):
        condition = ctx.eval_condition(expr)
    else:
        condition = ctx.search_condition(expr)
    return coalesce(exp.Paren(this=condition), FALSE)


def _window(this: exp.Expression, partition: list[exp.Expression], order: list[exp.Ordered]) -> exp.Window:
    return exp.Window(this=this, partition_by=[p.copy() for p in partition],
                      order=exp.Order(expressions=[o.copy() for o in order]), over="OVER")


@command("transaction", resets_order=True)
def transaction(ctx: StageContext, cmd: ast.TransactionCommand) -> StageResult:
    """Group events into transactions by a field (maxspan, maxpause, maxevents, startswith, endswith)."""
    ctx.check_options({"maxspan", "maxpause", "maxevents", "startswith", "endswith", "keepevicted", "mvlist",
                       "connected", "delim", "nullstr", "maxopentxn", "maxopenevents"},
                      {"mvraw": "raw text as a multivalue field", "keeporphans": "orphan events",
                       "unifyends": "unified start/end conditions", "name": "transactiontypes.conf definitions"})
    if ctx.flag("mvlist", False):
        raise ctx.unsupported("transaction mvlist=true", span=ctx.option_span("mvlist"))
    fields = [f.name for f in cmd.fields]
    if len(fields) > 1:
        raise ctx.unsupported("transaction over several fields", "transaction over several fields links events "
                              "transitively through partly matching fields; sqldetect supports one field",
                              cmd.fields[1].span)
    time = ctx.field("_time")
    if time.kind is not Kind.TIME:
        raise ctx.error("transaction needs _time in its input rows")
    group: list[exp.Expression] = []
    present: list[exp.Expression] = []
    for name in fields:
        value = ctx.field(name)
        if value.kind is Kind.MULTIVALUE:
            raise ctx.unsupported("transaction over a multivalue field", span=cmd.fields[0].span)
        if value.kind is Kind.NULL:
            present.append(FALSE)
            continue
        group.append(value.sql)
        present.append(exp.Not(this=exp.Is(this=value.sql.copy(), expression=exp.Null())))
    maxspan = _seconds(ctx, "maxspan")
    maxpause = _seconds(ctx, "maxpause")
    maxevents = ctx.int_option("maxevents", DEFAULT_MAXEVENTS, minimum=1) or DEFAULT_MAXEVENTS
    keepevicted = ctx.flag("keepevicted", False)
    starts, ends = cmd.startswith is not None, cmd.endswith is not None

    # 1. flag each event: start/end conditions, epoch time, position newest first within its group
    time_column = ctx.input.fields["_time"].column
    newest_first = [exp.Ordered(this=time.sql.copy(), desc=True, nulls_first=False),
                    *order_by_expressions([k for k in ctx.input.order if k.column != time_column])]
    flagged = exp.select(
        star(),
        alias(_condition(ctx, cmd.startswith), START),
        alias(_condition(ctx, cmd.endswith), END),
        alias(epoch(time.sql.copy()), T),
        alias(_window(exp.RowNumber(), group, newest_first), POS),
    ).from_(ctx.source(), copy=False)
    if present:
        flagged = flagged.where(and_(*present), copy=False)

    # 2. where a new transaction begins (walking newest first)
    by_position = [exp.Ordered(this=col(POS), desc=False)]
    breaks: list[exp.Expression] = [exp.EQ(this=col(POS), expression=lit(1))]
    if maxpause is not None:
        gap = exp.Sub(this=_window(anon("lag", col(T)), group, by_position), expression=col(T))
        breaks.append(exp.GT(this=gap, expression=lit(maxpause)))
    if ends:
        breaks.append(col(END))
    if starts:
        breaks.append(coalesce(_window(anon("lag", col(START)), group, by_position), FALSE))
    marked = exp.select(star(), alias(or_(*breaks), NEW)).from_("flagged", copy=False)

    if maxspan is None:
        numbered = exp.select(star(), alias(_window(exp.Sum(this=exp.Cast(
            this=col(NEW), to=exp.DataType.build("INTEGER"))), group, by_position), TXN)).from_("marked", copy=False)
        chunk = exp.IntDiv(this=exp.Paren(this=exp.Sub(this=_window(exp.RowNumber(), [*group, col(TXN)],
                                                                        by_position), expression=lit(1))),
                           expression=lit(maxevents))
        chunked = exp.select(star(), alias(chunk, CHUNK)).from_("numbered", copy=False)
        ctes = [("flagged", flagged), ("marked", marked), ("numbered", numbered), ("chunked", chunked)]
        recursive = False
    else:
        walked = _walk(ctx, fields, maxspan, maxevents)
        chunked = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("m", quoted=True)),
                             col(TXN, "w"), alias(lit(0), CHUNK)).from_(
            exp.Table(this=exp.to_identifier("marked", quoted=True), alias=exp.TableAlias(
                this=exp.to_identifier("m", quoted=True))), copy=False).join(
            exp.Table(this=exp.to_identifier("walk", quoted=True), alias=exp.TableAlias(
                this=exp.to_identifier("w", quoted=True))), join_type="INNER",
            on=and_(*[exp.NullSafeEQ(this=col(ctx.input.fields[n].column, "m"),
                                     expression=col(ctx.input.fields[n].column, "w")) for n in fields
                      if ctx.field(n).kind is not Kind.NULL],
                    exp.EQ(this=col(POS, "m"), expression=col(POS, "w"))), copy=False)
        ctes = [("flagged", flagged), ("marked", marked), ("walk", walked), ("chunked", chunked)]
        recursive = True

    # 3. one row per transaction
    output = Relation()
    items: list[exp.Expression] = []
    ascending = [exp.Ordered(this=col(T), desc=False), exp.Ordered(this=col(POS), desc=True)]
    for info in ctx.input:
        if info.name in fields:
            new = FieldInfo(info.name, info.kind, ctx.new_column(info.name, output))
            output.fields[info.name] = new
            items.append(alias(exp.Max(this=col(info.column)), new.column))
            continue
        if info.name == "_time":
            new = FieldInfo("_time", Kind.TIME, ctx.new_column("_time", output))
            output.fields["_time"] = new
            items.append(alias(exp.Min(this=col(info.column)), new.column))
            continue
        if info.name == "_raw":
            new = FieldInfo("_raw", Kind.STRING, ctx.new_column("_raw", output))
            output.fields["_raw"] = new
            # STRING_AGG(x, sep ORDER BY ...) spelled out: sqlglot's GroupConcat printing rewrites its own tree,
            # so a second printing of the query (e.g. not pretty) came out broken
            joined = anon("STRING_AGG", col(info.column),
                          exp.Order(this=lit("\n"), expressions=[o.copy() for o in ascending]))
            items.append(alias(joined, new.column))
            continue
        if info.kind in (Kind.NULL, Kind.BOOLEAN) or info.name.startswith("_"):
            continue  # per-event bookkeeping such as _serial means nothing for a transaction
        member = Typed(col(info.column), info.kind)
        if info.kind is Kind.MULTIVALUE:
            gathered = anon("flatten", exp.ArrayAgg(this=member.sql))
        else:
            gathered = exp.ArrayAgg(this=as_string(member) if info.kind is not Kind.STRING else member.sql)
        values = anon("list_sort", anon("list_distinct", gathered))  # list_distinct also drops NULLs
        new = FieldInfo(info.name, Kind.MULTIVALUE, ctx.new_column(info.name, output))
        output.fields[info.name] = new
        items.append(alias(anon("nullif", values, cast(exp.Array(expressions=[]), "VARCHAR[]")), new.column))
    for name, value in (("duration", exp.Sub(this=exp.Max(this=col(T)), expression=exp.Min(this=col(T)))),
                        ("eventcount", exp.Count(this=exp.Star()))):
        info = FieldInfo(name, Kind.NUMBER, ctx.new_column(name, output))
        output.fields[name] = info
        items.append(alias(value, info.column))
    complete: list[exp.Expression] = []
    if starts:  # the oldest event (largest position) is a start event
        complete.append(anon("arg_max", col(START), col(POS)))
    if ends:  # the newest event is an end event
        complete.append(anon("arg_min", col(END), col(POS)))
    if keepevicted:
        info = FieldInfo("closed_txn", Kind.NUMBER, ctx.new_column("closed_txn", output))
        output.fields["closed_txn"] = info
        closed = and_(*complete) if complete else exp.Boolean(this=True)
        items.append(alias(exp.Case().when(closed, lit(1), copy=False).else_(lit(0), copy=False), info.column))
    select = exp.select(*items).from_("chunked", copy=False).group_by(*[g.copy() for g in group], col(TXN), col(CHUNK), copy=False)
    if complete and not keepevicted:
        select = select.having(and_(*complete), copy=False)
    for name, query in ctes:
        select = select.with_(name, as_=query, copy=False)
    if recursive:
        select.args["with_"].set("recursive", True)
    output.order = [OrderKey(output.fields["_time"].column, descending=True)]
    output.order += [OrderKey(output.fields[n].column, False, "auto") for n in fields if n in output.fields]
    return StageResult(select, output)


def _walk(ctx: StageContext, fields: list[str], maxspan: float, maxevents: int) -> exp.Expression:
    """Recursive walk newest first carrying each transaction's newest time and size, for ``maxspan``:
    (group..., position, transaction number, newest time, event count)."""
    keys = [ctx.input.fields[n].column for n in fields if ctx.field(n).kind is not Kind.NULL]
    first = exp.select(*[col(k) for k in keys], col(POS), alias(lit(1), TXN), alias(col(T), "_sqld_first"),
                       alias(lit(1), "_sqld_count")).from_("marked", copy=False).where(exp.EQ(this=col(POS), expression=lit(1)), copy=False)
    nxt = exp.Table(this=exp.to_identifier("marked", quoted=True), alias=exp.TableAlias(
        this=exp.to_identifier("n", quoted=True)))
    split = or_(col(NEW, "n"),
                exp.GT(this=exp.Sub(this=col("_sqld_first", "w"), expression=col(T, "n")), expression=lit(maxspan)),
                exp.GTE(this=col("_sqld_count", "w"), expression=lit(maxevents)))
    step = exp.select(
        *[col(k, "n") for k in keys], col(POS, "n"),
        exp.Case().when(split, exp.Add(this=col(TXN, "w"), expression=lit(1)), copy=False).else_(col(TXN, "w"), copy=False),
        exp.Case().when(split.copy(), col(T, "n"), copy=False).else_(col("_sqld_first", "w"), copy=False),
        exp.Case().when(split.copy(), lit(1), copy=False).else_(exp.Add(this=col("_sqld_count", "w"), expression=lit(1)), copy=False),
    ).from_(exp.Table(this=exp.to_identifier("walk", quoted=True), alias=exp.TableAlias(
        this=exp.to_identifier("w", quoted=True))), copy=False).join(nxt, join_type="INNER", on=and_(
            *[exp.NullSafeEQ(this=col(k, "n"), expression=col(k, "w")) for k in keys],
            exp.EQ(this=col(POS, "n"), expression=exp.Add(this=col(POS, "w"), expression=lit(1)))), copy=False)
    return exp.Union(this=first, expression=step, distinct=False)
