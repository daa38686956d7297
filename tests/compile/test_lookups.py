"""Lookup resolution: definitions (ESCU's lookups.jsonl shape), files, refusals, and the CSV reading in SQL."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pytest

from sqldetect.compile import CompileOptions, compile_spl
from sqldetect.compile.lookups import LookupDefinition, LookupResolver, load_definitions
from sqldetect.errors import LookupError_, UnsupportedError
from sqldetect.schema import Field, FieldKind, Schema


def test_definition_record_reads_match_types_and_flags() -> None:
    definition = LookupDefinition.from_record({
        "name": "x", "filename": "x.csv", "match_type": "WILDCARD(a), CIDR(net),WILDCARD(b)",
        "case_sensitive_match": "false", "min_matches": "1", "default_match": "false", "max_matches": 3})
    assert definition.match_types == {"a": "WILDCARD", "net": "CIDR", "b": "WILDCARD"}
    assert definition.case_sensitive is False
    assert (definition.min_matches, definition.default_match, definition.max_matches) == (1, "false", 3)


def test_definition_defaults_are_splunks() -> None:
    definition = LookupDefinition.from_record({"name": "x"})
    assert definition.case_sensitive is True
    assert (definition.min_matches, definition.default_match, definition.max_matches) == (0, None, 100)
    assert definition.match_types == {}


def test_bad_definition_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "defs.jsonl"
    path.write_text('{"name": "ok"}\n{oops\n', encoding="utf-8")
    with pytest.raises(LookupError_, match=r"defs.jsonl, line 2"):
        load_definitions(path)
    path.write_text('{"name": "x", "match_type": "FUZZY(a)"}\n', encoding="utf-8")
    with pytest.raises(LookupError_, match=r"record 1: lookup x: cannot read match_type"):
        load_definitions(path)


def test_resolution_by_definition_file_name_and_stem(tmp_path: Path) -> None:
    (tmp_path / "tools.csv").write_text(" name , risk\nx,1\n", encoding="utf-8")
    (tmp_path / "other.csv").write_text("a\n1\n", encoding="utf-8")
    resolver = LookupResolver([tmp_path], definitions=[LookupDefinition(name="risky", filename="tools.csv")])
    by_definition = resolver.resolve("risky")
    assert by_definition.path == (tmp_path / "tools.csv").resolve()
    assert by_definition.columns == ("name", "risk")  # header names trimmed
    assert resolver.resolve("other.csv").columns == ("a",)
    assert resolver.resolve("other").path.name == "other.csv"  # a name without definition: <name>.csv


def test_unknown_kvstore_and_escaping_names_are_errors(tmp_path: Path) -> None:
    resolver = LookupResolver([tmp_path], definitions=[LookupDefinition(name="ids", kind="kvstore")])
    with pytest.raises(LookupError_, match="unknown lookup 'nope'"):
        resolver.resolve("nope")
    with pytest.raises(UnsupportedError, match="is a kvstore lookup") as refused:
        resolver.resolve("ids")
    assert refused.value.construct == "kvstore lookup"
    (tmp_path.parent / "secret.csv").write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(LookupError_):
        resolver.resolve("../secret.csv")


def test_repeated_header_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "dup.csv").write_text("a,b,a\n1,2,3\n", encoding="utf-8")
    with pytest.raises(LookupError_, match="repeated column"):
        LookupResolver([tmp_path]).resolve("dup.csv")


def test_query_lists_the_files_it_reads_and_reads_them_in_sql(tmp_path: Path) -> None:
    (tmp_path / "u.csv").write_text("user,dept\namy,it\n", encoding="utf-8")
    schema = Schema([Field("_time", FieldKind.TIME), Field("user")])
    query = compile_spl("* | lookup u.csv user OUTPUT dept", schema,
                        options=CompileOptions(lookups=LookupResolver([tmp_path])))
    path = str((tmp_path / "u.csv").resolve())
    assert query.files == [path]
    sql = query.sql()
    assert re.search(r"read_csv\(\s*'" + re.escape(path) + "'", sql, flags=re.IGNORECASE)
    con = duckdb.connect()
    con.execute('CREATE TABLE events ("_time" TIMESTAMP, "user" VARCHAR)')
    con.execute("INSERT INTO events VALUES ('2024-01-01 00:00:00', 'amy'), ('2024-01-01 00:00:01', 'bob')")
    rows = con.execute(sql).fetchall()
    assert sorted((r[1], r[2]) for r in rows) == [("amy", ["it"]), ("bob", None)]


def _corpus_resolver(shared_dir: Path) -> tuple[LookupResolver, list[dict]]:
    corpus = shared_dir / "corpus" / "escu"
    records = [json.loads(line) for line in (corpus / "lookups.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    return LookupResolver.from_directory(corpus / "lookups"), records


def test_every_escu_csv_lookup_reads_like_pythons_csv(shared_dir: Path) -> None:
    """Each ESCU CSV definition whose file is shipped resolves, and ``| inputlookup`` gives its rows."""
    resolver, records = _corpus_resolver(shared_dir)
    checked = 0
    for record in records:
        if record.get("kind") != "csv" or not (resolver.directories[0] / record["filename"]).is_file():
            continue
        path = resolver.directories[0] / record["filename"]
        with path.open(newline="", encoding="utf-8-sig") as handle:
            expected = [row for row in csv.reader(handle)][1:]
        query = compile_spl(f"| inputlookup {record['name']} | stats count", None,
                            options=CompileOptions(lookups=resolver))
        (count,) = duckdb.connect().execute(query.sql()).fetchone()
        assert count == len([row for row in expected if row]), record["name"]
        checked += 1
    assert checked >= 20


def test_escu_kvstore_lookups_are_refused_by_name(shared_dir: Path) -> None:
    resolver, records = _corpus_resolver(shared_dir)
    kvstore = [r["name"] for r in records if r.get("kind") == "kvstore"]
    assert kvstore
    for name in kvstore:
        with pytest.raises(UnsupportedError, match=f"lookup '{name}' is a kvstore lookup"):
            resolver.resolve(name)
