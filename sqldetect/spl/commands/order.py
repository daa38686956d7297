"""Order-sensitive row selection: ``sort``, ``dedup``, ``head``/``tail``."""

from __future__ import annotations

from sqldetect.errors import Span
from sqldetect.spl.args import END, PAREN, STRING, WORD, ArgStream
from sqldetect.spl.ast import DedupCommand, EvalExpr, HeadCommand, Option, SortCommand, SortKey
from sqldetect.spl.commands.base import Stage, is_integer, option_int, to_int
from sqldetect.spl.context import ParseContext
from sqldetect.spl.eval_parser import parse_eval

_SORT_KINDS = ("auto", "num", "str", "ip")


def read_sort_keys(ctx: ParseContext, args: ArgStream, command: str, allow_reverse: bool) -> tuple[list[SortKey], bool]:
    """``[+|-]field``, ``[+|-]num(field)``..., comma or space separated, up to the end.

    A detached sign (``sort - a, b``) applies to every following key that has no sign of its own.
    With ``allow_reverse`` a last word ``d``/``desc`` reverses the whole order (returned as the flag).
    """
    keys: list[SortKey] = []
    detached: str | None = None
    reverse = False
    while True:
        args.skip_commas()
        token = args.next()
        if token.kind == END:
            break
        if allow_reverse and keys and token.is_word("d", "desc") and args.at_end():
            reverse = True
            break
        if token.kind == STRING:
            keys.append(SortKey(token.value, detached == "-", token.span))
            continue
        if token.kind != WORD:
            raise args.unexpected(token, f"expected a field to sort by in {command}")
        text = token.text
        sign = text[0] if text[0] in "+-" else None
        name = text[1:] if sign else text
        if sign and not name:
            detached = sign
            continue
        descending = (sign or detached) == "-"
        follower = args.peek()
        if name.lower() in _SORT_KINDS and follower.kind == PAREN and args.glued(token, follower):
            args.next()
            inner = ArgStream(ctx, follower.start + 1, follower.close)
            field = inner.next()
            if not field.is_name:
                raise inner.unexpected(field, f"expected a field name inside {name}()")
            inner.expect_end(f"{name}()")
            args.seek(follower.close + 1)
            keys.append(SortKey(field.value, descending, Span(token.start, follower.close + 1), kind=name.lower()))
            continue
        keys.append(SortKey(name, descending, token.span))
    return keys, reverse


def parse_sort(ctx: ParseContext, stage: Stage) -> SortCommand:
    """``sort [N] [limit=N] keys [d|desc]``; ``limit`` stays ``None`` for Splunk's default of 10,000."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    limit: int | None = None
    first = args.peek()
    if is_integer(first):
        args.next()
        limit = to_int(ctx, first.text, first.span, "sort count")
    args.read_options(options)
    if "limit" in options:
        limit = option_int(ctx, options, "limit", None)
    keys, reverse = read_sort_keys(ctx, args, "sort", allow_reverse=True)
    if not keys:
        raise ctx.error("sort needs at least one field", stage.span.start, stage.span.end)
    return SortCommand(**stage.common(ctx, options), keys=keys, limit=limit, reverse=reverse)


def parse_dedup(ctx: ParseContext, stage: Stage) -> DedupCommand:
    """``dedup [N] fields [options] [sortby keys]``."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    count = 1
    first = args.peek()
    if is_integer(first):
        args.next()
        count = to_int(ctx, first.text, first.span, "dedup count", minimum=1)
    fields = args.read_field_list(stop_words=("sortby",), options=options)
    sortby: list[SortKey] = []
    if args.peek().is_word("sortby"):
        keyword = args.next()
        sortby, _ = read_sort_keys(ctx, args, "dedup sortby", allow_reverse=False)
        if not sortby:
            raise ctx.error("sortby needs at least one field", keyword.start, keyword.end)
    args.expect_end("dedup")
    if not fields:
        raise ctx.error("dedup needs at least one field", stage.span.start, stage.span.end)
    return DedupCommand(**stage.common(ctx, options), fields=fields, count=count, sortby=sortby)


def parse_head(ctx: ParseContext, stage: Stage) -> HeadCommand:
    """``head [N | (<eval>)] [limit=N] [null=b] [keeplast=b]`` and ``tail [N]``; N defaults to 10."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    count: int | None = None
    expr: EvalExpr | None = None
    while True:
        if args.is_option():
            option = args.read_option()
            options[option.key] = option
            continue
        token = args.next()
        if token.kind == END:
            break
        if is_integer(token) and count is None and expr is None:
            count = to_int(ctx, token.text, token.span, f"{stage.name} count")
        elif token.kind == PAREN and stage.name == "head" and expr is None and count is None:
            expr = parse_eval(ctx, token.start + 1, token.close)
            args.seek(token.close + 1)
        else:
            raise args.unexpected(token, f"expected a count{' or (expression)' if stage.name == 'head' else ''}")
    if "limit" in options:
        count = option_int(ctx, options, "limit", None)
    return HeadCommand(**stage.common(ctx, options), count=10 if count is None else count, expr=expr)
