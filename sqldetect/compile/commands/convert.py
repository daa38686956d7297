"""``convert [timeformat=...] func(field) [AS name] ...``: convert field values in place (or into ``AS``).

Functions (each applies to every value of a multivalue field; a value a function cannot convert is left
unchanged unless noted):

- ``ctime``: epoch seconds → text in ``timeformat`` (default ``%m/%d/%Y %H:%M:%S``), in UTC like every time
  sqldetect prints. ESCU's ``security_content_ctime(x)`` is ``convert timeformat="%Y-%m-%dT%H:%M:%S" ctime(x)``.
- ``mktime``: text in ``timeformat`` → epoch seconds.
- ``dur2sec``: ``[D+]HH:MM:SS`` → seconds.
- ``auto``: a value that reads as a number becomes that number; as in Splunk, when some value of the field
  cannot be converted, the field is left untouched (checked over all rows).
- ``num``: like ``auto``, but values that are not numbers are removed.
- ``rmcomma``: commas removed (``1,000.5`` → ``1000.5``). ``rmunit``: the leading number kept (``10kb`` → ``10``).
- ``memk``: ``<number>[k|m|g]`` → kilobytes (no unit means k).
- ``none(f)``: exclude ``f`` from the wildcard conversions of the same command.

Wildcards expand against the current fields (``ctime(*Time)``); ``AS`` may carry the ``*`` over. Without
``AS`` the field is replaced; conversions run left to right and see each other's results. ``_time`` can only
be converted into another field (``ctime(_time) AS t``): it must stay a time.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from sqldetect.compile import wildcards
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.functions import strftime_sql
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import (
    and_,
    anon,
    from_epoch,
    lit,
    number_to_string,
    paren_if_needed,
    try_cast,
)
from sqldetect.compile.typed import Typed, as_number, map_values
from sqldetect.errors import UnsupportedError
from sqldetect.spl import ast

DEFAULT_TIMEFORMAT = "%m/%d/%Y %H:%M:%S"
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_FUNCTIONS = ("ctime", "mktime", "dur2sec", "auto", "num", "rmcomma", "rmunit", "memk", "none")


def _text_or(converted: exp.Expression, original: exp.Expression) -> exp.Expression:
    """The converted text, or the original text when the conversion gave NULL."""
    return exp.Coalesce(this=converted, expressions=[original])


def _scalar_number(value: exp.Expression) -> exp.Expression:
    return try_cast(anon("trim", value), "DOUBLE")


class Converter:
    """Builds one conversion over one field value."""

    def __init__(self, ctx: StageContext, timeformat: str) -> None:
        self.ctx = ctx
        self.timeformat = timeformat

    def convert(self, func: str, value: Typed, name: str, span) -> Typed:
        if value.kind is Kind.NULL:
            return value
        if func == "ctime":
            return self._ctime(value, name, span)
        if func == "num":
            if value.kind in (Kind.NUMBER, Kind.TIME):
                return Typed(as_number(value), Kind.NUMBER)
            if value.kind is Kind.MULTIVALUE:
                return self._mv_number(value)
            return Typed(_scalar_number(value.sql), Kind.NUMBER)
        if func == "auto":
            return self._auto(value)
        build: Callable[[exp.Expression], exp.Expression] = {
            "mktime": self._mktime,
            "dur2sec": _dur2sec,
            "rmcomma": lambda v: anon("replace", v, lit(","), lit("")),
            "rmunit": _rmunit,
            "memk": _memk,
        }[func]
        if value.kind in (Kind.NUMBER, Kind.TIME):
            # a number has no comma, unit or colon, and is already kilobytes for memk: it stays as it is
            return Typed(as_number(value), Kind.NUMBER)
        return map_values(value, lambda v: Typed(_text_or(build(v.sql), v.sql), Kind.STRING))

    # ---------------------------------------------------------------------------------------------
    def _ctime(self, value: Typed, name: str, span) -> Typed:
        def fmt(ts: exp.Expression) -> exp.Expression:
            try:
                return strftime_sql(ts, self.timeformat)
            except UnsupportedError as err:
                raise self.ctx.unsupported(err.construct or "timeformat", err.message,
                                           self.ctx.option_span("timeformat") or span) from None

        if value.kind is Kind.TIME:
            return Typed(fmt(value.sql), Kind.STRING)
        if value.kind is Kind.NUMBER:
            return Typed(fmt(from_epoch(value.sql)), Kind.STRING)
        return map_values(value, lambda v: Typed(
            _text_or(fmt(from_epoch(_scalar_number(v.sql))), v.sql), Kind.STRING))

    def _mktime(self, text: exp.Expression) -> exp.Expression:
        from sqldetect.compile.functions import strptime_sql

        try:
            parsed = strptime_sql(text, self.timeformat)
        except UnsupportedError as err:
            raise self.ctx.unsupported(err.construct or "timeformat", err.message,
                                       self.ctx.option_span("timeformat")) from None
        if parsed is None:
            raise self.ctx.unsupported("convert mktime() with %s in timeformat",
                                       span=self.ctx.option_span("timeformat"))
        return number_to_string(parsed)

    def _auto(self, value: Typed) -> Typed:
        if value.kind in (Kind.NUMBER, Kind.TIME):
            return value if value.kind is Kind.NUMBER else Typed(as_number(value), Kind.NUMBER)
        if value.kind is Kind.MULTIVALUE:
            convertible = anon("list_bool_and", anon("list_transform", value.sql, _lambda(
                lambda v: exp.Not(this=exp.Is(this=_scalar_number(v), expression=exp.Null())))))
            converted = anon("list_transform", value.sql, _lambda(lambda v: number_to_string(_scalar_number(v))))
        else:
            convertible = exp.Not(this=exp.Is(this=_scalar_number(value.sql), expression=exp.Null()))
            converted = number_to_string(_scalar_number(value.sql))
        present = exp.Not(this=exp.Is(this=value.sql, expression=exp.Null()))
        every = exp.Window(this=anon("bool_and", exp.Or(this=exp.Not(this=paren_if_needed(present)),
                                                         expression=paren_if_needed(convertible))), over="OVER")
        return Typed(exp.Case().when(and_(present.copy(), every), converted, copy=False).else_(value.sql, copy=False), value.kind)

    def _mv_number(self, value: Typed) -> Typed:
        numbers = anon("list_filter", anon("list_transform", value.sql,
                                           _lambda(lambda v: number_to_string(_scalar_number(v)))),
                       _lambda(lambda v: exp.Not(this=exp.Is(this=v, expression=exp.Null()))))
        return Typed(numbers, Kind.MULTIVALUE)


def _lambda(body: Callable[[exp.Expression], exp.Expression]) -> exp.Lambda:
    from sqldetect.compile.sql import lam
    from sqldetect.compile.typed import ELEMENT

    return lam(ELEMENT, body(exp.column(ELEMENT)))


def _dur2sec(text: exp.Expression) -> exp.Expression:
    pattern = lit(r"^\s*(?:(\d+)\+)?(\d+):(\d+):(\d+(?:\.\d+)?)\s*$")

    def part(i: int) -> exp.Expression:
        return try_cast(anon("regexp_extract", text, pattern, lit(i)), "DOUBLE")

    days = exp.Coalesce(this=part(1), expressions=[lit(0)])
    total = exp.Add(this=exp.Add(this=exp.Add(
        this=exp.Mul(this=days, expression=lit(86400)), expression=exp.Mul(this=part(2), expression=lit(3600))),
        expression=exp.Mul(this=part(3), expression=lit(60))), expression=part(4))
    return number_to_string(total)


def _rmunit(text: exp.Expression) -> exp.Expression:
    lead = anon("regexp_extract", text, lit(rf"^\s*({_NUMBER})"), lit(1))
    return anon("nullif", lead, lit(""))


def _memk(text: exp.Expression) -> exp.Expression:
    pattern = lit(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*$")
    amount = try_cast(anon("regexp_extract", text, pattern, lit(1)), "DOUBLE")
    unit = anon("lower", anon("regexp_extract", text, pattern, lit(2)))
    factor = exp.Case().when(exp.EQ(this=unit, expression=lit("m")), lit(1024), copy=False).when(
        exp.EQ(this=unit.copy(), expression=lit("g")), lit(1024 * 1024), copy=False).else_(lit(1), copy=False)
    return number_to_string(exp.Mul(this=amount, expression=factor))


@command("convert")
def convert(ctx: StageContext, cmd: ast.ConvertCommand) -> StageResult:
    """Convert values: ctime, mktime (timeformat=), dur2sec, auto, num, rmcomma, rmunit, memk, none; AS, wildcards."""
    ctx.check_options({"timeformat"})
    converter = Converter(ctx, cmd.option("timeformat") or DEFAULT_TIMEFORMAT)
    excluded = set()
    for conversion in cmd.conversions:
        if conversion.func not in _FUNCTIONS:
            raise ctx.unsupported(f"convert {conversion.func}()", f"convert has no function {conversion.func}()",
                                  conversion.span)
        if conversion.func == "none":
            excluded.update(wildcards.expand(conversion.field.name, ctx.input.names()))
    overrides: dict[str, Typed] = {}
    changes: list[tuple[str, Typed]] = []
    for conversion in cmd.conversions:
        if conversion.func == "none":
            continue
        pattern = conversion.field.name
        names = [pattern] if not wildcards.has_wildcard(pattern) else [
            n for n in ctx.input.names() if n not in excluded and wildcards.match(pattern, n) is not None]
        for name in names:
            target = name
            if conversion.alias is not None:
                captures = wildcards.match(pattern, name) if wildcards.has_wildcard(pattern) else ()
                try:
                    target = wildcards.substitute(conversion.alias, captures or ())
                except ValueError:
                    raise ctx.error("the AS name has a different number of '*' than the field",
                                    conversion.span) from None
            if target == "_time":
                raise ctx.unsupported("convert into _time", "convert cannot write _time (it must stay a time); "
                                      "use AS to name another field", conversion.span)
            current = overrides.get(name) or ctx.field(name)
            result = converter.convert(conversion.func, current, name, conversion.span)
            overrides[target] = result
            changes.append((target, result))
    return ctx.with_changes(changes)
