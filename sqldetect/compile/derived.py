"""Derived fields: fields of the event "source" computed when a rule runs, not stored.

Two kinds, one mechanism:
- **field mappings** (warehouses): an SPL field name bound to a column or SQL expression over someone else's
  table (``CommandLine: process.command_line``). The SQL is trusted operator configuration, parsed with sqlglot
  and refused when it is anything but one scalar expression;
- **calculated fields** (Splunk's search-time ``EVAL-x`` / ``FIELDALIAS``): an SPL eval expression over event
  fields (``signature_id = EventCode``), translated like any eval.

When a rule may read one of them, the query starts with a CTE ``s0_source`` that selects the event table plus
the derived fields it needs; everything after reads ``s0_source`` as if it were the table. A mapping with the
name of a stored field replaces it; a calculated field fills it where an event has no value (``override``). Only fields the rule can reach are computed (by name in the rule's text,
or all of them when a wildcard could reach any), so the SQL stays readable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from sqldetect.errors import SqlDetectError
from sqldetect.schema import FieldKind


class DerivedFieldError(SqlDetectError):
    """A derived field definition is invalid (bad SQL expression, bad eval expression, unknown kind)."""


@dataclass(frozen=True)
class DerivedField:
    """One derived field: ``sql`` (a SQL expression over the table's columns) or ``eval`` (an SPL eval
    expression over event fields); ``kind`` when it cannot be inferred."""

    name: str
    sql: str | None = None
    eval: str | None = None
    kind: FieldKind | None = None
    origin: str = ""  # where it was defined (file), for error messages
    #: True: replace a stored field of the same name (mappings do); None (calculated fields' default): fill it
    #: only on events where it is null, so events that carry the field keep their own value; False: a table
    #: with a column of that name keeps it as it is
    override: bool | None = None

    @property
    def replaces_stored(self) -> bool:
        return self.override if self.override is not None else self.sql is not None

    def __post_init__(self) -> None:
        if (self.sql is None) == (self.eval is None):
            raise DerivedFieldError(f"derived field '{self.name}' needs exactly one of `sql` or `eval`"
                                    + (f" ({self.origin})" if self.origin else ""))

    def sql_expression(self) -> exp.Expression:
        """The SQL of a mapping, validated: one scalar expression, no query, no statement, no table function."""
        assert self.sql is not None
        try:
            parsed = sqlglot.parse_one(self.sql, read="duckdb")
        except sqlglot.errors.ParseError as err:
            raise DerivedFieldError(f"field '{self.name}': not a SQL expression: {self.sql!r} ({err})") from None
        forbidden = (exp.Query, exp.Subquery, exp.Command, exp.DDL, exp.DML, exp.Table, exp.Pragma,
                     exp.Set, exp.Transaction)
        if isinstance(parsed, forbidden) or any(parsed.find_all(*forbidden)):
            raise DerivedFieldError(f"field '{self.name}': only a scalar SQL expression over columns is allowed, "
                                    f"got {self.sql!r}")
        return parsed


_WORD = re.compile(r"[A-Za-z0-9_.:@{}\-]+")
#: fields commands read without naming them: the row order and time filters (``_time``, ``_serial``), bare
#: terms, ``regex``/``rex``/``xmlkv`` defaults (``_raw``), and the index-time fields tstats groups by
IMPLICIT_FIELDS = frozenset({"_time", "_serial", "_raw", "host", "source", "sourcetype", "index"})


def referenced(fields: list[DerivedField], spl: str, demanded: set[str] | None) -> list[DerivedField]:
    """The derived fields a rule may read: those named in its SPL text (over-approximated by word match), the
    implicit ones, plus, when ``demanded`` is None (a wildcard may reach any field, or a data model reads the
    events), every mapping. Calculated fields (``eval``) are computed only when the rule names them: there are
    dozens, a data model computes its own fields from the stored ones, and ``table *`` showing every one of them
    is not worth a query that computes them all."""
    words = set(_WORD.findall(spl))
    if demanded is None:
        return [f for f in fields if f.sql is not None or f.name in words or f.name in IMPLICIT_FIELDS]
    return [f for f in fields if f.name in words or f.name in demanded or f.name in IMPLICIT_FIELDS]
