"""Commands that pull values out of fields: ``rex``, ``regex``, ``spath``, ``makemv``, ``mvexpand``."""

from __future__ import annotations

from sqldetect.errors import Span
from sqldetect.spl.args import EQ, NE, STRING, WORD
from sqldetect.spl.ast import MakemvCommand, MvexpandCommand, Option, RegexCommand, RexCommand, SpathCommand
from sqldetect.spl.commands.base import Stage, option_int
from sqldetect.spl.context import ParseContext


def parse_rex(ctx: ParseContext, stage: Stage) -> RexCommand:
    """``rex [field=f] [max_match=n] [offset_field=f] [mode=sed] "regex"`` (options before or after)."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    regex: str | None = None
    regex_span: Span | None = None
    while not args.at_end():
        if args.is_option():
            option = args.read_option()
            options[option.key] = option
            continue
        token = args.next()
        if token.kind == STRING and regex is None:
            regex, regex_span = token.value, token.span
            continue
        if token.kind == STRING:
            raise ctx.error("rex takes one regular expression; this is a second one", token.start, token.end)
        raise args.unexpected(token, 'expected a quoted regular expression ("...") or an option')
    if regex is None:
        raise ctx.error('rex needs a quoted regular expression, e.g. rex field=f "(?<name>...)"',
                        stage.span.start, stage.span.end)
    mode = options["mode"].value.lower() if "mode" in options else None
    if mode not in (None, "sed"):
        raise ctx.error(f"rex mode must be 'sed', got {mode!r}", options["mode"].span.start,
                        options["mode"].span.end)
    max_match = option_int(ctx, options, "max_match", 1)
    return RexCommand(
        **stage.common(ctx, options),
        field=options["field"].value if "field" in options else "_raw",
        regex=regex,
        regex_span=regex_span,
        mode=mode,
        max_match=1 if max_match is None else max_match,
    )


def parse_regex(ctx: ParseContext, stage: Stage) -> RegexCommand:
    """``regex [field=|field!=] "regex"``: the field part is not an option, it says what to match."""
    args = stage.args(ctx)
    field, negate = "_raw", False
    first = args.peek()
    if first.kind == WORD and args.peek(1).kind in (EQ, NE):
        args.next()
        negate = args.next().kind == NE
        field = first.value
    token = args.next()
    if token.kind not in (STRING, WORD):
        raise args.unexpected(token, "regex needs a regular expression")
    args.expect_end("regex")
    return RegexCommand(**stage.common(ctx), field=field, negate=negate, regex=token.value, regex_span=token.span)


def _options_and_fields(ctx: ParseContext, stage: Stage, command: str) -> tuple[dict[str, Option], list]:
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    fields = args.read_field_list(options=options)
    args.expect_end(command)
    return options, fields


def parse_mvexpand(ctx: ParseContext, stage: Stage) -> MvexpandCommand:
    options, fields = _options_and_fields(ctx, stage, "mvexpand")
    if len(fields) != 1:
        raise ctx.error(f"mvexpand takes exactly one field, got {len(fields)}", stage.span.start, stage.span.end)
    return MvexpandCommand(**stage.common(ctx, options), field=fields[0].name,
                           limit=option_int(ctx, options, "limit", None))


def parse_makemv(ctx: ParseContext, stage: Stage) -> MakemvCommand:
    options, fields = _options_and_fields(ctx, stage, "makemv")
    if len(fields) != 1:
        raise ctx.error(f"makemv takes exactly one field, got {len(fields)}", stage.span.start, stage.span.end)
    return MakemvCommand(
        **stage.common(ctx, options),
        field=fields[0].name,
        delim=options["delim"].value if "delim" in options else None,
        tokenizer=options["tokenizer"].value if "tokenizer" in options else None,
    )


def parse_spath(ctx: ParseContext, stage: Stage) -> SpathCommand:
    """``spath [input=f] [output=f] [path=p | p]``: a bare word is the path."""
    options, fields = _options_and_fields(ctx, stage, "spath")
    path = options["path"].value if "path" in options else None
    if fields:
        if path is not None or len(fields) > 1:
            extra = fields[1] if path is None else fields[0]
            raise ctx.error("spath takes one path", extra.span.start, extra.span.end)
        path = fields[0].name
    return SpathCommand(
        **stage.common(ctx, options),
        input=options["input"].value if "input" in options else "_raw",
        output=options["output"].value if "output" in options else None,
        path=path,
    )
