"""``addtotals [row=t] [fieldname=Total] [fields]``: add each row's sum of numeric fields.

- The listed fields (wildcards expand), or without a list every field except internal ``_*`` ones and the
  total field itself; values that are not numbers (text, absent) are skipped, and a row with no number at
  all gets no total.
- A multivalue field counts with its first value.
- ``col=true`` (a summary row of column totals), ``labelfield=``/``label=`` and ``fieldformat=`` are refused by
  name; ``row=false`` adds nothing.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile import wildcards
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import anon, cast
from sqldetect.compile.typed import Typed, as_number
from sqldetect.spl import ast


@command("addtotals")
def addtotals(ctx: StageContext, cmd: ast.GenericCommand) -> StageResult:
    """Add a row total of numeric fields (fieldname=, default Total; fields default to all)."""
    ctx.check_options({"row", "col", "fieldname"})
    if ctx.flag("col", False):
        raise ctx.unsupported("addtotals col=true", "addtotals col=true (a summary row) is not supported",
                              ctx.option_span("col"))
    if not ctx.flag("row", True):
        return ctx.with_changes([])
    if cmd.subsearches:
        raise ctx.error("addtotals takes no subsearch")
    total_name = cmd.option("fieldname") or "Total"
    names: list[str] = []
    patterns = cmd.words or ["*"]
    for pattern in patterns:
        for name in wildcards.expand(pattern, ctx.input.names()):
            if name != total_name and name not in names and (cmd.words or not name.startswith("_")):
                names.append(name)
    numbers = [as_number(ctx.field(n)) for n in names if ctx.field(n).kind not in (Kind.NULL, Kind.BOOLEAN)]
    if not numbers:
        return ctx.with_changes([(total_name, Typed(exp.Null(), Kind.NULL))])
    total = anon("list_sum", cast(exp.Array(expressions=numbers), "DOUBLE[]"))
    return ctx.with_changes([(total_name, Typed(total, Kind.NUMBER))])
