"""Small builders for sqlglot expressions.

Every identifier the translator emits goes through ``col``/``ident`` (always quoted) and every value through
``lit`` (always an escaped literal), so no text from a rule is ever spliced into SQL. Keeping the builders in
one place also keeps the generated SQL uniform and readable.
"""

from __future__ import annotations

from functools import lru_cache

from sqlglot import exp

TRUE = exp.Boolean(this=True)
FALSE = exp.Boolean(this=False)


def ident(name: str) -> exp.Identifier:
    """A quoted identifier (quoting keeps names like ``Processes.process`` or ``user`` intact)."""
    if isinstance(name, str):  # what ``exp.to_identifier(name, quoted=True)`` builds, without its checks
        return exp.Identifier(this=name, quoted=True)
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    """A quoted column reference, optionally qualified by a table/CTE alias. The most built node of a
    translation: building it afresh is cheaper than copying one (``Expression.copy`` deep-copies)."""
    if table:
        return exp.Column(this=ident(name), table=ident(table))
    return exp.Column(this=ident(name), table=None)


def lit(value: str | int | float | bool | None) -> exp.Expression:
    """An escaped SQL literal for a Python value."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return cast(exp.Literal.string(str(value)), "DOUBLE")
        text = repr(value) if isinstance(value, float) else str(value)
        # ``exp.Literal.number`` would parse the text back to find its sign; it is known here
        if value < 0:
            return exp.Neg(this=exp.Literal(this=text[1:], is_string=False))
        return exp.Literal(this=text, is_string=False)
    return string(value)


def string(value: str) -> exp.Expression:
    """A string literal. Line breaks become ``chr(10)``/``chr(13)`` pieces, so a printed literal never spans
    lines: the pretty printer can indent freely and a ``--`` comment line can never be broken out of."""
    if "\n" not in value and "\r" not in value:
        return exp.Literal.string(value)
    pieces: list[exp.Expression] = []
    buf = ""
    for ch in value:
        if ch in "\r\n":
            if buf:
                pieces.append(exp.Literal.string(buf))
                buf = ""
            pieces.append(exp.Chr(expressions=[exp.Literal.number(ord(ch))]))
        else:
            buf += ch
    if buf:
        pieces.append(exp.Literal.string(buf))
    out = pieces[0]
    for piece in pieces[1:]:
        out = exp.DPipe(this=out, expression=piece)
    return exp.Paren(this=out) if len(pieces) > 1 else out


def null(type_name: str = "VARCHAR") -> exp.Expression:
    """A typed NULL (``CAST(NULL AS VARCHAR)``), so unions and CASEs keep their column types."""
    return cast(exp.Null(), type_name)


@lru_cache(maxsize=64)
def _data_type(type_name: str) -> tuple[exp.DataType, bool]:
    """The parsed type, and whether it is flat (no nested type node: ``DOUBLE``, not ``VARCHAR[]``).
    Building a DataType parses the name; translation casts a lot, so parse each name once."""
    built = exp.DataType.build(type_name, dialect="duckdb")
    flat = not any(isinstance(v, (exp.Expression, list)) for v in built.args.values())
    return built, flat


def _new_type(type_name: str) -> exp.DataType:
    """A fresh copy of the parsed type (the printer may modify a type node). A flat one is rebuilt from its
    arguments, which is several times cheaper than ``copy()``'s deep copy and gives the same node."""
    model, flat = _data_type(type_name)
    return exp.DataType(**model.args) if flat else model.copy()


def cast(expr: exp.Expression, type_name: str) -> exp.Cast:
    return exp.Cast(this=expr, to=_new_type(type_name))


def try_cast(expr: exp.Expression, type_name: str) -> exp.TryCast:
    return exp.TryCast(this=expr, to=_new_type(type_name))


def func(name: str, *args: exp.Expression) -> exp.Expression:
    """A function call by DuckDB name. Known names become sqlglot's typed nodes, so printing is stable."""
    return exp.func(name, *args, dialect="duckdb")


def anon(name: str, *args: exp.Expression) -> exp.Anonymous:
    """A function call printed exactly as named (for DuckDB functions sqlglot does not model)."""
    return exp.Anonymous(this=name, expressions=list(args))


def lam(param: str, body: exp.Expression) -> exp.Lambda:
    """``LAMBDA param : body`` over a list element."""
    return exp.Lambda(this=body, expressions=[exp.to_identifier(param)])


def and_(*conds: exp.Expression) -> exp.Expression:
    """AND of the conditions, leaving out literal TRUEs (``search * foo`` needs no ``TRUE AND``)."""
    items = [c for c in conds if c is not None and c != TRUE]
    if not items:
        return TRUE
    out = items[0]
    for c in items[1:]:
        out = exp.And(this=_wrap_bool(out, exp.Or), expression=_wrap_bool(c, exp.Or))
    return out


def or_(*conds: exp.Expression) -> exp.Expression:
    items = [c for c in conds if c is not None]
    if not items:
        return FALSE
    out = items[0]
    for c in items[1:]:
        out = exp.Or(this=out, expression=c)
    return out


def not_(cond: exp.Expression) -> exp.Expression:
    return exp.Not(this=paren_if_needed(cond))


def paren_if_needed(e: exp.Expression) -> exp.Expression:
    if isinstance(e, (exp.Connector, exp.Binary, exp.Not, exp.Is, exp.Like, exp.ILike)) and not isinstance(
        e, exp.Paren
    ):
        return exp.Paren(this=e)
    return e


def _wrap_bool(e: exp.Expression, kind: type) -> exp.Expression:
    return exp.Paren(this=e) if isinstance(e, kind) else e


def coalesce(*args: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=args[0], expressions=list(args[1:]))


def case(whens: list[tuple[exp.Expression, exp.Expression]], default: exp.Expression | None = None) -> exp.Case:
    """``CASE WHEN .. THEN .. [ELSE ..] END``, built as ``Case.when``/``else_`` would build it."""
    args: dict[str, object] = {}
    if whens:
        args["ifs"] = [exp.If(this=cond, true=value) for cond, value in whens]
    if default is not None:
        args["default"] = default
    return exp.Case(**args)


def alias(expr: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=expr, alias=ident(name))


def star(exclude: list[str] | None = None, replace: list[exp.Alias] | None = None) -> exp.Star:
    """``* EXCLUDE (...) REPLACE (...)`` (DuckDB), used to pass most columns through a stage unchanged."""
    args: dict[str, object] = {}
    if exclude:
        args["except_"] = [col(name) for name in exclude]
    if replace:
        args["replace"] = replace
    return exp.Star(**args)


def number_to_string(expr: exp.Expression) -> exp.Expression:
    """Render a number the way Splunk prints it: ``3`` not ``3.0``, ``0.5``; 15 significant digits.
    The value is cast to DOUBLE because DuckDB's printf refuses ``%g`` for integers (``len(s)``, literals);
    a literal number is printed right here instead."""
    if isinstance(expr, exp.Literal) and not expr.is_string:
        return exp.Literal.string(f"{float(expr.this):.15g}")
    if isinstance(expr, (exp.Cast, exp.TryCast)) and expr.to.is_type("double"):
        return anon("printf", lit("%.15g"), expr)
    return anon("printf", lit("%.15g"), cast(expr, "DOUBLE"))


def epoch(expr: exp.Expression) -> exp.Expression:
    """Seconds since 1970 (DOUBLE, with fractions) of a TIMESTAMP."""
    return anon("epoch", expr)


def from_epoch(expr: exp.Expression) -> exp.Expression:
    """A TIMESTAMP from epoch seconds, independent of the session time zone (``to_timestamp`` is not)."""
    # 1e6 is a DOUBLE, so an integer literal (epoch seconds) cannot overflow INT32 when multiplied
    # TRY_CAST: an epoch too large for a timestamp gives NULL instead of stopping the query
    micros = try_cast(anon("round", exp.Mul(this=paren_if_needed(expr), expression=exp.Literal.number("1e6"))),
                      "BIGINT")
    return anon("make_timestamp", micros)
