"""Typed SQL expressions and the coercions SPL's dynamic typing needs.

SPL values are dynamically typed: a field extracted as the string ``"10"`` behaves as a number in ``count > 5``;
``.`` turns numbers into strings; a multivalue field answers a comparison with "any value matches". The
translator knows each expression's static ``Kind`` and inserts the conversion SQL needed to get SPL's answer,
and nothing when the kinds already agree (so the common case stays readable).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import (
    anon,
    cast,
    epoch,
    func,
    lam,
    lit,
    null,
    number_to_string,
    paren_if_needed,
    try_cast,
)


@dataclass(frozen=True)
class Typed:
    """A SQL expression with the SPL kind of its value."""

    sql: exp.Expression
    kind: Kind

    @staticmethod
    def null() -> Typed:
        return Typed(exp.Null(), Kind.NULL)


ELEMENT = "_v"  # lambda parameter for per-value operations on multivalue fields (a name no SPL field uses)


def as_string(t: Typed) -> exp.Expression:
    """The value as VARCHAR (numbers printed the Splunk way; a multivalue field gives its first value)."""
    if t.kind is Kind.STRING:
        return t.sql
    if t.kind is Kind.NUMBER:
        return number_to_string(t.sql)
    if t.kind is Kind.TIME:
        return number_to_string(epoch(t.sql))
    if t.kind is Kind.BOOLEAN:
        return exp.Case().when(t.sql, lit("True"), copy=False).else_(lit("False"), copy=False)
    if t.kind is Kind.MULTIVALUE:
        return anon("list_extract", t.sql, lit(1))
    return null()


def as_number(t: Typed) -> exp.Expression:
    """The value as DOUBLE; strings that do not look like numbers give NULL (as ``tonumber`` does)."""
    if t.kind is Kind.NUMBER:
        return t.sql
    if t.kind is Kind.TIME:
        return epoch(t.sql)
    if t.kind is Kind.STRING:
        return try_cast(t.sql, "DOUBLE")
    if t.kind is Kind.BOOLEAN:
        return cast(t.sql, "DOUBLE")
    if t.kind is Kind.MULTIVALUE:
        return try_cast(anon("list_extract", t.sql, lit(1)), "DOUBLE")
    return null("DOUBLE")


def as_list(t: Typed) -> exp.Expression:
    """The value as VARCHAR[] (a single value becomes a one-element list; NULL stays NULL)."""
    if t.kind is Kind.MULTIVALUE:
        return t.sql
    if t.kind is Kind.NULL:
        return null("VARCHAR[]")
    scalar = as_string(t)
    if isinstance(scalar, exp.Literal):  # a literal is never NULL: no CASE needed
        return exp.Array(expressions=[scalar])
    return exp.Case().when(exp.Is(this=scalar, expression=exp.Null()), null("VARCHAR[]"), copy=False).else_(
        exp.Array(expressions=[scalar])
    , copy=False)


def as_stored(t: Typed) -> Typed:
    """The value in the form a field stores: booleans are not storable in SPL, so they become strings
    ``"True"``/``"False"`` (what ``tostring`` gives); everything else is kept."""
    if t.kind is Kind.BOOLEAN:
        return Typed(as_string(t), Kind.STRING)
    if t.kind is Kind.NULL:
        return Typed(null(), Kind.NULL)
    return t


def any_value(t: Typed, predicate) -> exp.Expression:
    """Apply ``predicate`` (a function from a scalar Typed to a boolean SQL expression) with SPL's
    multivalue rule: true when any value satisfies it."""
    if t.kind is not Kind.MULTIVALUE:
        return predicate(t)
    element = Typed(exp.column(ELEMENT), Kind.STRING)
    return anon("list_bool_or", func("list_transform", t.sql, lam(ELEMENT, predicate(element))))


def map_values(t: Typed, transform) -> Typed:
    """Apply a scalar transform to each value of a multivalue field (or to the single value)."""
    if t.kind is not Kind.MULTIVALUE:
        return transform(t)
    element = Typed(exp.column(ELEMENT), Kind.STRING)
    result = transform(element)
    return Typed(func("list_transform", t.sql, lam(ELEMENT, as_string(result))), Kind.MULTIVALUE)


def is_present(t: Typed) -> exp.Expression:
    """True when the field has a value (multivalue: at least one)."""
    if t.kind is Kind.NULL:
        return exp.Boolean(this=False)
    return exp.Not(this=exp.Is(this=paren_if_needed(t.sql), expression=exp.Null()))
