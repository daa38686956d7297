"""``where``: filter rows with an eval expression (case-sensitive; NULL drops the row)."""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.sql import star
from sqldetect.spl import ast


@command("where")
def where(ctx: StageContext, cmd: ast.WhereCommand) -> StageResult:
    """Keep rows where the eval expression is true (false and NULL drop the row)."""
    if cmd.expr is None:
        raise ctx.error("where needs an expression")
    condition = ctx.eval_condition(cmd.expr)
    select = exp.select(star(), copy=False).from_(ctx.source(), copy=False).where(condition, copy=False)
    return StageResult(select, ctx.input.copy())
