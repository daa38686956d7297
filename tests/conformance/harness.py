"""Conformance harness: run one YAML case (SPL + input events + expected rows) through sqldetect.

A case file holds:
    spl: the SPL (already macro-free)
    events: input events, listed newest first for equal times (dicts; `_time` ISO-8601; lists = multivalue)
    schema: optional {field: string|number|time|multivalue} overriding the inferred kinds
    expected: the result rows, each holding only the fields that have values
    ordered: whether row order matters (default true)
    fields: optional list: compare only these fields
    error: instead of rows, the expected refusal: the error class name and a message fragment
    now: optional fixed "now" (default 2025-01-01T00:00:00Z)
    lookups: optional {file name: CSV text}: lookup files, written to a temporary lookup directory
    lookup_definitions: optional list of lookup definitions (the keys of ESCU's lookups.jsonl)
    doc: what behaviour the case pins (and the semantics doc rule or decision it comes from)
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

from sqldetect.compile import CompileOptions, compile_spl
from sqldetect.compile.lookups import LookupDefinition, LookupResolver
from sqldetect.results import normalize_row, text_of
from sqldetect.schema import Field, FieldKind, Schema

DEFAULT_NOW = datetime(2025, 1, 1, 0, 0, 0)


def load_case(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        case = yaml.safe_load(handle)
    case.setdefault("name", path.stem)
    return case


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def infer_schema(events: list[dict[str, Any]], overrides: dict[str, str] | None = None) -> Schema:
    kinds: dict[str, FieldKind] = {"_serial": FieldKind.NUMBER}
    for event in events:
        for name, value in event.items():
            if name == "_time":
                kinds[name] = FieldKind.TIME
                continue
            if isinstance(value, list):
                kind = FieldKind.MULTIVALUE
            elif isinstance(value, bool) or value is None:
                kind = FieldKind.STRING
            elif isinstance(value, (int, float)):
                kind = FieldKind.NUMBER
            else:
                kind = FieldKind.STRING
            previous = kinds.get(name)
            if previous is None or previous == kind:
                kinds[name] = kind
            elif FieldKind.MULTIVALUE in (previous, kind):
                kinds[name] = FieldKind.MULTIVALUE
            else:
                kinds[name] = FieldKind.STRING
    for name, kind in (overrides or {}).items():
        kinds[name] = FieldKind(kind)
    order = ["_time", "_raw", "_serial"]
    names = [n for n in order if n in kinds] + [n for n in kinds if n not in order]
    return Schema(Field(n, kinds[n]) for n in names)


_SQL_TYPES = {FieldKind.STRING: "VARCHAR", FieldKind.NUMBER: "DOUBLE", FieldKind.TIME: "TIMESTAMP",
              FieldKind.MULTIVALUE: "VARCHAR[]", FieldKind.BOOLEAN: "BOOLEAN"}


def _cell(kind: FieldKind, value: Any) -> Any:
    if value is None:
        return None
    if kind is FieldKind.TIME:
        return _parse_time(value)
    if kind is FieldKind.MULTIVALUE:
        items = value if isinstance(value, list) else [value]
        return [None if v is None else str(v) for v in items]
    if kind is FieldKind.NUMBER:
        return value if isinstance(value, int) and not isinstance(value, bool) else float(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _sql_type(field: Field, events: list[dict[str, Any]]) -> str:
    """Numbers that are all whole become BIGINT (as the event store types EventCode), others DOUBLE."""
    if field.kind is FieldKind.NUMBER:
        values = [e.get(field.name) for e in events if e.get(field.name) is not None]
        if field.name == "_serial" or all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return "BIGINT"
    return _SQL_TYPES[field.kind]


def build_events(con: duckdb.DuckDBPyConnection, events: list[dict[str, Any]], schema: Schema,
                 table: str = "events") -> None:
    columns = ", ".join(f'"{f.name}" {_sql_type(f, events)}' for f in schema)
    con.execute(f'CREATE TABLE "{table}" ({columns})')
    rows = []
    for index, event in enumerate(events):
        row = []
        for f in schema:
            if f.name == "_serial":
                row.append(len(events) - index)
            else:
                row.append(_cell(f.kind, event.get(f.name)))
        rows.append(row)
    if rows:
        marks = ", ".join("?" for _ in schema)
        con.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)


def run_case(case: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """Returns (rows, sql)."""
    with tempfile.TemporaryDirectory(prefix="sqld-lookups-") as lookup_dir:
        resolver = _lookups(case, Path(lookup_dir))
        return _run(case, resolver)


def _lookups(case: dict[str, Any], directory: Path) -> LookupResolver | None:
    files = case.get("lookups") or {}
    definitions = [LookupDefinition.from_record(r) for r in case.get("lookup_definitions") or []]
    if not files and not definitions:
        return None
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return LookupResolver([directory], definitions=definitions)


def _run(case: dict[str, Any], resolver: LookupResolver | None) -> tuple[list[dict[str, Any]], str]:
    events = case.get("events") or []
    schema = infer_schema(events, case.get("schema"))
    now = _parse_time(case["now"]) if "now" in case else DEFAULT_NOW
    compiled = compile_spl(case["spl"], schema, options=CompileOptions(now=now, lookups=resolver))
    sql = compiled.sql()
    con = duckdb.connect()
    try:
        build_events(con, events, schema)
        cursor = con.execute(sql)
        names = compiled.output_fields
        rows = [normalize_row(names, values) for values in cursor.fetchall()]
    finally:
        con.close()
    return rows, sql


def comparable(rows: list[dict[str, Any]], fields: list[str] | None) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        picked = {k: v for k, v in row.items() if fields is None or k in fields}
        out.append({k: text_of(v) for k, v in picked.items()})
    return out


def sort_key(row: dict[str, Any]) -> str:
    return repr(sorted(row.items()))
