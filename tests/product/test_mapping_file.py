"""The field-mapping file format: what loads, and the clear errors (file, field, line) for what does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqldetect.errors import FieldMappingError
from sqldetect.mapping import FieldMapping, load_mapping, parse_mapping, shipped_mappings
from sqldetect.schema import FieldKind

GOOD = """\
name: mine
description: a test mapping
fields:
  _time: '@timestamp'
  CommandLine: process.command_line
  EventCode: {column: winlog.event_id, kind: number}
  Tags: {column: tags, kind: multivalue}
  source: {sql: "'WinEventLog:' || \\"winlog.channel\\""}
  upper_user: lower("user.name")
  '*': winlog.event_data.*
"""


def test_a_mapping_file_loads_every_entry_form() -> None:
    mapping = parse_mapping(GOOD, "mine.yaml")
    assert (mapping.name, mapping.description, mapping.origin) == ("mine", "a test mapping", "mine.yaml")
    entries = {e.name: e for e in mapping.fields}
    assert [(e.source, e.form, e.kind, e.line) for e in mapping.fields] == [
        ("@timestamp", "name", None, 4),
        ("process.command_line", "name", None, 5),
        ("winlog.event_id", "name", FieldKind.NUMBER, 6),
        ("tags", "name", FieldKind.MULTIVALUE, 7),
        ("'WinEventLog:' || \"winlog.channel\"", "sql", None, 8),
        ('lower("user.name")', "sql", None, 9),  # not a name: read as SQL
        ("winlog.event_data.*", "wildcard", None, 10),
    ]
    assert entries["*"].form == "wildcard"


def test_without_a_table_a_mapping_becomes_derived_fields_as_written() -> None:
    derived = {f.name: f for f in parse_mapping(GOOD, "mine.yaml").derived_fields()}
    assert "*" not in derived  # wildcards need the table's columns
    assert derived["_time"].sql == '"@timestamp"' and derived["_time"].kind is FieldKind.TIME
    assert derived["CommandLine"].sql == "process.command_line"
    assert derived["EventCode"].kind is FieldKind.NUMBER
    assert all(f.origin == "mine.yaml" for f in derived.values())


def test_a_dict_is_the_fields_part_of_a_file() -> None:
    mapping = FieldMapping.coerce({"CommandLine": "process.command_line"})
    assert [(e.name, e.source, e.form) for e in mapping.fields] == [("CommandLine", "process.command_line", "name")]
    assert FieldMapping.coerce(mapping) is mapping


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fields: [a, b]", "`fields:` must map SPL field names"),
        ("- a\n- b", "a YAML mapping with a `fields:` key"),
        ("fields: {}", "`fields:` must map SPL field names"),
        ("table: x\nfields: {a: b}", "unknown key(s) table"),
        ("fields:\n  a: {column: b, sql: c}", "field 'a' (line 2): give exactly one of `column` or `sql`"),
        ("fields:\n  a: {}", "field 'a' (line 2): give exactly one of `column` or `sql`"),
        ("fields:\n  a: {column: b, type: number}", "field 'a' (line 2): unknown key(s) type"),
        ("fields:\n  a: {column: b, kind: integer}", "field 'a' (line 2): unknown kind 'integer'"),
        ("fields:\n  start: {column: b, kind: time}", "field 'start' (line 2): only _time is a time field"),
        ("fields:\n  a: 12", "field 'a' (line 2): the column or SQL must be a non-empty string"),
        ("fields:\n  a: {column: ''}", "field 'a' (line 2): the column or SQL must be a non-empty string"),
        ("fields:\n  a: {sql: '1 +'}", "field 'a' (line 2): not a SQL expression"),
        ("fields:\n  a: {sql: 'SELECT 1'}", "field 'a' (line 2): only a scalar SQL expression"),
        ("fields:\n  a: {sql: '(SELECT secret FROM other)'}", "field 'a' (line 2): only a scalar SQL expression"),
        ("fields:\n  a: b\n  x: c\n  a: d", "field 'a' (line 4) is mapped twice (first on line 2)"),
        ("fields:\n  'a*': 'b'", "field 'a*' (line 2): a wildcard entry maps `prefix*` to `column-prefix*`"),
        ("fields:\n  '*a': 'b*'", "a wildcard entry"),
        ("fields:\n  'a*': {sql: 'x*'}", "a wildcard entry"),
        ("fields:\n  \"a\\nb\": c", "not a usable field name"),
        ("fields: {a: b\n", "not valid YAML (line 2)"),
    ],
)
def test_a_bad_mapping_is_an_error_naming_the_file_and_the_field(text: str, message: str) -> None:
    with pytest.raises(FieldMappingError) as caught:
        parse_mapping(text, "bad.yaml")
    assert caught.value.location.file == "bad.yaml"
    assert message in caught.value.message
    assert str(caught.value).startswith("bad.yaml: ")


def test_mapping_files_load_from_a_path_or_by_shipped_name(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("fields: {CommandLine: process.command_line}\n", encoding="utf-8")
    assert load_mapping(path).origin == str(path)
    assert load_mapping("winlogbeat").name == "winlogbeat"
    with pytest.raises(FieldMappingError, match=r"no mapping file 'nope.yaml' \(shipped mappings: sqldetect, "
                                                r"winlogbeat\)"):
        load_mapping("nope.yaml")
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(FieldMappingError, match="cannot read the mapping"):
        load_mapping(path)


def test_the_shipped_mappings_are_valid_and_cover_the_core_fields() -> None:
    shipped = shipped_mappings()
    assert set(shipped) == {"sqldetect", "winlogbeat"}
    identity = load_mapping(shipped["sqldetect"])
    assert all(e.source == e.name for e in identity.fields)
    winlogbeat = {e.name: e for e in load_mapping("winlogbeat").fields}
    assert winlogbeat["_time"].source == "@timestamp"
    assert winlogbeat["EventCode"].source == "winlog.event_id" and winlogbeat["EventCode"].kind is FieldKind.NUMBER
    assert winlogbeat["host"].source == "host.name"
    assert winlogbeat["CommandLine"].source == "process.command_line"
    assert winlogbeat["*"].source == "winlog.event_data.*"
