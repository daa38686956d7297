"""Any command without a dedicated parser: options, words and subsearches, for inspection and refusal."""

from __future__ import annotations

from sqldetect.errors import Span
from sqldetect.spl.args import BRACKET, COMMA, END
from sqldetect.spl.ast import GenericCommand, Option, Subsearch
from sqldetect.spl.commands.base import Stage
from sqldetect.spl.context import ParseContext


def parse_generic(ctx: ParseContext, stage: Stage) -> GenericCommand:
    """Top-level tokens in order: ``key=value`` into ``options``, ``[...]`` parsed as subsearches, every other
    token (quotes removed, commas dropped) into ``words``."""
    args = stage.args(ctx)
    options: dict[str, Option] = {}
    words: list[str] = []
    subsearches: list[Subsearch] = []
    while True:
        if args.is_option():
            option = args.read_option()
            options[option.key] = option
            continue
        token = args.next()
        if token.kind == END:
            break
        if token.kind == BRACKET:
            pipeline = ctx.subpipeline(token.start, commands_first=False)
            subsearches.append(Subsearch(pipeline, Span(token.start, token.end)))
        elif token.kind != COMMA:
            words.append(token.value)
    return GenericCommand(**stage.common(ctx, options), words=words, subsearches=subsearches)
