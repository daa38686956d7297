"""``search``: filter rows with the search expression language (first stage or later)."""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.sql import star
from sqldetect.spl import ast


@command("search")
def search(ctx: StageContext, cmd: ast.SearchCommand) -> StageResult:
    """Filter rows: bare terms on _raw, field=value globs, IN, NOT, AND/OR, time modifiers."""
    condition = ctx.search_condition(cmd.expr)
    select = exp.select(star(), copy=False).from_(ctx.source(), copy=False)
    # an identity test, and no copy: comparing or copying a 10,000-term condition tree costs seconds
    if not (isinstance(condition, exp.Boolean) and condition.this is True):
        select = select.where(condition, copy=False)
    return StageResult(select, ctx.input.copy())
