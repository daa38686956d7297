"""``search``, ``where`` and ``eval``: the commands whose arguments are an expression language."""

from __future__ import annotations

import re

from sqldetect.errors import Span
from sqldetect.spl.ast import Assignment, EvalCommand, SearchCommand, WhereCommand
from sqldetect.spl.commands.base import Stage
from sqldetect.spl.context import ParseContext
from sqldetect.spl.eval_parser import EvalParser, parse_eval
from sqldetect.spl.search_parser import parse_search
from sqldetect.spl.strings import unescape, unescape_single

# ``target =`` at the start of an eval assignment: a bare name, 'single-quoted' or "double-quoted" name.
_TARGET = re.compile(
    r"""\s*+(?P<target>'(?:[^'\\]++|\\.)*+'|"(?:[^"\\]++|\\.)*+"|[^\s=,()'"]++)\s*+=(?!=)""", re.DOTALL
)


def parse_search_command(ctx: ParseContext, stage: Stage) -> SearchCommand:
    expr, _ = parse_search(ctx, stage.args_start, stage.args_end)
    return SearchCommand(**stage.common(ctx), expr=expr)


def parse_where(ctx: ParseContext, stage: Stage) -> WhereCommand:
    if not ctx.source[stage.args_start : stage.args_end].strip():
        raise ctx.error("where needs an expression", stage.span.start, stage.span.end)
    return WhereCommand(**stage.common(ctx), expr=parse_eval(ctx, stage.args_start, stage.args_end))


def parse_eval_command(ctx: ParseContext, stage: Stage) -> EvalCommand:
    """``eval a=expr, b=expr``: assignments separated by top-level commas."""
    assignments: list[Assignment] = []
    pos, end, text = stage.args_start, stage.args_end, ctx.source
    if not text[pos:end].strip():
        raise ctx.error("eval needs at least one assignment 'field=expression'", stage.span.start, stage.span.end)
    while True:
        match = _TARGET.match(text, pos, end)
        if match is None:
            at = len(text[pos:end]) - len(text[pos:end].lstrip()) + pos
            raise ctx.error("expected 'field=expression' in eval", at, min(end, at + 1))
        raw = match.group("target")
        if raw.startswith("'"):
            target = unescape_single(raw)
        elif raw.startswith('"'):
            target = unescape(raw[1:-1])
        else:
            target = raw
        parser = EvalParser(ctx, match.end(), end)
        if parser.peek().kind == "end":
            raise ctx.error(f"missing expression after '{raw}='", match.start("target"), match.end())
        expr = parser.parse_expression()
        field_span = Span(match.start("target"), match.end("target"))
        assignments.append(Assignment(target, expr, Span(field_span.start, expr.span.end), field_span=field_span))
        token = parser.peek()
        if token.kind == "end":
            break
        if token.kind == "op" and token.text == ",":
            pos = token.end
            continue
        raise ctx.error(f"unexpected {text[token.start:token.end]!r} after the expression assigned to "
                        f"{target!r} (separate assignments with ',')", token.start, token.end)
    return EvalCommand(**stage.common(ctx), assignments=assignments)
