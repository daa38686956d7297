"""Commands that choose, rename or rewrite fields: ``table``, ``fields``, ``rename``, ``fillnull``, ``convert``."""

from __future__ import annotations

from sqldetect.errors import Span
from sqldetect.spl.args import PAREN, WORD, ArgStream
from sqldetect.spl.ast import (
    Conversion,
    ConvertCommand,
    FieldName,
    FieldsCommand,
    FillnullCommand,
    Option,
    RenameCommand,
    RenamePair,
    TableCommand,
)
from sqldetect.spl.commands.base import Stage
from sqldetect.spl.context import ParseContext


def parse_table(ctx: ParseContext, stage: Stage) -> TableCommand:
    args = stage.args(ctx)
    fields = args.read_field_list()
    args.expect_end("table")
    if not fields:
        raise ctx.error("table needs at least one field", stage.span.start, stage.span.end)
    return TableCommand(**stage.common(ctx), fields=fields)


def parse_fields(ctx: ParseContext, stage: Stage) -> FieldsCommand:
    """``fields [+|-] a, b``: a detached ``-`` removes the listed fields, ``+`` (or nothing) keeps them."""
    args = stage.args(ctx)
    remove = False
    first = args.peek()
    if first.kind == WORD and first.text in ("+", "-"):
        args.next()
        remove = first.text == "-"
    fields = args.read_field_list()
    args.expect_end("fields")
    if not fields:
        raise ctx.error("fields needs at least one field", stage.span.start, stage.span.end)
    return FieldsCommand(**stage.common(ctx), fields=fields, remove=remove)


def parse_rename(ctx: ParseContext, stage: Stage) -> RenameCommand:
    """``rename a AS b, "Old Name" as new, Processes.* AS *``."""
    args = stage.args(ctx)
    pairs: list[RenamePair] = []
    while True:
        args.skip_commas()
        if args.at_end():
            break
        token = args.next()
        if token.is_word("as"):
            raise ctx.error("misplaced AS: rename expects 'old AS new'", token.start, token.end)
        if not token.is_name:
            raise args.unexpected(token, "expected a field name to rename")
        keyword = args.next()
        if not keyword.is_word("as"):
            raise args.unexpected(keyword, f"expected AS after {token.text!r} in rename")
        target = args.next()
        if not target.is_name or target.is_word("as"):
            raise args.unexpected(target, "expected the new field name after AS")
        pairs.append(RenamePair(args.field_name(token), args.field_name(target), Span(token.start, target.end)))
    if not pairs:
        raise ctx.error("rename needs at least one 'old AS new' pair", stage.span.start, stage.span.end)
    return RenameCommand(**stage.common(ctx), pairs=pairs)


def parse_fillnull(ctx: ParseContext, stage: Stage) -> FillnullCommand:
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    fields = args.read_field_list(options=options)
    args.expect_end("fillnull")
    value = options["value"].value if "value" in options else "0"
    return FillnullCommand(**stage.common(ctx, options), value=value, fields=fields)


def parse_convert(ctx: ParseContext, stage: Stage) -> ConvertCommand:
    """``convert [timeformat=...] func(field) [AS alias] ...`` (wildcards allowed in the field)."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    conversions: list[Conversion] = []
    while True:
        args.skip_commas()
        if args.at_end():
            break
        if args.is_option():
            option = args.read_option()
            options[option.key] = option
            continue
        func = args.next()
        if func.is_word("as"):
            raise ctx.error("misplaced AS: convert expects 'func(field) AS name'", func.start, func.end)
        paren = args.peek()
        if func.kind != WORD or paren.kind != PAREN:
            raise args.unexpected(func, "expected a conversion such as ctime(field)")
        args.next()
        inner = ArgStream(ctx, paren.start + 1, paren.close)
        field_token = inner.next()
        if not field_token.is_name:
            raise inner.unexpected(field_token, f"expected a field name inside {func.text}()")
        inner.expect_end(f"{func.text}()")
        args.seek(paren.close + 1)
        alias: str | None = None
        end = paren.close + 1
        if args.peek().is_word("as"):
            args.next()
            target = args.next()
            if not target.is_name or target.is_word("as"):
                raise args.unexpected(target, "expected a field name after AS")
            alias, end = target.value, target.end
        field = FieldName(field_token.value, field_token.span, quoted=field_token.kind == "string")
        conversions.append(Conversion(func.text.lower(), field, alias, Span(func.start, end)))
    if not conversions:
        raise ctx.error("convert needs at least one conversion such as ctime(field)", stage.span.start,
                        stage.span.end)
    return ConvertCommand(**stage.common(ctx, options), conversions=conversions)
