"""Commands that bring in other rows or run a sub-pipeline: ``lookup``, ``inputlookup``, ``join``,
``append``/``appendcols``/``appendpipe``, ``foreach``, ``transaction``, ``makeresults``, ``from``."""

from __future__ import annotations

from sqldetect.errors import Span
from sqldetect.spl.args import BRACKET, END, EQ, PAREN, STRING, WORD, ArgStream, ArgToken
from sqldetect.spl.ast import (
    EvalExpr,
    FieldName,
    ForeachCommand,
    FromCommand,
    InputlookupCommand,
    JoinCommand,
    LookupCommand,
    LookupField,
    MakeresultsCommand,
    Option,
    SearchExpr,
    Subsearch,
    SubsearchCommand,
    TransactionCommand,
)
from sqldetect.spl.commands.base import Stage, option_int
from sqldetect.spl.context import ParseContext
from sqldetect.spl.eval_parser import parse_eval
from sqldetect.spl.search_parser import parse_search


def _subsearch(ctx: ParseContext, token: ArgToken, commands_first: bool = False) -> Subsearch:
    return Subsearch(ctx.subpipeline(token.start, commands_first), Span(token.start, token.end))


# --------------------------------------------------------------------------------------------------------------
# lookup / inputlookup / from / makeresults
# --------------------------------------------------------------------------------------------------------------


def _read_lookup_fields(args: ArgStream, stop_words: tuple[str, ...]) -> list[LookupField]:
    fields: list[LookupField] = []
    while True:
        args.skip_commas()
        token = args.peek()
        if token.kind == END or token.is_word(*stop_words):
            return fields
        if token.is_word("as"):
            raise args.ctx.error("misplaced AS: lookup expects 'field AS event_field'", token.start, token.end)
        if not token.is_name:
            raise args.unexpected(token, "expected a lookup field name")
        args.next()
        event_field, end = token.value, token.end
        if args.peek().is_word("as"):
            args.next()
            target = args.next()
            if not target.is_name or target.is_word("as", *stop_words):
                raise args.unexpected(target, "expected a field name after AS")
            event_field, end = target.value, target.end
        fields.append(LookupField(token.value, event_field, Span(token.start, end)))


def parse_lookup(ctx: ParseContext, stage: Stage) -> LookupCommand:
    """``lookup [options] table field [AS ev] ... [OUTPUT|OUTPUTNEW out [AS ev] ...]``."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    args.read_options(options)
    table = args.expect_name("a lookup table name")
    inputs = _read_lookup_fields(args, ("output", "outputnew"))
    if not inputs:
        raise args.unexpected(args.peek(), f"expected at least one input field after the table {table.value!r}")
    output_mode: str | None = None
    outputs: list[LookupField] = []
    keyword = args.peek()
    if keyword.is_word("output", "outputnew"):
        args.next()
        output_mode = keyword.text.upper()
        outputs = _read_lookup_fields(args, ())
        if not outputs:
            raise ctx.error(f"{output_mode} needs at least one field", keyword.start, keyword.end)
    args.expect_end("lookup")
    return LookupCommand(**stage.common(ctx, options), table=table.value, inputs=inputs,
                         output_mode=output_mode, outputs=outputs)


def parse_inputlookup(ctx: ParseContext, stage: Stage) -> InputlookupCommand:
    """``inputlookup [options] table [where <search expression>]``."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    args.read_options(options)
    table = args.expect_name("a lookup table name")
    args.read_options(options)
    where: SearchExpr | None = None
    keyword = args.peek()
    if keyword.is_word("where"):
        where, _ = parse_search(ctx, keyword.end, stage.args_end)
        if where is None:
            raise ctx.error("WHERE needs a search expression", keyword.start, keyword.end)
    else:
        args.expect_end("inputlookup")
    return InputlookupCommand(**stage.common(ctx, options), table=table.value, where=where)


def parse_makeresults(ctx: ParseContext, stage: Stage) -> MakeresultsCommand:
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    args.read_options(options)
    args.expect_end("makeresults")
    count = option_int(ctx, options, "count", 1)
    return MakeresultsCommand(**stage.common(ctx, options), count=1 if count is None else count)


def parse_from(ctx: ParseContext, stage: Stage) -> FromCommand:
    """``from datamodel:M.D``, ``from datamodel M.D`` (both give ``datamodel:M.D``), ``from <dataset>``."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    args.read_options(options)
    first = args.expect_name("a dataset after from")
    dataset = first.value
    follower = args.peek()
    if first.is_word("datamodel", "inputlookup", "savedsearch", "lookup") and follower.is_name:
        args.next()
        dataset = f"{first.text.lower()}:{follower.value}"
    args.read_options(options)
    args.expect_end("from")
    return FromCommand(**stage.common(ctx, options), dataset=dataset)


# --------------------------------------------------------------------------------------------------------------
# join / append* / foreach
# --------------------------------------------------------------------------------------------------------------


def parse_join(ctx: ParseContext, stage: Stage) -> JoinCommand:
    """``join [options] [fields] [subsearch]`` (options may also follow the fields)."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    fields = args.read_field_list(options=options)
    subsearch: Subsearch | None = None
    token = args.next()
    if token.kind == BRACKET:
        subsearch = _subsearch(ctx, token)
        args.read_options(options)
        args.expect_end("join")
    elif token.kind != END:
        raise args.unexpected(token, "expected a field, an option or a [subsearch]")
    if subsearch is None:
        raise ctx.error("join needs a [subsearch]", stage.span.start, stage.span.end)
    join_type = options["type"].value.lower() if "type" in options else "inner"
    max_rows = option_int(ctx, options, "max", 1)
    return JoinCommand(**stage.common(ctx, options), fields=fields, subsearch=subsearch, join_type=join_type,
                       max=1 if max_rows is None else max_rows)


def parse_subsearch_command(ctx: ParseContext, stage: Stage) -> SubsearchCommand:
    """``append``/``appendcols``/``appendpipe [options] [ ... ]``; appendpipe's sub-pipeline starts with a
    command (it processes the current results), the others' with a search."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    args.read_options(options)
    token = args.next()
    if token.kind != BRACKET:
        raise args.unexpected(token, f"{stage.name} needs a [subsearch]")
    subsearch = _subsearch(ctx, token, commands_first=stage.name == "appendpipe")
    args.read_options(options)
    args.expect_end(stage.name)
    return SubsearchCommand(**stage.common(ctx, options), subsearch=subsearch)


def parse_foreach(ctx: ParseContext, stage: Stage) -> ForeachCommand:
    """``foreach [options] fields [ template ]``: the template is kept as text (see ``ForeachCommand``)."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    fields = args.read_field_list(options=options)
    token = args.next()
    if token.kind != BRACKET:
        raise args.unexpected(token, "foreach needs a [ template ] after its fields")
    args.expect_end("foreach")
    if not fields:
        raise ctx.error("foreach needs at least one field", stage.span.start, stage.span.end)
    template_span = Span(token.start + 1, token.close)
    return ForeachCommand(**stage.common(ctx, options), fields=fields,
                          template=ctx.source[template_span.start : template_span.end].strip(),
                          template_span=template_span)


# --------------------------------------------------------------------------------------------------------------
# transaction
# --------------------------------------------------------------------------------------------------------------


def _read_boundary(ctx: ParseContext, args: ArgStream) -> tuple[Option, SearchExpr | EvalExpr]:
    """``startswith=``/``endswith=`` followed by ``"search"``, ``(search)``, ``eval(expr)`` or a bare term.

    A quoted search string is parsed in place, between its quotes, so spans stay exact; inside it ``\\"``
    is an escaped quote, as in a bare value.
    """
    key = args.next()
    args.next()  # '='
    value = args.next()
    follower = args.peek()
    if value.is_word("eval") and follower.kind == PAREN and args.glued(value, follower):
        expr: SearchExpr | EvalExpr | None = parse_eval(ctx, follower.start + 1, follower.close)
        end = follower.close + 1
    elif value.kind == PAREN:
        expr, _ = parse_search(ctx, value.start + 1, value.close)
        end = value.close + 1
    elif value.kind == STRING:
        ctx.open_string(value.start + 1, value.end - 1)
        expr, _ = parse_search(ctx, value.start + 1, value.end - 1)
        end = value.end
    elif value.kind == WORD:
        expr, _ = parse_search(ctx, value.start, value.end)
        end = value.end
    else:
        raise args.unexpected(value, f"expected a search string, (search), or eval(...) after {key.text}=")
    if expr is None:
        raise ctx.error(f"{key.text}= needs a search expression", key.start, end)
    args.seek(end)
    raw = ctx.source[value.start : end]
    option = Option(key.text.lower(), value.value if value.kind == STRING else raw, Span(key.start, end),
                    quoted=value.kind == STRING)
    return option, expr


def parse_transaction(ctx: ParseContext, stage: Stage) -> TransactionCommand:
    """``transaction [fields] [options]`` with ``startswith``/``endswith`` parsed as expressions."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    fields: list[FieldName] = []
    bounds: dict[str, SearchExpr | EvalExpr] = {}
    while True:
        args.skip_commas()
        token = args.peek()
        if token.kind == END:
            break
        if token.is_word("startswith", "endswith") and args.peek(1).kind == EQ:
            option, expr = _read_boundary(ctx, args)
            options[option.key] = option
            bounds[option.key] = expr
            continue
        if args.is_option():
            option = args.read_option()
            options[option.key] = option
            continue
        if not token.is_name:
            raise args.unexpected(token, "expected a field or an option in transaction")
        args.next()
        fields.append(args.field_name(token))
    return TransactionCommand(**stage.common(ctx, options), fields=fields, startswith=bounds.get("startswith"),
                              endswith=bounds.get("endswith"))
