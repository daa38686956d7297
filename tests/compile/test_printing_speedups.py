"""The translation speed-ups must not change what is printed nor leave the process in another state.

- ``compile.printer`` remembers how plain types and plain column references print: its text must be the
  dialect generator's own, the first time and from the memo, next to types and columns it does not remember.
- ``compile.gcpause`` turns the cyclic garbage collector off while a query is translated or printed: it must be
  back as it was afterwards (on or off), also when the translation fails.
"""

from __future__ import annotations

import gc

import pytest
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from sqldetect.compile import compile_spl
from sqldetect.compile.printer import printer
from sqldetect.compile.sql import alias, cast, col, try_cast
from sqldetect.errors import SqlDetectError


def _sample() -> exp.Select:
    """Plain and not-so-plain types and columns, each more than once (the second print comes from the memo)."""
    items = [
        alias(try_cast(col("a"), "DOUBLE"), "x"),
        alias(cast(col("b"), "TIMESTAMP"), "y"),
        alias(cast(col("c"), "VARCHAR[]"), "z"),
        alias(cast(col("d"), "DECIMAL(10, 2)"), "w"),
        alias(cast(col("e"), "TIMESTAMPTZ"), "v"),
        col("has \"quote\""),
        col("process_name", "dm"),
        exp.Column(this=exp.Identifier(this="Unquoted", quoted=False)),
        alias(try_cast(col("a"), "DOUBLE"), "x2"),
        col("has \"quote\""),
    ]
    return exp.select(*items, copy=False).from_(exp.Table(this=exp.Identifier(this="t", quoted=True)), copy=False)


@pytest.mark.parametrize("pretty", [True, False])
def test_printer_prints_what_the_dialect_prints(pretty: bool) -> None:
    expected = Dialect.get_or_raise("duckdb").generate(_sample(), pretty=pretty, identify=True)
    ours = printer("duckdb", pretty=pretty)
    first = ours.generate(_sample(), copy=False)
    again = printer("duckdb", pretty=pretty).generate(_sample(), copy=False)  # memo filled by now
    assert first == expected
    assert again == expected
    assert 'TRY_CAST("a" AS DOUBLE)' in expected and '"has ""quote"""' in expected


@pytest.mark.parametrize("enabled", [True, False])
def test_translation_leaves_the_collector_as_it_found_it(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        query = compile_spl("search EventCode=4688 | stats count by host")
        assert gc.isenabled() is enabled
        assert "GROUP BY" in query.sql()
        assert gc.isenabled() is enabled
        with pytest.raises(SqlDetectError):
            compile_spl("search x=1 | nosuchcommand y")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("spl", [
    "* | transaction host | table host _raw eventcount",
    "* | transaction host maxspan=5m | stats count by host",
    "* | stats values(x) AS x count BY host | sort - count | head 3",
])
def test_printing_twice_prints_the_same_query(spl: str) -> None:
    """Printing must not change the tree: the compact and the pretty text of one query are the same query
    (a printer that rewrote its GroupConcat node made the second printing of transaction rules invalid)."""
    import duckdb

    from sqldetect.schema import Schema

    con = duckdb.connect()
    con.execute("CREATE TABLE events (_time TIMESTAMP, _raw VARCHAR, host VARCHAR, x VARCHAR, _serial BIGINT)")
    con.execute("INSERT INTO events VALUES ('2024-01-01 00:00:01', 'a', 'h1', 'p', 1), "
                "('2024-01-01 00:00:02', 'b', 'h1', 'q', 2), ('2024-01-01 00:00:03', 'c', 'h2', 'p', 3)")
    query = compile_spl(spl, Schema.from_duckdb(con, "events"))
    pretty = query.sql()
    compact = query.sql(pretty=False)
    assert query.sql() == pretty
    assert con.execute(compact).fetchall() == con.execute(pretty).fetchall()
