"""Properties of the SQL the new commands produce: self-contained, one CTE per stage, notes once."""

from __future__ import annotations

import re

import duckdb

from sqldetect.compile import compile_spl
from sqldetect.schema import Field, FieldKind, Schema

SCHEMA = Schema([Field("_time", FieldKind.TIME), Field("_raw"), Field("_serial", FieldKind.NUMBER),
                 Field("user"), Field("src"), Field("n", FieldKind.NUMBER)])


def _run(sql: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute('CREATE TABLE events ("_time" TIMESTAMP, "_raw" VARCHAR, "_serial" DOUBLE, "user" VARCHAR, '
                '"src" VARCHAR, "n" DOUBLE)')
    con.execute("INSERT INTO events VALUES ('2024-01-01 00:00:02', 'x', 2, 'amy', '10.0.0.1', 1), "
                "('2024-01-01 00:00:01', 'y', 1, 'bob', '10.0.0.2', 2)")
    return con.execute(sql).fetchall()


def test_subsearch_ctes_come_before_their_stage_and_are_commented() -> None:
    sql = compile_spl("user=* [search n>1 | fields user] | join user [search * | stats count by user] "
                      "| append [| makeresults count=2] | table user count", SCHEMA).sql()
    names = re.findall(r'^"(\w+)" AS \(', sql, flags=re.M)
    assert names.index("s1_search_sub1_2_fields") < names.index("s1_search")
    assert names.index("s2_join_sub1_2_stats") < names.index("s2_join")
    assert names.index("s3_append_sub1_1_makeresults") < names.index("s3_append")
    assert sql.count("-- ") == len(names)
    assert _run(sql) == [("bob", 1), (None, None), (None, None)]


def test_iplocation_note_once() -> None:
    query = compile_spl("* | iplocation src | iplocation prefix=x_ src | table City", SCHEMA)
    assert len(query.notes) == 1 and "GeoIP" in query.notes[0]


def test_generated_sql_needs_no_extension() -> None:
    spl = ('* | spath input=_raw output=a path=x.y | xmlkv | convert ctime(n) | makemv delim="," src '
           '| mvexpand src | top user | table user count percent')
    sql = compile_spl(spl, SCHEMA).sql()
    con = duckdb.connect(config={"autoload_known_extensions": False, "autoinstall_known_extensions": False})
    con.execute('CREATE TABLE events ("_time" TIMESTAMP, "_raw" VARCHAR, "_serial" DOUBLE, "user" VARCHAR, '
                '"src" VARCHAR, "n" DOUBLE)')
    assert con.execute(sql).fetchall() == []
