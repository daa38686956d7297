"""Warehouse field mappings: run rules written for Splunk's Windows field names over a table whose columns are
named otherwise (Winlogbeat/ECS ``process.command_line``, ``winlog.event_id``, ``@timestamp``...), so the rules
stay unchanged.

A mapping file is YAML::

    name: winlogbeat                       # optional
    description: Winlogbeat 8 / ECS        # optional
    fields:                                # SPL field name: where its value comes from
      host: host.name                      # a name: the column of that name, else a STRUCT member path
      _time: '@timestamp'
      EventCode: {column: winlog.event_id, kind: number}
      source: {sql: "'WinEventLog:' || \\"winlog.channel\\""}

A value is either a *name* (letters, digits, ``_ @ . -``), meaning the column of exactly that name when the table
has one (``"process.command_line"``, dots and all) and otherwise the member path of a STRUCT column
(``process`` → ``command_line``); or ``{column: NAME}`` (the same, for any column name, with a ``kind``); or
``{sql: EXPR}`` (a scalar SQL expression over the table's columns: trusted operator configuration, validated to
be one expression, and with an optional ``kind`` (``string``, ``number``, ``multivalue``; ``_time`` is always ``time``)). A wildcard entry
``"*": winlog.event_data.*`` maps every column (or STRUCT member) under a prefix to the rest of its name, so
each EventData field Winlogbeat stores as ``winlog.event_data.Image`` reads as ``Image``; explicit entries win.

Applied to a real table (``FieldMapping.resolve``), every entry is checked against the table: its SQL type is
asked from DuckDB (``DESCRIBE``), and the value is converted to what the translator expects of its kind (``_time``
a UTC ``TIMESTAMP`` whatever the column holds: ``TIMESTAMPTZ``, ISO text, epoch seconds; a number a number...).
A *name* the table lacks makes the field absent, with a warning (a shipped mapping names columns not every
table has); a bad ``sql`` is an error naming the file and the field. The resolved entries become derived fields
(``sqldetect.compile.derived``), which the translator adds in the ``s0_source`` CTE.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import yaml
from sqlglot import exp

from sqldetect.compile.derived import DerivedField, DerivedFieldError
from sqldetect.compile.sql import alias, anon, case, cast, col, epoch, from_epoch, ident, lit, try_cast
from sqldetect.errors import FieldMappingError, Location, first_line
from sqldetect.schema import Field, FieldKind, Schema

__all__ = ["FieldMapping", "MappedField", "ResolvedMapping", "load_mapping", "parse_mapping", "shipped_mappings"]

#: a value of this shape names a column (or a STRUCT member path); anything else is SQL
_NAME = re.compile(r"^[A-Za-z_@][\w@.\-]*$")
_TOP_KEYS = {"name", "description", "fields"}
_ENTRY_KEYS = {"column", "sql", "kind"}
_KINDS = {"string": FieldKind.STRING, "number": FieldKind.NUMBER, "multivalue": FieldKind.MULTIVALUE,
          "time": FieldKind.TIME}


@dataclass(frozen=True)
class MappedField:
    """One entry: SPL field ``name`` ← ``source`` read as ``form`` (``name``: the column of that name, else a
    STRUCT member path; ``sql``: an expression; ``wildcard``: ``prefix*`` ← ``column-prefix*``), with an
    optional ``kind``."""

    name: str
    source: str
    form: str
    kind: FieldKind | None = None
    line: int | None = None

    def where(self) -> str:
        return f"field '{self.name}'" + (f" (line {self.line})" if self.line else "")


@dataclass
class ResolvedMapping:
    """A mapping applied to one table: the derived fields to add, the kind of every mapped field present, and
    why each absent one is absent."""

    fields: list[DerivedField] = field(default_factory=list)
    kinds: dict[str, FieldKind] = field(default_factory=dict)
    absent: dict[str, str] = field(default_factory=dict)

    def warnings(self, origin: str) -> list[str]:
        return [f"{origin}: field '{name}' is absent: {why}" for name, why in self.absent.items()]


@dataclass(frozen=True)
class FieldMapping:
    """A loaded mapping file (``origin`` is where it came from, for messages)."""

    fields: tuple[MappedField, ...]
    name: str = ""
    description: str = ""
    origin: str = "<mapping>"

    @classmethod
    def coerce(cls, value: FieldMapping | Mapping[str, Any] | str | os.PathLike[str]) -> FieldMapping:
        """A mapping from what a caller has at hand: a ``FieldMapping``, a ``{field: column-or-sql}`` dict (the
        ``fields`` part of a file), or a file path / shipped mapping name."""
        if isinstance(value, FieldMapping):
            return value
        if isinstance(value, Mapping):
            return _from_data({"fields": dict(value)}, "<dict>", {})
        return load_mapping(value)

    def error(self, entry: MappedField | None, message: str) -> FieldMappingError:
        text = f"{entry.where()}: {message}" if entry is not None else message
        return FieldMappingError(text, Location(file=self.origin))

    # ------------------------------------------------------------------------------------------------
    def derived_fields(self) -> list[DerivedField]:
        """The entries as derived fields without looking at a table (``sqldetect sql`` without ``--db``): a name
        stays a column reference, kinds are the declared ones (or the column's, when the schema knows it)."""
        out: list[DerivedField] = []
        for entry in self.fields:
            if entry.form == "wildcard":
                continue  # expanded only against a table's columns (``resolve``)
            kind = FieldKind.TIME if entry.name == "_time" else entry.kind
            if entry.form == "sql":
                text = entry.source
            elif "." not in entry.source:
                text = col(entry.source).sql(dialect="duckdb")
            else:
                text = entry.source  # a column of that name when the schema has one, else a member path
            out.append(DerivedField(entry.name, sql=text, kind=kind, origin=self.origin))
        return out

    def schema(self, table_schema: Schema, resolved: ResolvedMapping | None = None) -> Schema:
        """The fields a rule sees: the table's, then each mapped field (replacing a column of the same name)."""
        fields = {f.name: f for f in table_schema}
        if resolved is not None:
            kinds = resolved.kinds
        else:
            kinds = {e.name: (FieldKind.TIME if e.name == "_time" else e.kind or FieldKind.STRING)
                     for e in self.fields}
        for name, kind in kinds.items():
            if "*" not in name:
                fields[name] = Field(name, kind)
        return Schema(fields.values())

    def resolve(self, con: duckdb.DuckDBPyConnection, table: str) -> ResolvedMapping:
        """Check every entry against ``table`` and convert it to its kind (see the module docstring)."""
        columns = dict(con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = current_schema() ORDER BY ordinal_position", [table]).fetchall())
        if not columns:
            raise FieldMappingError(f"table '{table}' does not exist (or has no columns)", Location(file=self.origin))
        folded = {name.lower(): name for name in columns}
        result = ResolvedMapping()
        for entry in self.fields:  # explicit entries first: they win over any wildcard's field
            if entry.form != "wildcard":
                self._resolve_entry(con, table, entry, columns, folded, result)
        for entry in self.fields:
            if entry.form == "wildcard":
                for expanded in self._expand(con, table, entry, columns, folded):
                    if expanded.name not in result.kinds:
                        self._resolve_entry(con, table, expanded, columns, folded, result)
        return result

    # ------------------------------------------------------------------------------------------------
    def _resolve_entry(self, con: duckdb.DuckDBPyConnection, table: str, entry: MappedField,
                       columns: dict[str, str], folded: dict[str, str], result: ResolvedMapping) -> None:
        value, why = self._source_expression(entry, columns, folded)
        if value is None:
            result.absent.setdefault(entry.name, why)
            return
        try:
            sql_type = _describe(con, table, value)
        except duckdb.Error as err:
            if entry.form == "sql":
                raise self.error(entry, f"the SQL does not fit table '{table}': {first_line(err)}") from None
            result.absent.setdefault(entry.name, f"{entry.source}: {first_line(err)}")
            return
        converted, kind = self._conform(entry, value, sql_type)
        result.kinds[entry.name] = kind
        result.absent.pop(entry.name, None)
        identity = converted is value and isinstance(value, exp.Column) and value.name == entry.name \
            and not value.table
        if not identity:
            result.fields.append(DerivedField(entry.name, sql=converted.sql(dialect="duckdb"), kind=kind,
                                              origin=self.origin))

    def _expand(self, con: duckdb.DuckDBPyConnection, table: str, entry: MappedField, columns: dict[str, str],
                folded: dict[str, str]) -> list[MappedField]:
        """A wildcard entry as one entry per column (``winlog.event_data.Image``) or STRUCT member (``winlog`` →
        ``event_data`` → ``Image``) under its prefix."""
        name_prefix, source_prefix = entry.name[:-1], entry.source[:-1]
        sources = [c for c in columns if c.startswith(source_prefix) and len(c) > len(source_prefix)]
        path = source_prefix.rstrip(".")
        if source_prefix.endswith(".") and path:
            sources += [f"{path}.{m}" for m in _struct_members(con, table, path, columns, folded)]
        return [MappedField(name_prefix + source[len(source_prefix):], source, "name", entry.kind, entry.line)
                for source in sources]

    def _source_expression(self, entry: MappedField, columns: dict[str, str],
                           folded: dict[str, str]) -> tuple[exp.Expression | None, str]:
        """The entry's value as SQL over the table, or None and why the table lacks it."""
        if entry.form == "sql":
            return self._parsed_sql(entry), ""
        actual = entry.source if entry.source in columns else folded.get(entry.source.lower())
        if actual is not None:
            return col(actual), ""
        if "." not in entry.source:
            return None, f"no column '{entry.source}'"
        root, *members = entry.source.split(".")
        actual = root if root in columns else folded.get(root.lower())
        if actual is None or not columns[actual].upper().startswith("STRUCT") or not all(members):
            return None, f"no column '{entry.source}' and no STRUCT column '{root}'"
        return _member_path(actual, members), ""

    def _parsed_sql(self, entry: MappedField) -> exp.Expression:
        try:
            return DerivedField(entry.name, sql=entry.source).sql_expression()
        except DerivedFieldError as err:
            raise self.error(entry, err.message.split(": ", 1)[-1]) from None

    def _conform(self, entry: MappedField, value: exp.Expression, sql_type: str) -> tuple[exp.Expression, FieldKind]:
        """``value`` converted to the kind the field is declared (or inferred) to have."""
        natural = _natural_kind(sql_type)
        if natural is None:
            raise self.error(entry, f"'{entry.source}' is a {sql_type}; map one of its members instead")
        kind = FieldKind.TIME if entry.name == "_time" else entry.kind or natural
        if kind is FieldKind.TIME and natural is FieldKind.TIME and entry.name != "_time":
            kind = FieldKind.NUMBER  # only _time holds a timestamp; other times are epoch seconds
        converted = _CONVERTERS[kind](value, sql_type.upper())
        if converted is None:
            raise self.error(entry, f"a {sql_type} value cannot be a {kind.value} field")
        return converted, kind


def _struct_members(con: duckdb.DuckDBPyConnection, table: str, path: str, columns: dict[str, str],
                    folded: dict[str, str]) -> list[str]:
    """The member names of the STRUCT at ``path`` (``winlog.event_data``), or none when it is not one."""
    root, *members = path.split(".")
    actual = root if root in columns else folded.get(root.lower())
    if actual is None or not columns[actual].upper().startswith("STRUCT") or not all(members):
        return []
    value = _member_path(actual, members)
    query = exp.select(anon("unnest", value)).from_(exp.Table(this=ident(table)), copy=False)
    try:
        if not _describe(con, table, value).upper().startswith("STRUCT"):
            return []
        return [str(row[0]) for row in con.execute("DESCRIBE " + query.sql(dialect="duckdb")).fetchall()]
    except duckdb.Error:
        return []  # not a STRUCT (unnest of a list or scalar) or no such member


def _member_path(column: str, members: list[str]) -> exp.Expression:
    """``struct_extract(struct_extract("winlog", 'event_data'), 'CommandLine')``: a member path of any depth."""
    out: exp.Expression = col(column)
    for member in members:
        out = anon("struct_extract", out, lit(member))
    return out


def _describe(con: duckdb.DuckDBPyConnection, table: str, value: exp.Expression) -> str:
    query = exp.select(alias(value.copy(), "v")).from_(exp.Table(this=ident(table)), copy=False)
    rows = con.execute("DESCRIBE " + query.sql(dialect="duckdb")).fetchall()
    return str(rows[0][1])


_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DOUBLE", "FLOAT", "REAL")
_NUMERIC = ("HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "DECIMAL", "NUMERIC")


def _natural_kind(sql_type: str) -> FieldKind | None:
    t = sql_type.upper()
    if t.endswith("[]") or t.startswith("LIST"):
        return FieldKind.MULTIVALUE
    if t.startswith(("STRUCT", "MAP", "UNION")):
        return None
    if t.startswith("TIMESTAMP") or t == "DATE":
        return FieldKind.TIME
    if t in _INTEGERS or t.startswith(_NUMERIC):
        return FieldKind.NUMBER
    return FieldKind.STRING


def _to_time(value: exp.Expression, t: str) -> exp.Expression | None:
    if t == "TIMESTAMP":
        return value
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return anon("timezone", lit("UTC"), value)
    if t.startswith("TIMESTAMP") or t == "DATE":
        return cast(value, "TIMESTAMP")
    if _natural_kind(t) is FieldKind.NUMBER:
        return from_epoch(value)
    if t == "VARCHAR":
        # ISO text with an offset is converted to UTC; without one it is taken as UTC (never the session zone)
        with_offset = anon("regexp_matches", value.copy(), lit(r"(?i)(z|[+-]\d\d(:?\d\d)?)$"))
        in_utc = anon("timezone", lit("UTC"), try_cast(value.copy(), "TIMESTAMPTZ"))
        return case([(with_offset, in_utc)], try_cast(value.copy(), "TIMESTAMP"))
    return None


def _to_number(value: exp.Expression, t: str) -> exp.Expression | None:
    if t in _INTEGERS:
        return value
    if t.startswith(_NUMERIC):
        return cast(value, "DOUBLE")
    if t.startswith("TIMESTAMP") or t == "DATE":
        return epoch(value)
    if t == "BOOLEAN":
        return cast(value, "INTEGER")
    if t == "VARCHAR":
        return try_cast(value, "DOUBLE")
    return None


def _to_string(value: exp.Expression, t: str) -> exp.Expression | None:
    if t == "VARCHAR":
        return value
    if _natural_kind(t) is FieldKind.MULTIVALUE:
        return None
    return cast(value, "VARCHAR")


def _to_multivalue(value: exp.Expression, t: str) -> exp.Expression | None:
    if t == "VARCHAR[]":
        return value
    if _natural_kind(t) is FieldKind.MULTIVALUE:
        return cast(value, "VARCHAR[]")
    single = exp.Array(expressions=[value.copy() if t == "VARCHAR" else cast(value.copy(), "VARCHAR")])
    return case([(exp.Is(this=value.copy(), expression=exp.Null()), exp.Null())], single)


_CONVERTERS = {FieldKind.TIME: _to_time, FieldKind.NUMBER: _to_number, FieldKind.STRING: _to_string,
               FieldKind.MULTIVALUE: _to_multivalue}


# ---------------------------------------------------------------------------------------------------- loading


def shipped_mappings() -> dict[str, Path]:
    """The mappings shipped in ``sqldetect/data/mappings`` by name (file stem)."""
    folder = resources.files("sqldetect") / "data" / "mappings"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith((".yaml", ".yml"))}


def load_mapping(path_or_name: str | os.PathLike[str]) -> FieldMapping:
    """Load a mapping file, or a shipped mapping by name (``winlogbeat``, ``sqldetect``)."""
    path = Path(path_or_name)
    if not path.is_file():
        shipped = shipped_mappings()
        if str(path_or_name) in shipped:
            path = shipped[str(path_or_name)]
        else:
            raise FieldMappingError(f"no mapping file '{path_or_name}' (shipped mappings: "
                                    f"{', '.join(sorted(shipped))})", Location(file=str(path_or_name)))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise FieldMappingError(f"cannot read the mapping: {err}", Location(file=str(path))) from None
    return parse_mapping(text, str(path))


def parse_mapping(text: str, origin: str = "<mapping>") -> FieldMapping:
    """Parse mapping YAML; every problem is a ``FieldMappingError`` naming ``origin``, the field and its line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise FieldMappingError(f"not valid YAML{where}: {getattr(err, 'problem', None) or err}",
                                Location(file=origin)) from None
    return _from_data(data, origin, _field_lines(node, origin))


def _field_lines(node: yaml.Node | None, origin: str) -> dict[str, int]:
    """Line of each field under ``fields:`` (and an error for a field named twice, which YAML would hide)."""
    lines: dict[str, int] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        if key.value != "fields" or not isinstance(value, yaml.MappingNode):
            continue
        for field_key, _ in value.value:
            line = field_key.start_mark.line + 1
            if field_key.value in lines:
                raise FieldMappingError(f"field '{field_key.value}' (line {line}) is mapped twice (first on line "
                                        f"{lines[field_key.value]})", Location(file=origin))
            lines[field_key.value] = line
    return lines


def _from_data(data: Any, origin: str, lines: dict[str, int]) -> FieldMapping:
    def fail(message: str) -> FieldMappingError:
        return FieldMappingError(message, Location(file=origin))

    if not isinstance(data, dict):
        raise fail("a mapping file is a YAML mapping with a `fields:` key")
    unknown = sorted(str(k) for k in data if k not in _TOP_KEYS)
    if unknown:
        raise fail(f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_TOP_KEYS))})")
    fields = data.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise fail("`fields:` must map SPL field names to columns or SQL expressions")
    entries = [_entry(str(name), value, lines.get(str(name)), fail) for name, value in fields.items()]
    mapping = FieldMapping(tuple(entries), str(data.get("name") or ""), str(data.get("description") or ""), origin)
    for entry in entries:
        if entry.form == "sql":
            mapping._parsed_sql(entry)  # a bad expression is reported now, not when a rule runs
    return mapping


def _entry(name: str, value: Any, line: int | None, fail) -> MappedField:
    where = f"field '{name}'" + (f" (line {line})" if line else "")
    if not name.strip() or any(ch in name for ch in "\r\n\0"):
        raise fail(f"{where}: not a usable field name")
    kind = None
    if isinstance(value, dict):
        unknown = sorted(str(k) for k in value if k not in _ENTRY_KEYS)
        if unknown:
            raise fail(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: column, sql, kind)")
        if ("column" in value) == ("sql" in value):
            raise fail(f"{where}: give exactly one of `column` or `sql`")
        form = "name" if "column" in value else "sql"  # a column: by name or STRUCT member path
        source = value["column" if form == "name" else "sql"]
        if "kind" in value:
            kind = _KINDS.get(str(value["kind"]).lower())
            if kind is None:
                raise fail(f"{where}: unknown kind {value['kind']!r} (string, number, multivalue; _time is time)")
            if kind is FieldKind.TIME and name != "_time":
                raise fail(f"{where}: only _time is a time field (other times are epoch seconds: kind number)")
    else:
        source = value
        form = "name"
    if not isinstance(source, str) or not source.strip():
        raise fail(f"{where}: the column or SQL must be a non-empty string")
    source = source.strip()
    if "*" in name:
        if form == "sql" or name.count("*") != 1 or not name.endswith("*") or source.count("*") != 1 \
                or not source.endswith("*") or not _NAME.match(source[:-1] or "x"):
            raise fail(f"{where}: a wildcard entry maps `prefix*` to `column-prefix*` (one `*`, at the end of both)")
        return MappedField(name, source, "wildcard", kind, line)
    if form == "name" and not _NAME.match(source):
        form = "sql"  # `lower("user.name")`: an expression written as a plain value
    return MappedField(name, source, form, kind, line)
