"""``eval``: compute fields; assignments run left to right and later ones see earlier results."""

from __future__ import annotations

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import from_epoch
from sqldetect.compile.typed import Typed, as_number
from sqldetect.spl import ast


def stored_value(ctx: StageContext, name: str, value: Typed, span) -> Typed:
    """What storing ``value`` in field ``name`` gives: ``_time`` stays a TIMESTAMP, every other field holds
    times as epoch seconds, and a boolean cannot be stored (as in Splunk)."""
    if value.kind is Kind.BOOLEAN:
        raise ctx.error(f"cannot assign a boolean to field '{name}' (wrap the condition in if(...))", span)
    if name == "_time":
        if value.kind is Kind.TIME:
            return value
        if value.kind is Kind.NULL:
            return Typed(value.sql, Kind.NULL)
        return Typed(from_epoch(as_number(value)), Kind.TIME)
    if value.kind is Kind.TIME:
        return Typed(as_number(value), Kind.NUMBER)
    return value


@command("eval")
def eval_(ctx: StageContext, cmd: ast.EvalCommand) -> StageResult:
    """Compute fields with eval expressions (left to right; later assignments see earlier ones)."""
    overrides: dict[str, Typed] = {}
    changes: list[tuple[str, Typed]] = []
    for assignment in cmd.assignments:
        value = ctx.eval(assignment.expr, overrides=overrides)
        stored = stored_value(ctx, assignment.field, value, assignment.span)
        overrides[assignment.field] = stored
        changes.append((assignment.field, stored))
    return ctx.with_changes(changes)
