"""Statistical functions of stats / eventstats / streamstats / tstats / timechart as SQL aggregates.

One table maps each SPL function to a small translation. A translation builds its SQL through ``Agg.wrap``,
which is identity for ``stats`` (a GROUP BY aggregate) and adds ``OVER (...)`` for eventstats/streamstats, so
one definition serves every command. Semantics (semantics doc §5 "stats", decisions in docs/semantics.md):
``values`` are distinct, non-null, sorted as strings; ``list`` keeps input order and stops at 100; ``count(f)``
and ``dc(f)`` count the values of multivalue fields; ``first``/``last`` follow the current row order; ``earliest``/
``latest`` follow ``_time``; numeric functions ignore values that are not numbers; ``min``/``max`` compare
numbers numerically and text lexicographically, text ranking above numbers; ``median``/``perc`` take Splunk's
nearest rank; ``mode`` breaks ties towards the smallest value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from sqldetect.compile import wildcards
from sqldetect.compile.relation import Kind, Relation
from sqldetect.compile.sql import (
    anon,
    cast,
    coalesce,
    epoch,
    from_epoch,
    func,
    lam,
    lit,
    number_to_string,
    try_cast,
)
from sqldetect.compile.typed import ELEMENT, Typed, as_number, as_string
from sqldetect.spl import ast

if TYPE_CHECKING:
    from sqldetect.compile.context import StageContext

LIST_LIMIT = 100


@dataclass
class AggInput:
    """What one aggregation aggregates: a value (or None for ``count``), and the row order for
    order-sensitive functions."""

    value: Typed | None
    order: list[exp.Ordered]
    time: Typed | None  # the _time field, for earliest/latest
    #: the aggregate becomes a window function (eventstats/streamstats): the window's own ORDER BY then
    #: carries the row order, and DuckDB's window versions of first/last take no FILTER
    windowed: bool = False


Wrap = Callable[[exp.Expression], exp.Expression]


@dataclass(frozen=True)
class AggSpec:
    name: str
    translate: Callable[[AggInput, Wrap], Typed]
    needs_arg: bool
    consumes_order: bool = False
    summary: str = ""


AGGREGATIONS: dict[str, AggSpec] = {}


def aggregation(name: str, *, aliases: tuple[str, ...] = (), needs_arg: bool = True, consumes_order: bool = False,
                summary: str = "") -> Callable:
    def decorate(fn: Callable[[AggInput, Wrap], Typed]) -> Callable[[AggInput, Wrap], Typed]:
        spec = AggSpec(name, fn, needs_arg, consumes_order, summary or (fn.__doc__ or "").strip().splitlines()[0])
        for key in (name, *aliases):
            AGGREGATIONS[key] = spec
        return fn

    return decorate


_PERCENTILE = re.compile(r"^(?:perc|p|exactperc|upperperc)(\d+(?:\.\d+)?)$")


def find(func: str) -> AggSpec | None:
    func = func.lower()
    if func in AGGREGATIONS:
        return AGGREGATIONS[func]
    m = _PERCENTILE.match(func)
    if m:
        q = float(m.group(1)) / 100.0
        return AggSpec(func, lambda a, w, q=q: _quantile(a, w, q), True, False, "percentile")
    return None


def consumes_order(aggs: list[ast.Aggregation]) -> bool:
    return any((spec := find(a.func)) is not None and spec.consumes_order for a in aggs)


# ---------------------------------------------------------------------------------------------------- helpers


def _not_null(value: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=value, expression=exp.Null()))


def _filtered(agg: exp.Expression, condition: exp.Expression) -> exp.Expression:
    return exp.Filter(this=agg, expression=exp.Where(this=condition))


def _number(inp: AggInput) -> exp.Expression:
    assert inp.value is not None
    return as_number(inp.value)


def _flat_values(inp: AggInput, wrap: Wrap, distinct: bool) -> exp.Expression:
    """All non-null values as one list (multivalue fields contribute each value)."""
    value = inp.value
    assert value is not None
    if value.kind is Kind.MULTIVALUE:
        gathered = wrap(_filtered(exp.ArrayAgg(this=value.sql), _not_null(value.sql)))
        flat = anon("flatten", gathered)
        return anon("list_distinct", flat) if distinct else flat
    text = as_string(value)
    inner: exp.Expression = exp.Distinct(expressions=[text]) if distinct else text
    return wrap(_filtered(exp.ArrayAgg(this=inner), _not_null(value.sql)))


def _ordered(value: exp.Expression, order: list[exp.Ordered]) -> exp.Expression:
    if not order:
        return value
    return exp.Order(this=value, expressions=[o.copy() for o in order])


# ---------------------------------------------------------------------------------------------------- counts


@aggregation("count", aliases=("c",), needs_arg=False)
def _count(inp: AggInput, wrap: Wrap) -> Typed:
    """count / count(f): number of events, or of values of f."""
    if inp.value is None:
        return Typed(wrap(exp.Count(this=exp.Star())), Kind.NUMBER)
    if inp.value.kind is Kind.MULTIVALUE:
        return Typed(coalesce(wrap(exp.Sum(this=anon("len", inp.value.sql))), lit(0)), Kind.NUMBER)
    if inp.value.kind is Kind.BOOLEAN:  # count(eval(cond))
        return Typed(wrap(_filtered(exp.Count(this=exp.Star()), inp.value.sql)), Kind.NUMBER)
    return Typed(wrap(exp.Count(this=inp.value.sql)), Kind.NUMBER)


@aggregation("dc", aliases=("distinct_count", "estdc"))
def _dc(inp: AggInput, wrap: Wrap) -> Typed:
    """dc(f): number of distinct values."""
    assert inp.value is not None
    if inp.value.kind is Kind.MULTIVALUE:
        return Typed(coalesce(anon("len", _flat_values(inp, wrap, distinct=True)), lit(0)), Kind.NUMBER)
    return Typed(wrap(exp.Count(this=exp.Distinct(expressions=[as_string(inp.value)]))), Kind.NUMBER)


# ---------------------------------------------------------------------------------------------------- lists


@aggregation("values")
def _values(inp: AggInput, wrap: Wrap) -> Typed:
    """values(f): distinct values, sorted as strings."""
    return Typed(anon("list_sort", _flat_values(inp, wrap, distinct=True)), Kind.MULTIVALUE)


@aggregation("list", consumes_order=True)
def _list(inp: AggInput, wrap: Wrap) -> Typed:
    """list(f): values in row order, duplicates kept, at most 100."""
    value = inp.value
    assert value is not None
    if value.kind is Kind.MULTIVALUE:
        gathered = wrap(_filtered(exp.ArrayAgg(this=_ordered(value.sql, inp.order)), _not_null(value.sql)))
        values = anon("flatten", gathered)
    else:
        values = wrap(_filtered(exp.ArrayAgg(this=_ordered(as_string(value), inp.order)), _not_null(value.sql)))
    return Typed(anon("list_slice", values, lit(1), lit(LIST_LIMIT)), Kind.MULTIVALUE)


# ---------------------------------------------------------------------------------------------------- extremes


def _extreme(inp: AggInput, wrap: Wrap, cls: type) -> Typed:
    """min()/max(): numbers compare numerically and text lexicographically; as in eval's min()/max(), text
    ranks above every number, so max() is the largest text value when there is one and min() the smallest
    number when there is one (decision in docs/semantics.md, §10 #7)."""
    value = inp.value
    assert value is not None
    if value.kind is Kind.NUMBER:
        return Typed(wrap(cls(this=value.sql)), Kind.NUMBER)
    if value.kind is Kind.TIME:
        return Typed(epoch(wrap(cls(this=value.sql))), Kind.NUMBER)
    per_row = "list_max" if cls is exp.Max else "list_min"
    if value.kind is Kind.MULTIVALUE:
        # an aggregate cannot unnest: take each row's own extreme number and extreme text first
        element = exp.column(ELEMENT)
        number = anon(per_row, func("list_transform", value.sql, lam(ELEMENT, try_cast(element, "DOUBLE"))))
        text = anon(per_row, func("list_filter", value.sql.copy(), lam(ELEMENT, exp.Is(
            this=try_cast(element.copy(), "DOUBLE"), expression=exp.Null()))))
        numbers = wrap(cls(this=number))
        texts = wrap(cls(this=text))
    else:
        raw = as_string(value)
        number = try_cast(raw, "DOUBLE")
        numbers = wrap(cls(this=number))
        texts = wrap(_filtered(cls(this=raw.copy()), exp.Is(this=number.copy(), expression=exp.Null())))
    if cls is exp.Max:
        return Typed(coalesce(texts, number_to_string(numbers)), Kind.STRING)
    return Typed(coalesce(number_to_string(numbers), texts), Kind.STRING)


@aggregation("min")
def _min(inp: AggInput, wrap: Wrap) -> Typed:
    """min(f): smallest value (numeric when numbers, else lexicographic)."""
    return _extreme(inp, wrap, exp.Min)


@aggregation("max")
def _max(inp: AggInput, wrap: Wrap) -> Typed:
    """max(f): largest value (numeric when numbers, else lexicographic)."""
    return _extreme(inp, wrap, exp.Max)


@aggregation("range")
def _range(inp: AggInput, wrap: Wrap) -> Typed:
    """range(f): max - min of the numeric values."""
    n = _number(inp)
    return Typed(exp.Sub(this=wrap(exp.Max(this=n)), expression=wrap(exp.Min(this=n))), Kind.NUMBER)


# ---------------------------------------------------------------------------------------------------- numeric


def _numeric(sql_name: str) -> Callable[[AggInput, Wrap], Typed]:
    def translate(inp: AggInput, wrap: Wrap) -> Typed:
        return Typed(wrap(anon(sql_name, _number(inp))), Kind.NUMBER)

    return translate


aggregation("avg", aliases=("mean",), summary="avg(f): mean of the numeric values")(_numeric("avg"))
aggregation("sum", summary="sum(f): total of the numeric values")(_numeric("sum"))
aggregation("stdev", summary="stdev(f): sample standard deviation")(_numeric("stddev_samp"))
aggregation("stdevp", summary="stdevp(f): population standard deviation")(_numeric("stddev_pop"))
aggregation("var", summary="var(f): sample variance")(_numeric("var_samp"))
aggregation("varp", summary="varp(f): population variance")(_numeric("var_pop"))


@aggregation("sumsq")
def _sumsq(inp: AggInput, wrap: Wrap) -> Typed:
    """sumsq(f): sum of squares."""
    n = _number(inp)
    return Typed(wrap(exp.Sum(this=exp.Mul(this=n, expression=n.copy()))), Kind.NUMBER)


def _quantile(inp: AggInput, wrap: Wrap, q: float) -> Typed:
    """Splunk's percentile (limits.conf ``perc_method = nearest-rank``): the value at 0-based rank
    floor(q * count) of the sorted numeric values. DuckDB's quantile_disc uses rank ceil(q * count) - 1, which
    differs whenever q * count is whole (the median of 4 values is the 3rd, not the 2nd), so the rank is
    spelled out."""
    n = _number(inp)
    ordered = wrap(_filtered(exp.ArrayAgg(this=exp.Order(this=n, expressions=[exp.Ordered(this=n.copy())])),
                             _not_null(n.copy())))
    count = wrap(exp.Count(this=n.copy()))
    rank = exp.Add(this=cast(anon("floor", exp.Mul(this=lit(q), expression=count)), "BIGINT"), expression=lit(1))
    return Typed(anon("list_extract", ordered, anon("least", rank, count.copy())), Kind.NUMBER)


@aggregation("median")
def _median(inp: AggInput, wrap: Wrap) -> Typed:
    """median(f): the 50th percentile by nearest rank (the higher middle value for an even count)."""
    return _quantile(inp, wrap, 0.5)


@aggregation("mode")
def _mode(inp: AggInput, wrap: Wrap) -> Typed:
    """mode(f): the most frequent value; ties go to the lexicographically smallest (decision in
    docs/semantics.md, §10 #12). ``histogram`` gives the counts keyed by value in ascending order, and
    ``list_position`` finds the first key with the largest count."""
    assert inp.value is not None
    if inp.value.kind is Kind.MULTIVALUE:
        counts = anon("list_aggregate", _flat_values(inp, wrap, distinct=False), lit("histogram"))
    else:
        counts = wrap(anon("histogram", as_string(inp.value)))
    tally = anon("map_values", counts)
    top = anon("list_position", tally, anon("list_max", tally.copy()))
    return Typed(anon("list_extract", anon("map_keys", counts.copy()), top), Kind.STRING)


# ---------------------------------------------------------------------------------------------------- order


def _positional(inp: AggInput, wrap: Wrap, sql_name: str) -> Typed:
    value = inp.value
    assert value is not None
    kind = value.kind if value.kind not in (Kind.TIME,) else Kind.NUMBER
    sql = as_number(value) if value.kind is Kind.TIME else value.sql
    if inp.windowed:
        # FIRST_VALUE(x IGNORE NULLS) OVER (... ORDER BY <row order>): the window orders the rows
        window_fn = exp.FirstValue if sql_name == "first" else exp.LastValue
        return Typed(wrap(exp.IgnoreNulls(this=window_fn(this=sql))), kind)
    agg = wrap(_filtered(anon(sql_name, _ordered(sql, inp.order)), _not_null(value.sql)))
    return Typed(agg, kind)


@aggregation("first", consumes_order=True)
def _first(inp: AggInput, wrap: Wrap) -> Typed:
    """first(f): the value of the first row in the current order (the most recent by default)."""
    return _positional(inp, wrap, "first")


@aggregation("last", consumes_order=True)
def _last(inp: AggInput, wrap: Wrap) -> Typed:
    """last(f): the value of the last row in the current order."""
    return _positional(inp, wrap, "last")


def _by_time(inp: AggInput, wrap: Wrap, sql_name: str) -> Typed:
    value = inp.value
    assert value is not None
    if inp.time is None or inp.time.kind is Kind.NULL:
        return Typed(exp.Null(), Kind.NULL)
    kind = Kind.NUMBER if value.kind is Kind.TIME else value.kind
    sql = as_number(value) if value.kind is Kind.TIME else value.sql
    return Typed(wrap(_filtered(anon(sql_name, sql, inp.time.sql), _not_null(value.sql))), kind)


@aggregation("earliest")
def _earliest(inp: AggInput, wrap: Wrap) -> Typed:
    """earliest(f): the value from the event with the smallest _time."""
    return _by_time(inp, wrap, "arg_min")


@aggregation("latest")
def _latest(inp: AggInput, wrap: Wrap) -> Typed:
    """latest(f): the value from the event with the largest _time."""
    return _by_time(inp, wrap, "arg_max")


@aggregation("earliest_time")
def _earliest_time(inp: AggInput, wrap: Wrap) -> Typed:
    """earliest_time(f): epoch time of the earliest event that has f."""
    assert inp.value is not None
    if inp.time is None:
        return Typed(exp.Null(), Kind.NULL)
    return Typed(epoch(wrap(_filtered(exp.Min(this=inp.time.sql), _not_null(inp.value.sql)))), Kind.NUMBER)


@aggregation("latest_time")
def _latest_time(inp: AggInput, wrap: Wrap) -> Typed:
    """latest_time(f): epoch time of the latest event that has f."""
    assert inp.value is not None
    if inp.time is None:
        return Typed(exp.Null(), Kind.NULL)
    return Typed(epoch(wrap(_filtered(exp.Max(this=inp.time.sql), _not_null(inp.value.sql)))), Kind.NUMBER)


# ---------------------------------------------------------------------------------------------------- expansion


@dataclass
class Planned:
    """One concrete aggregation: output field name, SPL function, the input (None for count), eval or not."""

    output: str
    func: str
    spec: AggSpec
    field: str | None
    eval_expr: ast.EvalExpr | None
    span: object


def plan_aggregations(ctx: StageContext, aggs: list[ast.Aggregation], relation: Relation,
                      exclude: set[str] = frozenset()) -> list[Planned]:  # type: ignore[assignment]
    """Resolve functions and expand wildcards (``values(*) AS *``) against the relation's fields."""
    planned: list[Planned] = []
    for agg in aggs:
        spec = find(agg.func)
        if spec is None:
            raise ctx.unsupported(f"{agg.func}()", f"statistical function {agg.func}() is not supported", agg.span)
        if agg.arg is None:
            if spec.needs_arg:
                raise ctx.error(f"{agg.func}() needs a field", agg.span)
            planned.append(Planned(agg.alias or agg.text, agg.func, spec, None, None, agg.span))
            continue
        if agg.arg_is_eval or not isinstance(agg.arg, ast.FieldName):
            planned.append(Planned(agg.alias or agg.text, agg.func, spec, None, agg.arg, agg.span))  # type: ignore[arg-type]
            continue
        pattern = agg.arg.name
        if not wildcards.has_wildcard(pattern):
            planned.append(Planned(agg.alias or agg.text, agg.func, spec, pattern, None, agg.span))
            continue
        for name in relation.names():
            captures = wildcards.match(pattern, name)
            if captures is None or name in exclude:
                continue
            if agg.alias:
                try:
                    output = wildcards.substitute(agg.alias, captures) if "*" in agg.alias else agg.alias
                except ValueError:
                    raise ctx.error("the AS name needs as many '*' as the field pattern", agg.span) from None
            else:
                output = f"{agg.func}({name})"
            planned.append(Planned(output, agg.func, spec, name, None, agg.span))
    _refuse_shared_outputs(ctx, planned)
    return planned


def _refuse_shared_outputs(ctx: StageContext, planned: list[Planned]) -> None:
    """Two aggregations writing one output field (``min(firstTime) AS firstTime ... values(*) AS *`` after a
    stats that made ``firstTime``) are refused: Splunk documents no rule for which one the field keeps, and
    SQL would get two columns of one name."""
    seen: dict[str, Planned] = {}
    for item in planned:
        first = seen.setdefault(item.output, item)
        if first is not item:
            raise ctx.unsupported(
                "two aggregations with one output name",
                f"two aggregations ({first.func}({first.field or ''}) and {item.func}({item.field or ''})) both write "
                f"the field {item.output!r}, and Splunk does not define which value it keeps; name them apart "
                "(a wildcard AS * also names the fields it expands to)", item.span)  # type: ignore[arg-type]


def translate_planned(ctx: StageContext, item: Planned, relation: Relation, order: list[exp.Ordered],
                      wrap: Wrap) -> Typed:
    if item.eval_expr is not None:
        value: Typed | None = ctx.eval(item.eval_expr, relation)
    elif item.field is not None:
        value = ctx.field(item.field, relation)
        if value.kind is Kind.NULL and item.func.lower() not in ("count", "c", "dc", "distinct_count"):
            return Typed(exp.Null(), Kind.NULL)
        if value.kind is Kind.NULL:
            return Typed(lit(0), Kind.NUMBER)
    else:
        value = None
    time = ctx.field("_time", relation)
    windowed = isinstance(wrap(exp.Null()), exp.Window)
    result = item.spec.translate(AggInput(value, order, time if time.kind is not Kind.NULL else None, windowed), wrap)
    if item.output == "_time" and result.kind is Kind.NUMBER:
        # min(_time) AS _time (ESCU writes it): the epoch seconds the function gives go back into a time,
        # because _time always holds a TIMESTAMP here (as eval's assignments to _time do)
        return Typed(from_epoch(result.sql), Kind.TIME)
    return result
