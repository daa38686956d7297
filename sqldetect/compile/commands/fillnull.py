"""``fillnull [value=0] [fields]``: give missing fields a value.

- With a field list: each listed field (wildcards expand against the current fields) gets ``value`` where it
  is null; a listed field that does not exist at all is created with ``value`` in every row.
- Without a list: every field that has a value in at least one row of the results is filled where it is
  null (Splunk fills the fields of the result set, not every column the event table could have). Whether a
  field has a value somewhere is a property of the data, so it is checked with a window over all rows.
- Only nulls are filled: a field holding the empty string keeps it (decision in docs/semantics.md).
- A numeric ``value`` keeps a numeric field numeric; a non-numeric one turns it into text. ``_time`` is never
  filled by the list-less form.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.commands.table import expand_fields
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.search_expr import looks_numeric
from sqldetect.compile.sql import coalesce, col, from_epoch, lit
from sqldetect.compile.typed import Typed, as_string
from sqldetect.spl import ast


def filled(ctx: StageContext, name: str, current: Typed, value: str) -> Typed | None:
    """``current`` with nulls replaced by ``value`` (None: nothing to do)."""
    numeric = looks_numeric(value)
    literal = lit(_number(value)) if numeric else lit(value)
    if current.kind is Kind.NULL:
        return Typed(literal, Kind.NUMBER if numeric else Kind.STRING)
    if current.kind is Kind.STRING:
        return Typed(coalesce(current.sql, lit(value)), Kind.STRING)
    if current.kind is Kind.NUMBER:
        if numeric:
            return Typed(coalesce(current.sql, literal), Kind.NUMBER)
        return Typed(coalesce(as_string(current), lit(value)), Kind.STRING)
    if current.kind is Kind.MULTIVALUE:
        return Typed(coalesce(current.sql, exp.Array(expressions=[lit(value)])), Kind.MULTIVALUE)
    if current.kind is Kind.TIME:
        if not numeric:
            raise ctx.unsupported("fillnull of _time with text", f"fillnull cannot put the text {value!r} in {name}")
        return Typed(coalesce(current.sql, from_epoch(literal)), Kind.TIME)
    return None


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


@command("fillnull")
def fillnull(ctx: StageContext, cmd: ast.FillnullCommand) -> StageResult:
    """Replace nulls with value= (default 0) in the listed fields, or in every field some row has."""
    ctx.check_options({"value"})
    changes: list[tuple[str, Typed]] = []
    if cmd.fields:
        for name in expand_fields(ctx, cmd.fields):
            result = filled(ctx, name, ctx.field(name), cmd.value)
            if result is not None:
                changes.append((name, result))
        return ctx.with_changes(changes)
    for info in ctx.input:  # every field of the events: hundreds, so nothing here is built twice
        if info.kind in (Kind.NULL, Kind.TIME, Kind.BOOLEAN):
            continue
        current = ctx.field(info.name)
        result = filled(ctx, info.name, current, cmd.value)
        if result is None:
            continue
        # fill only when some row has the field: otherwise the field does not exist in the results
        exists = exp.Window(this=exp.Count(this=col(info.column)), over="OVER")
        guarded = exp.Case(ifs=[exp.If(this=exp.GT(this=exists, expression=lit(0)), true=result.sql)])
        changes.append((info.name, Typed(guarded, result.kind)))
    return ctx.with_changes(changes)
