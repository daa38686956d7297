"""``search``: filter rows with the search expression language (first stage or later)."""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.sql import TRUE, star
from sqldetect.spl import ast


@command("search")
def search(ctx: StageContext, cmd: ast.SearchCommand) -> StageResult:
    """Filter rows: bare terms on _raw, field=value globs, IN, NOT, AND/OR, time modifiers."""
    condition = ctx.search_condition(cmd.expr)
    select = exp.select(star()).from_(ctx.source())
    if condition != TRUE:
        select = select.where(condition)
    return StageResult(select, ctx.input.copy())
