"""The sqlglot generator that prints sqldetect's SQL: the dialect's own, remembering how it prints plain types
and plain column references.

Why: a translation casts a lot (``TRY_CAST(x AS DOUBLE)`` in every "auto" ORDER BY key, numbers printed as
text...), and DuckDB's generator works out each type's text afresh: it builds several ``DataType`` nodes per
type it prints, only to compare against them. That was about a sixth of the printing time of the ESCU corpus.
A plain type (``DOUBLE``, ``TEXT``, ``BIGINT``: no parameters, no element types) always prints the same, so
its text is kept after the first time; so is a column reference that is just a name (``"process_name"``, the
node printed most, five generator calls each). Everything else goes through the dialect's generator
unchanged; the subclass adds memos and no printing of its own, so the SQL is the dialect's, byte for byte
(``tests/compile/test_printing_speedups.py``).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.generator import Generator

#: the arguments a plain type node has (``expressions``/``values`` present but empty)
_PLAIN_ARGS = frozenset({"this", "nested", "expressions", "values"})
#: the arguments of a plain column reference (a name, no table) and of its identifier
_COLUMN_ARGS = frozenset({"this", "table"})
_IDENT_ARGS = frozenset({"this", "quoted"})


@functools.cache
def printer_class(dialect: str) -> type[Generator]:
    """The generator class for ``dialect``: its own, with the plain-type memo."""
    base: type[Generator] = Dialect.get_or_raise(dialect).generator_class

    class Printer(base):  # type: ignore[valid-type, misc]
        _plain_types: dict[tuple[Any, Any], str] = {}  # noqa: RUF012 - one memo per class (dialect)

        def datatype_sql(self, expression: exp.DataType) -> str:
            args = expression.args
            this = args.get("this")
            if (isinstance(this, exp.DataType.Type) and this not in self.UNSUPPORTED_TYPES
                    and not args.get("expressions") and not args.get("values") and args.keys() <= _PLAIN_ARGS
                    and not expression.comments):
                key = (this, args.get("nested"))
                text = self._plain_types.get(key)
                if text is None:
                    text = super().datatype_sql(expression)
                    self._plain_types[key] = text
                return text
            return super().datatype_sql(expression)

        _plain_columns: dict[tuple[Any, ...], str] = {}  # noqa: RUF012 - one memo per class (dialect)

        def column_sql(self, expression: exp.Column) -> str:
            args = expression.args
            ident = args.get("this")
            if (type(ident) is exp.Identifier and args.keys() <= _COLUMN_ARGS and args.get("table") is None
                    and not expression.comments and not ident.comments and ident.args.keys() <= _IDENT_ARGS):
                key = (ident.args.get("this"), ident.args.get("quoted"), self.identify, self.normalize)
                text = self._plain_columns.get(key)
                if text is None:
                    text = super().column_sql(expression)
                    self._plain_columns[key] = text
                return text
            return super().column_sql(expression)

    Printer.__name__ = Printer.__qualname__ = f"{base.__name__}Printer"
    return Printer


@functools.cache
def _dialect(name: str) -> Dialect:
    return Dialect.get_or_raise(name)  # a name builds a new Dialect each time: build it once


def printer(dialect: str, *, pretty: bool) -> Generator:
    """A generator for one query (quoting every identifier, as sqldetect's SQL does)."""
    return printer_class(dialect)(pretty=pretty, identify=True, dialect=_dialect(dialect))
