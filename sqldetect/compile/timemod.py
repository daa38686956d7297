"""SPL time modifiers (``-24h@h``, ``@d``, ``-7d@w1``, ``now``, epochs, absolute times) as SQL.

Used by ``earliest=``/``latest=`` in search, ``relative_time()`` in eval and ``bin aligntime=``. Times are UTC
(sqldetect's user time zone is UTC: see docs/semantics.md). "now" is the engine's clock unless the translation
fixes it (``CompileOptions.now``), which keeps tests and reproducible runs deterministic.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlglot import exp

from sqldetect.compile.sql import anon, cast, from_epoch, lit
from sqldetect.errors import Span

if TYPE_CHECKING:
    from sqldetect.compile.context import StageContext

UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "second"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minute"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hour"),
    **dict.fromkeys(("d", "day", "days"), "day"),
    **dict.fromkeys(("w", "week", "weeks"), "week"),
    **dict.fromkeys(("mon", "month", "months"), "month"),
    **dict.fromkeys(("q", "qtr", "qtrs", "quarter", "quarters"), "quarter"),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "year"),
}
_STEP = re.compile(r"([+-])(\d*)([a-zA-Z]+)")
_SNAP = re.compile(r"@([a-zA-Z]+)(\d?)")
_EPOCH = re.compile(r"^\d+(?:\.\d+)?$")


class TimeSpecError(ValueError):
    """A time modifier that does not parse."""


def now_sql(ctx: StageContext) -> exp.Expression:
    fixed = ctx.compiler.options.now
    if fixed is not None:
        return cast(lit(fixed.strftime("%Y-%m-%d %H:%M:%S.%f")), "TIMESTAMP")
    return anon("timezone", lit("UTC"), exp.CurrentTimestamp())


def _operations(spec: str) -> list[tuple[str, object]]:
    """Split ``-1d@d+6h`` into ordered operations: ("step", (n, unit)) and ("snap", (unit, weekday)).
    Steps and snaps chain left to right. Raises TimeSpecError on anything else."""
    ops: list[tuple[str, object]] = []
    i = 0
    text = spec.strip()
    if not text:
        raise TimeSpecError("empty time modifier")
    while i < len(text):
        m = _STEP.match(text, i)
        if m:
            sign, count, unit = m.groups()
            if unit.lower() not in UNITS:
                raise TimeSpecError(f"unknown time unit '{unit}'")
            n = int(count) if count else 1
            ops.append(("step", (-n if sign == "-" else n, UNITS[unit.lower()])))
            i = m.end()
            continue
        m = _SNAP.match(text, i)
        if m:
            unit, day = m.groups()
            if unit.lower() == "w" and day:
                ops.append(("snap", ("weekday", int(day) % 7)))
            elif unit.lower() in UNITS:
                ops.append(("snap", (UNITS[unit.lower()], None)))
            else:
                raise TimeSpecError(f"unknown snap unit '@{unit}'")
            i = m.end()
            continue
        raise TimeSpecError(f"cannot read '{text[i:]}'")
    return ops


def _interval(n: int, unit: str) -> exp.Interval:
    if unit == "quarter":
        n, unit = n * 3, "month"
    if unit == "week":
        n, unit = n * 7, "day"
    return exp.Interval(this=lit(abs(n)), unit=exp.Var(this=unit.upper()))


def relative_sql(base: exp.Expression, spec: str) -> exp.Expression:
    """Apply a relative time modifier to the TIMESTAMP expression ``base``."""
    out = base
    for kind, value in _operations(spec):
        if kind == "step":
            n, unit = value  # type: ignore[misc]
            op = exp.Add if n >= 0 else exp.Sub
            out = op(this=out, expression=_interval(n, unit))
        else:
            unit, weekday = value  # type: ignore[misc]
            if unit == "weekday":
                # Snap back to the most recent given weekday (0 = Sunday): DuckDB's dayofweek is 0 = Sunday.
                day_start = anon("date_trunc", lit("day"), out)
                back = exp.Mod(
                    this=exp.Paren(this=exp.Add(
                        this=exp.Sub(this=anon("dayofweek", out), expression=lit(weekday)), expression=lit(7))),
                    expression=lit(7),
                )
                out = exp.Sub(this=day_start, expression=exp.Mul(this=back, expression=exp.Interval(
                    this=lit(1), unit=exp.Var(this="DAY"))))
                out = cast(out, "TIMESTAMP")
            elif unit == "week":
                # Splunk weeks start on Sunday; DuckDB's date_trunc('week') on Monday.
                shifted = exp.Add(this=out, expression=exp.Interval(this=lit(1), unit=exp.Var(this="DAY")))
                out = cast(exp.Sub(this=anon("date_trunc", lit("week"), shifted),
                                   expression=exp.Interval(this=lit(1), unit=exp.Var(this="DAY"))), "TIMESTAMP")
            else:
                out = cast(anon("date_trunc", lit(unit), out), "TIMESTAMP")
    return out


DEFAULT_TIMEFORMAT = "%m/%d/%Y:%H:%M:%S"
_AGO_UNITS = {"daysago": "d", "hoursago": "h", "minutesago": "m", "monthsago": "mon"}


def time_bound(ctx: StageContext, value: str, span: Span, timeformat: str | None = DEFAULT_TIMEFORMAT, *,
               epoch_only: bool = False) -> exp.Expression | None:
    """``earliest=``/``latest=`` value as a TIMESTAMP expression; None when it means "all time".

    Accepted: ``now``, epoch seconds, a relative modifier (``-24h@h``, ``@d``), or an absolute time in
    ``timeformat`` (Splunk's default ``%m/%d/%Y:%H:%M:%S``; a date alone is also read)."""
    text = value.strip()
    if text in ("0", ""):
        return None
    if text.lower() == "now":
        return now_sql(ctx)
    if _EPOCH.match(text):
        return from_epoch(lit(float(text)))
    if epoch_only:
        raise ctx.error(f"expected epoch seconds, got '{value}'", span)
    if text.lower().startswith("rt"):
        raise ctx.unsupported("real-time time modifiers", f"real-time modifier '{value}' is not supported", span)
    formats = [timeformat] if timeformat else []
    if timeformat == DEFAULT_TIMEFORMAT:
        formats.append("%m/%d/%Y")
    for fmt in formats:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return cast(lit(parsed.strftime("%Y-%m-%d %H:%M:%S.%f")), "TIMESTAMP")
    if text[0] not in "+-@":
        raise ctx.error(f"cannot read time modifier value '{value}' (format {timeformat})", span)
    try:
        return relative_sql(now_sql(ctx), text)
    except TimeSpecError as err:
        raise ctx.error(f"bad time modifier '{value}': {err}", span) from None


def ago_bound(ctx: StageContext, name: str, value: str, span: Span) -> exp.Expression:
    """``daysago=N`` (and hoursago/minutesago/monthsago): N units before now."""
    try:
        count = int(value.strip())
    except ValueError:
        raise ctx.error(f"{name}= needs a whole number, got '{value}'", span) from None
    return relative_sql(now_sql(ctx), f"-{count}{_AGO_UNITS[name]}")
