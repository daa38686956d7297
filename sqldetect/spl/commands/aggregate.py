"""Aggregating commands: ``stats``, ``eventstats``, ``streamstats``, ``chart``, ``timechart``, ``tstats``,
``top``/``rare`` and ``bin``/``bucket``/``discretize``, plus the aggregation syntax they share."""

from __future__ import annotations

from sqldetect.errors import Span
from sqldetect.spl.args import END, PAREN, STRING, WORD, ArgStream
from sqldetect.spl.ast import (
    Aggregation,
    BinCommand,
    EvalExpr,
    FieldName,
    Option,
    SearchAnd,
    SearchCompare,
    SearchExpr,
    StatsCommand,
    TimechartCommand,
    TopCommand,
    TstatsCommand,
)
from sqldetect.spl.commands.base import Stage, is_integer, option_int, to_int
from sqldetect.spl.context import ParseContext
from sqldetect.spl.eval_parser import parse_eval
from sqldetect.spl.search_parser import parse_search

# --------------------------------------------------------------------------------------------------------------
# Aggregations
# --------------------------------------------------------------------------------------------------------------


def read_aggregation(ctx: ParseContext, args: ArgStream) -> Aggregation:
    """``func``, ``func(field)``, ``func(eval(expr))``, each optionally followed by ``AS name``.

    ``text`` is Splunk's output name: ``func(field)`` with the field as written (unquoted), or
    ``func(eval(<expr as written>))``.
    """
    func = args.next()
    if func.is_word("as"):
        raise ctx.error("misplaced AS: it must follow an aggregation such as count or dc(x)", func.start, func.end)
    if func.kind != WORD:
        raise args.unexpected(func, "expected an aggregation such as count or values(x)")
    arg: FieldName | EvalExpr | None = None
    arg_is_eval = False
    text = func.text
    end = func.end
    paren = args.peek()
    if paren.kind == PAREN:
        args.next()
        arg, arg_is_eval, text = _aggregation_argument(ctx, func.text, paren.start + 1, paren.close)
        args.seek(paren.close + 1)
        end = paren.close + 1
    alias: str | None = None
    if args.peek().is_word("as"):
        alias, end = args.read_alias(args.next())
    return Aggregation(func.text.lower(), arg, alias, text, Span(func.start, end), arg_is_eval=arg_is_eval)


def _aggregation_argument(
    ctx: ParseContext, func: str, start: int, end: int
) -> tuple[FieldName | EvalExpr, bool, str]:
    inner = ArgStream(ctx, start, end)
    first = inner.next()
    if first.is_word("eval") and inner.peek().kind == PAREN and inner.glued(first, inner.peek()):
        paren = inner.next()
        expr = parse_eval(ctx, paren.start + 1, paren.close)
        inner.seek(paren.close + 1)
        inner.expect_end(f"{func}(eval(...))")
        return expr, True, f"{func}(eval({ctx.source[paren.start + 1 : paren.close].strip()}))"
    if first.kind == END:
        raise ctx.error(f"missing field name inside {func}()", start - 1, end + 1)
    if not first.is_name:
        raise inner.unexpected(first, f"expected a field name inside {func}()")
    if not inner.at_end():
        # Valid SPL for a few functions (sparkline(count, 1h), ...) that this tree cannot hold.
        token = inner.peek()
        raise ctx.unsupported(f"aggregation {func}() with more than one argument is not supported", func,
                              token.start, token.end)
    field = FieldName(first.value, first.span, quoted=first.kind == STRING)
    return field, False, f"{func}({first.value})"


def _read_aggregations_and_by(
    ctx: ParseContext, stage: Stage, args: ArgStream, options: dict[str, Option], stop_words: tuple[str, ...] = ()
) -> tuple[list[Aggregation], list[FieldName]]:
    """Options, aggregations (comma or space separated) and one BY clause, up to the end or a stop word."""
    aggregations: list[Aggregation] = []
    by: list[FieldName] = []
    seen_by = False
    while True:
        args.skip_commas()
        token = args.peek()
        if token.kind == END or token.is_word(*stop_words):
            break
        if args.is_option():
            option = args.read_option()
            options[option.key] = option
            continue
        if token.is_word("by"):
            if seen_by:
                raise ctx.error("a second BY clause", token.start, token.end)
            args.next()
            seen_by = True
            by = _read_by_fields(args, options, ("by", *stop_words))
            if not by:
                raise args.unexpected(args.peek(), "expected at least one field after BY")
            continue
        if seen_by:
            raise args.unexpected(token, "expected a field name or option in the BY clause")
        aggregations.append(read_aggregation(ctx, args))
    if not aggregations:
        raise ctx.error(f"{stage.name} needs at least one aggregation such as count", stage.span.start,
                        stage.span.end)
    return aggregations, by


def _read_by_fields(
    args: ArgStream, options: dict[str, Option], stop_words: tuple[str, ...] = (), calls: bool = False
) -> list[FieldName]:
    """BY fields, with options (``span=1h``) allowed among them. With ``calls`` (tstats) a word glued to a
    parenthesised group, ``PREFIX(action=)``, is one field kept as written."""
    fields: list[FieldName] = []
    while True:
        args.skip_commas()
        if args.is_option():
            option = args.read_option()
            options[option.key] = option
            continue
        token = args.peek()
        if not token.is_name or token.is_word(*stop_words):
            return fields
        args.next()
        follower = args.peek()
        if calls and token.kind == WORD and follower.kind == PAREN and args.glued(token, follower):
            args.seek(follower.close + 1)
            text = args.text[token.start : follower.close + 1]
            fields.append(FieldName(text, Span(token.start, follower.close + 1)))
            continue
        fields.append(args.field_name(token))


# --------------------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------------------


def parse_stats(ctx: ParseContext, stage: Stage) -> StatsCommand:
    """``stats|eventstats|streamstats [options] aggs [BY fields]``."""
    options: dict[str, Option] = {}
    aggregations, by = _read_aggregations_and_by(ctx, stage, stage.args(ctx), options)
    return StatsCommand(**stage.common(ctx, options), aggregations=aggregations, by=by)


def parse_chart(ctx: ParseContext, stage: Stage) -> StatsCommand:
    """``chart [options] aggs [OVER f] [BY g ...]``: the OVER field becomes the first BY field."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    aggregations, by = _read_aggregations_and_by(ctx, stage, args, options, stop_words=("over",))
    over = args.peek()
    if over.is_word("over"):
        if by:
            raise ctx.error("OVER must come before BY in chart", over.start, over.end)
        args.next()
        by = [args.field_name(args.expect_name("a field after OVER"))]
        if args.peek().is_word("by"):
            args.next()
            by.extend(_read_by_fields(args, options, ("by",)))
        args.expect_end("chart")
    return StatsCommand(**stage.common(ctx, options), aggregations=aggregations, by=by)


def parse_timechart(ctx: ParseContext, stage: Stage) -> TimechartCommand:
    options: dict[str, Option] = {}
    aggregations, by = _read_aggregations_and_by(ctx, stage, stage.args(ctx), options)
    span = options.get("span")
    return TimechartCommand(**stage.common(ctx, options), aggregations=aggregations, by=by,
                            span_value=span.value if span else None)


def parse_tstats(ctx: ParseContext, stage: Stage) -> TstatsCommand:
    """``tstats [options] aggs [FROM datamodel=M.D] [WHERE <search>] [BY fields [span=..]]``.

    ``from datamodel:M.D`` and ``from datamodel M.D`` are accepted too. A ``nodename=X`` term at the top
    level of WHERE selects the dataset (``from datamodel=Endpoint where nodename=Endpoint.Processes``):
    it is moved to ``nodename`` and removed from ``where``.
    """
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    aggregations: list[Aggregation] = []
    by: list[FieldName] = []
    datamodel: str | None = None
    where: SearchExpr | None = None
    seen: set[str] = set()
    while True:
        args.skip_commas()
        token = args.peek()
        if token.kind == END:
            break
        clause = token.text.lower() if token.is_word("from", "where", "by") else None
        if clause is not None:
            if clause in seen:
                raise ctx.error(f"a second {token.text.upper()} clause in tstats", token.start, token.end)
            seen.add(clause)
            args.next()
            if clause == "from":
                datamodel = _read_datamodel(ctx, args)
            elif clause == "where":
                where, stop = parse_search(ctx, token.end, stage.args_end, stop_words=frozenset({"by"}))
                if where is None:
                    raise ctx.error("WHERE needs a search expression", token.start, token.end)
                args.seek(stop)
            else:
                by = _read_by_fields(args, options, stop_words=("from", "where", "by"), calls=True)
                if not by:
                    raise args.unexpected(args.peek(), "expected at least one field after BY")
            continue
        if args.is_option():
            option = args.read_option()
            options[option.key] = option
            continue
        if seen:
            raise args.unexpected(token, "expected FROM, WHERE, BY or an option")
        aggregations.append(read_aggregation(ctx, args))
    if not aggregations:
        raise ctx.error("tstats needs at least one aggregation such as count", stage.span.start, stage.span.end)
    where, nodename = _extract_nodename(where)
    span = options.get("span")
    return TstatsCommand(
        **stage.common(ctx, options),
        aggregations=aggregations,
        datamodel=datamodel,
        nodename=nodename,
        where=where,
        by=by,
        span_value=span.value if span else None,
    )


def _read_datamodel(ctx: ParseContext, args: ArgStream) -> str:
    token = args.next()
    if token.is_word("datamodel"):
        follower = args.peek()
        if follower.kind == "eq":
            args.next()
        name = args.next()
        if not name.is_name:
            raise args.unexpected(name, "expected a data model name after 'datamodel='")
        return name.value
    if token.kind == WORD and token.text.lower().startswith("datamodel:") and len(token.text) > len("datamodel:"):
        return token.value[len("datamodel:") :]
    raise args.unexpected(token, "expected datamodel=<Model>.<Dataset> after FROM")


def _extract_nodename(where: SearchExpr | None) -> tuple[SearchExpr | None, str | None]:
    if where is None:
        return None, None
    operands = where.operands if isinstance(where, SearchAnd) else [where]
    for index, operand in enumerate(operands):
        if isinstance(operand, SearchCompare) and operand.field.lower() == "nodename" and operand.op == "=":
            rest = operands[:index] + operands[index + 1 :]
            if not rest:
                return None, operand.value.text
            if len(rest) == 1:
                return rest[0], operand.value.text
            return SearchAnd(rest, rest[0].span.cover(rest[-1].span)), operand.value.text
    return where, None


def parse_top(ctx: ParseContext, stage: Stage) -> TopCommand:
    """``top|rare [N] [options] fields [BY fields]``; ``limit=`` (or N) defaults to 10."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    count: int | None = None
    first = args.peek()
    if is_integer(first):
        args.next()
        count = to_int(ctx, first.text, first.span, f"{stage.name} count")
    fields = args.read_field_list(stop_words=("by",), options=options)
    by: list[FieldName] = []
    if args.peek().is_word("by"):
        args.next()
        by = args.read_field_list(options=options)
        if not by:
            raise args.unexpected(args.peek(), "expected at least one field after BY")
    args.expect_end(stage.name)
    if not fields:
        raise ctx.error(f"{stage.name} needs at least one field", stage.span.start, stage.span.end)
    limit = option_int(ctx, options, "limit", count if count is not None else 10)
    return TopCommand(**stage.common(ctx, options), fields=fields, by=by, limit=10 if limit is None else limit)


def parse_bin(ctx: ParseContext, stage: Stage) -> BinCommand:
    """``bin|bucket|discretize [options] [field] [AS alias]`` with options anywhere; field defaults to _time."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    field: FieldName | None = None
    alias: str | None = None
    while True:
        if args.is_option():
            option = args.read_option()
            options[option.key] = option
            continue
        token = args.next()
        if token.kind == END:
            break
        if token.is_word("as"):
            if field is None or alias is not None:
                raise ctx.error(f"misplaced AS: {stage.name} expects '<field> AS <name>'", token.start, token.end)
            target = args.next()
            if not target.is_name:
                raise args.unexpected(target, "expected a field name after AS")
            alias = target.value
            continue
        if not token.is_name:
            raise args.unexpected(token, f"expected a field name or option in {stage.name}")
        if field is not None:
            raise ctx.error(f"{stage.name} takes one field", token.start, token.end)
        field = args.field_name(token)
    return BinCommand(
        **stage.common(ctx, options),
        field=field.name if field else "_time",
        alias=alias,
        span_value=options["span"].value if "span" in options else None,
        bins=option_int(ctx, options, "bins", None, minimum=1),
    )
