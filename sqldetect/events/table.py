"""Appending batches to one DuckDB event table: columns, types, duplicates, and the recorded schema.

The table grows with what it is given: a field seen for the first time becomes a column, a column widens when a
later batch needs it (``BIGINT`` -> ``DOUBLE`` -> ``VARCHAR`` -> ``VARCHAR[]``; a loaded value is never refused),
and the field -> column mapping is kept in ``sqldetect_schema`` (see ``sqldetect/schema.py``).

Field names are case-sensitive, DuckDB identifiers are not: the first name seen owns the column of that name and a
later name differing only in case gets ``<name>__2`` (``__3``...), so no value is lost or overwritten.

Each event carries an identity key (``_key``, 16 bytes; not a field). A batch's rows whose key is already in the
table, or repeats earlier in the batch, are counted as duplicates and not inserted: loading the same events
twice does not duplicate them.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from sqldetect.events.batch import Unified
from sqldetect.schema import SCHEMA_TABLE, FieldKind

KEY_COLUMN = "_key"

# Fields every table has, in order, with their fixed SQL types.
BASE_FIELDS = (("_time", "TIMESTAMP"), ("_raw", "VARCHAR"), ("host", "VARCHAR"), ("source", "VARCHAR"),
               ("sourcetype", "VARCHAR"), ("index", "VARCHAR"), ("_serial", "BIGINT"))  # fmt: skip
# Fields a Windows batch adds (created with the first Windows batch), with their SQL types.
WINDOWS_FIELDS = (
    ("EventCode", "BIGINT"), ("EventID", "BIGINT"), ("EventRecordID", "BIGINT"), ("RecordNumber", "BIGINT"),
    ("Channel", "VARCHAR"), ("Computer", "VARCHAR"), ("Provider", "VARCHAR"), ("SourceName", "VARCHAR"),
    ("Level", "BIGINT"), ("Task", "BIGINT"), ("Opcode", "BIGINT"), ("Keywords", "VARCHAR"), ("UserID", "VARCHAR"),
    ("Version", "BIGINT"), ("ProcessID", "BIGINT"), ("ThreadID", "BIGINT"), ("Qualifiers", "BIGINT"),
    ("ActivityID", "VARCHAR"), ("RelatedActivityID", "VARCHAR"),
    ("signature_id", "BIGINT"), ("Message", "VARCHAR"), ("Data", "VARCHAR[]"),
)  # fmt: skip

# Long text columns: zstd compresses event text about 8x better than DuckDB's default string compression and
# costs a third of its time (measured on 300k Sysmon rows: 204 MB -> 26 MB, insert 16.7 -> 10.4 us/row).
ZSTD_FIELDS = frozenset({"_raw", "Message"})

_RANK = {"BIGINT": 0, "DOUBLE": 1, "VARCHAR": 2, "VARCHAR[]": 3}
_KINDS = {"TIMESTAMP": FieldKind.TIME, "BIGINT": FieldKind.NUMBER, "DOUBLE": FieldKind.NUMBER,
          "VARCHAR": FieldKind.STRING, "VARCHAR[]": FieldKind.MULTIVALUE}  # fmt: skip


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_list(arrow_type):
        return "VARCHAR[]"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    return "VARCHAR"


def _definition(column: str, sql_type: str) -> str:
    """A column definition; long text columns are zstd-compressed (see ``ZSTD_FIELDS``)."""
    if column in ZSTD_FIELDS and sql_type == "VARCHAR":
        return f"{quote(column)} VARCHAR USING COMPRESSION zstd"
    return f"{quote(column)} {sql_type}"


def _normalize_type(duckdb_type: str) -> str:
    t = duckdb_type.upper()
    if t.endswith("[]"):
        return "VARCHAR[]"
    if t.startswith("TIMESTAMP"):
        return "TIMESTAMP"
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return "DOUBLE"
    if t in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"):
        return "BIGINT"
    return "VARCHAR"


@dataclass
class Column:
    field: str
    column: str
    sql_type: str


class EventTable:
    """One event table inside the caller's open transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str, *, sourcetype: str, index: str) -> None:
        self.con = con
        self.table = table
        self.sourcetype = sourcetype
        self.index = index
        self.columns: dict[str, Column] = {}  # field name -> column
        self._taken: set[str] = set()  # lower-cased column names in use
        self._batch_no = 0
        self.next_serial = 1
        self._rows = 0
        self._ensure_table()

    # ------------------------------------------------------------------------------------------- structure

    def _ensure_table(self) -> None:
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()",
            [self.table],
        ).fetchall()[0][0]
        if not exists:
            columns = [_definition(name, sql_type) for name, sql_type in BASE_FIELDS]
            columns.append(f"{quote(KEY_COLUMN)} BLOB")
            self.con.execute(f"CREATE TABLE {quote(self.table)} ({', '.join(columns)})")
        types = {
            name: _normalize_type(dtype)
            for name, dtype in self.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? AND table_schema = current_schema() ORDER BY ordinal_position",
                [self.table],
            ).fetchall()
        }
        recorded = self._recorded_mapping()
        for field, column in recorded or [(name, name) for name in types if name != KEY_COLUMN]:
            if column in types:
                self._register(Column(field, column, types[column]))
        for name, sql_type in BASE_FIELDS:
            if name not in self.columns:
                self._add_column(name, sql_type)
        if KEY_COLUMN not in types:
            self.con.execute(f"ALTER TABLE {quote(self.table)} ADD COLUMN {quote(KEY_COLUMN)} BLOB")
        self._taken.add(KEY_COLUMN.lower())
        serial, rows = self.con.execute(
            f"SELECT max({quote(self.columns['_serial'].column)}), count(*) FROM {quote(self.table)}"
        ).fetchall()[0]
        self.next_serial = (serial or 0) + 1
        self._rows = rows  # type: ignore[index]

    def _recorded_mapping(self) -> list[tuple[str, str]] | None:
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [SCHEMA_TABLE]
        ).fetchall()[0][0]
        if not exists:
            return None
        rows = self.con.execute(
            f"SELECT field, column_name FROM {SCHEMA_TABLE} WHERE table_name = ? ORDER BY position", [self.table]
        ).fetchall()
        return rows or None

    def _register(self, column: Column) -> None:
        self.columns[column.field] = column
        self._taken.add(column.column.lower())

    def _column_name(self, field: str) -> str:
        """The field's own name, or ``<name>__2``, ``__3``... when a column of that name (any case) exists."""
        if field.lower() not in self._taken:
            return field
        n = 2
        while f"{field}__{n}".lower() in self._taken:
            n += 1
        return f"{field}__{n}"

    def _add_column(self, field: str, sql_type: str) -> Column:
        column = Column(field, self._column_name(field), sql_type)
        self.con.execute(f"ALTER TABLE {quote(self.table)} ADD COLUMN {_definition(column.column, sql_type)}")
        self._register(column)
        return column

    def _widen(self, column: Column, sql_type: str) -> None:
        """Change a column to a wider type, converting the values it already holds."""
        name = quote(column.column)
        if sql_type == "VARCHAR[]":
            using = f"CASE WHEN {name} IS NULL THEN NULL ELSE [CAST({name} AS VARCHAR)] END"
        else:
            using = f"CAST({name} AS {sql_type})"
        self.con.execute(f"ALTER TABLE {quote(self.table)} ALTER COLUMN {name} TYPE {sql_type} USING ({using})")
        column.sql_type = sql_type

    def _ensure_columns(self, needs: list[tuple[str, str]]) -> None:
        """Create or widen columns so every ``(field, sql type)`` of a batch fits.

        ``ALTER TABLE ... ADD COLUMN`` costs about half a millisecond each and a Windows load can bring hundreds
        of fields, so while the table is still empty it is re-created with all its columns in one statement.
        """
        new: dict[str, str] = {}
        for field, sql_type in needs:
            column = self.columns.get(field)
            if column is None:
                new.setdefault(field, sql_type)
            elif sql_type in _RANK and column.sql_type in _RANK and _RANK[sql_type] > _RANK[column.sql_type]:
                if self._rows == 0:
                    column.sql_type = sql_type
                    self._recreate()
                else:
                    self._widen(column, sql_type)
        if not new:
            return
        if self._rows == 0:
            for field, sql_type in new.items():
                self._register(Column(field, self._column_name(field), sql_type))
            self._recreate()
        else:
            for field, sql_type in new.items():
                self._add_column(field, sql_type)

    def _recreate(self) -> None:
        columns = [_definition(c.column, c.sql_type) for c in self.columns.values()]
        columns.append(f"{quote(KEY_COLUMN)} BLOB")
        self.con.execute(f"CREATE OR REPLACE TABLE {quote(self.table)} ({', '.join(columns)})")

    # ------------------------------------------------------------------------------------------- appending

    def append(self, batch: Unified) -> int:
        """Insert unified batches; their rows get ``_serial`` = the returned base + their ordinal."""
        base = self.next_serial
        if batch.rows == 0:
            return base
        core_refs = {name: f"c{i}" for i, name in enumerate(batch.core)}
        field_refs = [(name, f"f{i}", batch.schema.field(f"f{i}").type) for i, name in enumerate(batch.fields)]
        self._batch_no += 1
        view = f"__sqldetect_batch_{self._batch_no}"
        # A registered Arrow table stays referenced until the transaction ends, which would keep every batch of
        # the load in memory; a one-shot reader lets each batch go as soon as it is inserted.
        self.con.register(view, pa.RecordBatchReader.from_batches(batch.schema, iter(batch.batches)))
        try:
            select = self._select(batch.kind, core_refs, field_refs)
            targets = ", ".join(quote(column) for column, _ in select)
            expressions = ", ".join(expression for _, expression in select)
            self.con.execute(f"INSERT INTO {quote(self.table)} ({targets}) SELECT {expressions} FROM {view}")
        finally:
            self.con.unregister(view)
        self.next_serial += batch.rows
        self._rows += batch.rows
        return base

    def remove_duplicates(self, first_serial: int, segments: pa.Table) -> dict[int, int]:
        """Delete this load's rows whose identity key is already in the table or earlier in this load.

        ``segments`` maps serial ranges (``lo``, ``hi``, inclusive) to file numbers (``file``); returns the
        number of duplicates removed per file number. Done once per load: one hash pass instead of a join
        per batch.
        """
        key = quote(KEY_COLUMN)
        serial = quote(self.columns["_serial"].column)
        table = quote(self.table)
        self._batch_no += 1
        dups = f"__sqldetect_dups_{self._batch_no}"
        self.con.execute(
            f"CREATE TEMP TABLE {dups} AS "
            f"SELECT s FROM (SELECT {serial} AS s, row_number() OVER (PARTITION BY {key} ORDER BY {serial}) AS n "
            f"FROM {table} WHERE {serial} >= {first_serial}) WHERE n > 1 "
            f"UNION SELECT n.{serial} FROM {table} n WHERE n.{serial} >= {first_serial} AND EXISTS "
            f"(SELECT 1 FROM {table} o WHERE o.{serial} < {first_serial} AND o.{key} = n.{key})"
        )
        try:
            removed: dict[int, int] = {}
            if self.con.execute(f"SELECT count(*) FROM {dups}").fetchall()[0][0]:
                view = f"__sqldetect_segments_{self._batch_no}"
                self.con.register(view, segments)
                try:
                    for file_no, count in self.con.execute(
                        f"SELECT g.file, count(*) FROM {dups} d JOIN {view} g ON d.s BETWEEN g.lo AND g.hi "
                        "GROUP BY g.file"
                    ).fetchall():
                        removed[file_no] = count
                finally:
                    self.con.unregister(view)
                deleted = self.con.execute(f"DELETE FROM {table} WHERE {serial} IN (SELECT s FROM {dups})")
                self._rows -= deleted.fetchall()[0][0]
            return removed
        finally:
            self.con.execute(f"DROP TABLE {dups}")

    def _select(
        self, kind: str, core: dict[str, str], fields: list[tuple[str, str, pa.DataType]]
    ) -> list[tuple[str, str]]:
        serial = f"{self.next_serial} + ordinal"
        if kind == "windows":
            exprs = self._windows_core(core)
        else:
            exprs = self._generic_core(core)
        exprs.append(("_serial", serial, "BIGINT"))
        select: list[tuple[str, str]] = []
        self._ensure_columns([(f, t) for f, _, t in exprs] + [(f, _sql_type(t)) for f, _, t in fields])
        for field, expr, sql_type in exprs:
            column = self.columns[field]
            select.append((column.column, self._convert(expr, sql_type, column.sql_type)))
        select.append((KEY_COLUMN, core["key"]))
        for field, ref, arrow_type in fields:
            sql_type = _sql_type(arrow_type)
            column = self.columns[field]
            expr = ref
            if kind == "windows":  # Splunk keeps no empty values
                if sql_type == "VARCHAR[]":
                    kept = f"list_filter({ref}, lambda v: v <> '')"
                    expr = f"CASE WHEN len({kept}) = 0 THEN NULL ELSE {kept} END"
                else:
                    expr = f"nullif({ref}, '')"
            select.append((column.column, self._convert(expr, sql_type, column.sql_type)))
        return select

    @staticmethod
    def _convert(expr: str, have: str, want: str) -> str:
        if have == want:
            return expr
        if want == "VARCHAR[]":
            inner = expr if have == "VARCHAR" else f"CAST({expr} AS VARCHAR)"
            return f"CASE WHEN ({expr}) IS NULL THEN NULL ELSE [{inner}] END"
        return f"CAST({expr} AS {want})"

    def _windows_core(self, c: dict[str, str]) -> list[tuple[str, str, str]]:
        prefix = literal(self.sourcetype + ":")
        number = "TRY_CAST({} AS BIGINT)".format
        return [
            ("_time", f"TRY_CAST({c['system_time']} AS TIMESTAMP)", "TIMESTAMP"),
            ("_raw", c["raw"], "VARCHAR"),
            ("host", f"nullif({c['computer']}, '')", "VARCHAR"),
            ("source", f"{prefix} || coalesce({c['channel']}, '')", "VARCHAR"),
            ("sourcetype", literal(self.sourcetype), "VARCHAR"),
            ("index", literal(self.index), "VARCHAR"),
            ("EventCode", number(c["event_id"]), "BIGINT"),
            ("EventID", number(c["event_id"]), "BIGINT"),
            ("EventRecordID", number(c["record_id"]), "BIGINT"),
            ("RecordNumber", number(c["record_id"]), "BIGINT"),
            ("Channel", f"nullif({c['channel']}, '')", "VARCHAR"),
            ("Computer", f"nullif({c['computer']}, '')", "VARCHAR"),
            ("Provider", f"nullif({c['provider']}, '')", "VARCHAR"),
            ("SourceName", f"nullif({c['source_name']}, '')", "VARCHAR"),
            ("Level", number(c["level"]), "BIGINT"),
            ("Task", number(c["task"]), "BIGINT"),
            ("Opcode", number(c["opcode"]), "BIGINT"),
            ("Keywords", f"nullif({c['keywords']}, '')", "VARCHAR"),
            ("UserID", f"nullif({c['user_id']}, '')", "VARCHAR"),
            ("Version", number(c["version"]), "BIGINT"),
            ("ProcessID", number(c["process_id"]), "BIGINT"),
            ("ThreadID", number(c["thread_id"]), "BIGINT"),
            ("Qualifiers", number(c["qualifiers"]), "BIGINT"),
            ("ActivityID", f"nullif({c['activity_id']}, '')", "VARCHAR"),
            ("RelatedActivityID", f"nullif({c['related_activity_id']}, '')", "VARCHAR"),
            ("signature_id", number(c["event_id"]), "BIGINT"),
            ("Message", c["message"], "VARCHAR"),
            ("Data", c["data"], "VARCHAR[]"),
        ]

    def _generic_core(self, c: dict[str, str]) -> list[tuple[str, str, str]]:
        return [
            ("_time", c["time"], "TIMESTAMP"),
            ("_raw", c["raw"], "VARCHAR"),
            ("host", c["host"], "VARCHAR"),
            ("source", c["source"], "VARCHAR"),
            ("sourcetype", c["sourcetype"], "VARCHAR"),
            ("index", f"coalesce({c['index']}, {literal(self.index)})", "VARCHAR"),
        ]

    # ------------------------------------------------------------------------------------------- schema

    def record_schema(self) -> None:
        """Replace this table's rows in ``sqldetect_schema`` with the current field -> column mapping."""
        self.con.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (table_name VARCHAR, position INTEGER, field VARCHAR, "
            "column_name VARCHAR, kind VARCHAR)"
        )
        self.con.execute(f"DELETE FROM {SCHEMA_TABLE} WHERE table_name = ?", [self.table])
        columns = list(self.columns.values())
        rows = pa.table({
            "table_name": pa.array([self.table] * len(columns), pa.string()),
            "position": pa.array(range(len(columns)), pa.int32()),
            "field": pa.array([c.field for c in columns], pa.string()),
            "column_name": pa.array([c.column for c in columns], pa.string()),
            "kind": pa.array([_KINDS.get(c.sql_type, FieldKind.STRING).value for c in columns], pa.string()),
        })  # fmt: skip
        self._batch_no += 1
        view = f"__sqldetect_schema_{self._batch_no}"
        self.con.register(view, rows)
        try:
            self.con.execute(f"INSERT INTO {SCHEMA_TABLE} SELECT * FROM {view}")
        finally:
            self.con.unregister(view)
