"""``bin`` / ``bucket`` / ``discretize``: put values into bins of a fixed span.

On ``_time`` (a TIMESTAMP) this is DuckDB's ``time_bucket`` with the origin at the Unix epoch, so sub-day spans
are multiples of the span counted from 1970-01-01 00:00 UTC as in Splunk (DuckDB's default origin is
2000-01-03, which would shift spans such as 7m); ``aligntime=`` moves the origin. On an epoch-seconds number the
same arithmetic is done on numbers; on other numbers the value becomes a range label ``lo-hi``.
"""

from __future__ import annotations

import re

from sqlglot import exp

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import anon, cast, epoch, lit, number_to_string, paren_if_needed
from sqldetect.compile.typed import Typed, as_number
from sqldetect.spl import ast

_SPAN = re.compile(r"^(\d+(?:\.\d+)?)?([a-zA-Z]*)$")
_UNIT_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), ("second", 1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), ("minute", 60)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), ("hour", 3600)),
    **dict.fromkeys(("d", "day", "days"), ("day", 86400)),
    **dict.fromkeys(("w", "week", "weeks"), ("week", 604800)),
    **dict.fromkeys(("ds",), ("decisecond", 0.1)),
    **dict.fromkeys(("cs",), ("centisecond", 0.01)),
    **dict.fromkeys(("ms",), ("millisecond", 0.001)),
    **dict.fromkeys(("us",), ("microsecond", 0.000001)),
}
_MONTHS = {"mon": 1, "month": 1, "months": 1, "q": 3, "qtr": 3, "qtrs": 3, "quarter": 3, "quarters": 3,
           "y": 12, "yr": 12, "yrs": 12, "year": 12, "years": 12}

EPOCH_ORIGIN = "1970-01-01 00:00:00"


def parse_span(ctx: StageContext, text: str, span) -> tuple[float, str | None]:
    """``1h`` → (3600, 'time'); ``3mon`` → (3, 'month'); ``10`` → (10, None) numeric width."""
    m = _SPAN.match(text.strip())
    if not m or (m.group(1) is None and not m.group(2)):
        raise ctx.error(f"cannot read span '{text}'", span)
    count = float(m.group(1)) if m.group(1) else 1.0
    unit = m.group(2).lower()
    if not unit:
        return count, None
    if unit in _MONTHS:
        return count * _MONTHS[unit], "month"
    if unit in _UNIT_SECONDS:
        return count * _UNIT_SECONDS[unit][1], "time"
    raise ctx.unsupported(f"bin span unit '{unit}'", span=span)


def time_bucket_sql(ctx: StageContext, ts: exp.Expression, span_text: str, span, aligntime: str | None = None
                    ) -> exp.Expression:
    """A TIMESTAMP expression bucketing ``ts`` by an SPL span (time units)."""
    amount, kind = parse_span(ctx, span_text, span)
    if kind is None:
        amount, kind = amount, "time"  # a bare number on _time means seconds
    if kind == "month":
        interval = exp.Interval(this=lit(str(int(amount))), unit=exp.Var(this="MONTH"))
        return anon("time_bucket", interval, ts)
    if amount >= 1 and amount == int(amount):
        seconds = int(amount)
        unit, size = _best_unit(seconds)
        interval = exp.Interval(this=lit(str(seconds // size)), unit=exp.Var(this=unit))
    else:
        interval = exp.Interval(this=lit(str(round(amount * 1_000_000))), unit=exp.Var(this="MICROSECOND"))
    origin: exp.Expression = cast(lit(EPOCH_ORIGIN), "TIMESTAMP")
    if aligntime:
        from sqldetect.compile.timemod import relative_sql, time_bound

        if aligntime.lower() in ("earliest", "latest"):
            raise ctx.unsupported(f"bin aligntime={aligntime}", span=span)
        if aligntime.startswith("@") or aligntime[0] in "+-":
            origin = relative_sql(cast(lit(EPOCH_ORIGIN), "TIMESTAMP"), aligntime)
        else:
            origin = time_bound(ctx, aligntime, span) or origin
    return anon("time_bucket", interval, ts, origin)


def _best_unit(seconds: int) -> tuple[str, int]:
    for unit, size in (("DAY", 86400), ("HOUR", 3600), ("MINUTE", 60)):
        if seconds % size == 0:
            return unit, size
    return "SECOND", 1


@command("bin", aliases=("bucket", "discretize"))
def bin_(ctx: StageContext, cmd: ast.BinCommand) -> StageResult:
    """Put values into fixed-size bins: _time with span= (s/m/h/d/w/mon, aligntime=), numbers with a width."""
    span_text = cmd.span_value or cmd.option("span")
    if not span_text:
        raise ctx.unsupported("bin without span=",
                              "bin needs span= (automatic bins= sizing depends on the data and is not supported)")
    span = ctx.option_span("span")
    for option in ("minspan", "start", "end", "bins"):
        if option in cmd.options:
            raise ctx.unsupported(f"bin {option}=", span=ctx.option_span(option))
    value = ctx.field(cmd.field)
    target = cmd.alias or cmd.field
    aligntime = cmd.option("aligntime")
    if value.kind is Kind.NULL:
        return ctx.with_changes([])
    if value.kind is Kind.TIME:
        bucket = time_bucket_sql(ctx, value.sql, span_text, span, aligntime)
        if target != "_time":  # only _time holds a TIMESTAMP; other time values are epoch seconds
            return ctx.with_changes([(target, Typed(epoch(bucket), Kind.NUMBER))])
        return ctx.with_changes([(target, Typed(bucket, Kind.TIME))])
    amount, kind = parse_span(ctx, span_text, span)
    number = as_number(value)
    if kind == "month":
        raise ctx.unsupported("bin span in months on a numeric field", span=span)
    width = lit(amount if amount != int(amount) else int(amount))
    low = exp.Mul(this=anon("floor", exp.Div(this=paren_if_needed(number), expression=width)), expression=width)
    if kind == "time":
        # an epoch-seconds number binned by time span stays a number
        return ctx.with_changes([(target, Typed(low, Kind.NUMBER))])
    label = exp.DPipe(this=exp.DPipe(this=number_to_string(low), expression=lit("-")),
                      expression=number_to_string(exp.Add(this=low, expression=width)))
    return ctx.with_changes([(target, Typed(label, Kind.STRING))])


__all__ = ["bin_", "epoch", "time_bucket_sql"]
