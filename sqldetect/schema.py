"""Field schemas: which fields an event table (or a pipeline stage) has, the column behind each, and its kind.

The translator is schema-aware: it expands wildcards against real fields, turns unknown fields into NULL, and
chooses SQL per kind (a multivalue field needs any-value comparisons, a number compares numerically). The
event store records the schema of every table it loads in the ``sqldetect_schema`` table; for any other
DuckDB table (a warehouse) the schema is derived from the column types.

Field names are case-sensitive (as in Splunk) but DuckDB identifiers are not, so a field and its column may
differ: the store gives the second of two names that differ only in case a distinct column (see
docs/semantics.md, "Field names that differ only in case").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import duckdb

SCHEMA_TABLE = "sqldetect_schema"


class FieldKind(StrEnum):
    """What a field holds, as far as the SQL translation cares."""

    STRING = "string"
    NUMBER = "number"
    TIME = "time"  # only `_time`: a TIMESTAMP holding UTC; every other time value is epoch seconds (NUMBER)
    MULTIVALUE = "multivalue"  # VARCHAR[]: Splunk's multivalue field
    BOOLEAN = "boolean"  # only inside expressions; never stored as a field by SPL

    @property
    def sql_type(self) -> str:
        """The DuckDB column type that stores this kind (an empty table of a schema uses it)."""
        return _SQL_TYPES[self]

    @staticmethod
    def from_duckdb_type(type_name: str) -> FieldKind:
        t = type_name.upper()
        if t.endswith("[]") or t.startswith("LIST") or t.startswith("STRUCT"):
            return FieldKind.MULTIVALUE
        if t.startswith("TIMESTAMP") or t == "DATE":
            return FieldKind.TIME
        if t in {"BOOLEAN", "BOOL"}:
            return FieldKind.BOOLEAN
        numeric = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                   "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "INT")
        if t.startswith(numeric):
            return FieldKind.NUMBER
        return FieldKind.STRING


_SQL_TYPES = {FieldKind.STRING: "VARCHAR", FieldKind.NUMBER: "DOUBLE", FieldKind.TIME: "TIMESTAMP",
              FieldKind.MULTIVALUE: "VARCHAR[]", FieldKind.BOOLEAN: "BOOLEAN"}


@dataclass(frozen=True)
class Field:
    """One field: its SPL ``name``, the SQL ``column`` that holds it, and its ``kind``."""

    name: str
    kind: FieldKind = FieldKind.STRING
    column: str | None = None

    @property
    def column_name(self) -> str:
        return self.column or self.name


class Schema:
    """An ordered set of fields, looked up by exact (case-sensitive) name."""

    def __init__(self, fields: Iterable[Field] = ()) -> None:
        self._fields: dict[str, Field] = {}
        for f in fields:
            self._fields[f.name] = f

    def __iter__(self) -> Iterator[Field]:
        return iter(self._fields.values())

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def get(self, name: str) -> Field | None:
        return self._fields.get(name)

    def names(self) -> list[str]:
        return list(self._fields)

    def to_dict(self) -> dict[str, str]:
        return {f.name: f.kind.value for f in self}

    @classmethod
    def from_mapping(cls, mapping: dict[str, str]) -> Schema:
        """Build from ``{field: kind}`` (as in a ``--schema`` YAML/JSON file)."""
        return cls(Field(name, FieldKind(kind)) for name, kind in mapping.items())

    def create_empty_table(self, con: duckdb.DuckDBPyConnection, table: str = "events") -> None:
        """Create ``table`` with one column per field and no rows: enough for DuckDB to bind and run any
        translated query (coverage measurement, ``validate`` without events)."""
        from sqlglot import exp

        columns = ", ".join(f"{exp.to_identifier(f.column_name, quoted=True).sql('duckdb')} {f.kind.sql_type}"
                            for f in self)
        con.execute(f"CREATE TABLE {exp.to_identifier(table, quoted=True).sql('duckdb')} ({columns})")

    @classmethod
    def from_duckdb(cls, con: duckdb.DuckDBPyConnection, table: str = "events") -> Schema:
        """Read a table's schema: the store's recorded one when present, else derived from column types."""
        recorded = _recorded_schema(con, table)
        if recorded is not None:
            return recorded
        rows = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return cls(Field(name, FieldKind.from_duckdb_type(dtype), name) for name, dtype in rows)


def _recorded_schema(con: duckdb.DuckDBPyConnection, table: str) -> Schema | None:
    # fetchall, not fetchone: DuckDB 2 keeps a half-read result open and blocks the next statement
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [SCHEMA_TABLE]
    ).fetchall()
    if not exists or not exists[0][0]:
        return None
    rows = con.execute(
        f"SELECT field, column_name, kind FROM {SCHEMA_TABLE} WHERE table_name = ? ORDER BY position",
        [table],
    ).fetchall()
    if not rows:
        return None
    return Schema(Field(name, FieldKind(kind), column) for name, column, kind in rows)
