"""The Python API a notebook uses: ``sqldetect.translate``, ``sqldetect.Engine`` (``load``, ``run``, ``run_spl``),
``load_rules``; results are plain Python values, errors are project exceptions."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import sqldetect
from sqldetect.errors import EventInputError, QueryError, SplSyntaxError
from sqldetect.rules import Rule
from sqldetect.schema import Schema

from .tables import EVTX, ROOT, SEED


def test_translate_returns_one_runnable_query() -> None:
    sql = sqldetect.translate("EventCode=4688 | stats count by host")
    assert isinstance(sql, str) and sql.startswith("WITH\n-- EventCode=4688\n")
    schema = Schema.from_mapping({"_time": "time", "host": "string", "EventCode": "number"})
    con = duckdb.connect()
    con.execute("CREATE TABLE events AS SELECT TIMESTAMP '2024-01-01' AS _time, 'h1' AS host, 4688 AS EventCode")
    assert con.execute(sqldetect.translate("EventCode=4688 | stats count by host", schema=schema)).fetchall() == [
        ("h1", 1)]
    with pytest.raises(SplSyntaxError):
        sqldetect.translate('EventCode=4688 | eval x="open')


def test_an_engine_loads_runs_and_reports(tmp_path: Path) -> None:
    with sqldetect.Engine(tmp_path / "events.duckdb") as engine:
        load = engine.load(EVTX, raw_format="classic")
        assert load.skipped == 0 and engine.count() == 104
        report = engine.run(sqldetect.load_rules(SEED))
        (outcome,) = report.outcomes
        assert (outcome.rule.id, outcome.status, outcome.hits) == ("1117.1196", "ok", 6)
        assert outcome.fields == ["_time", "host", "user", "signature_id", "process", "c_process"]
        assert outcome.sql.startswith("WITH") and outcome.elapsed > 0
        assert report.events_scanned == 104 and report.total_hits == 6 and report.ran == [outcome]
        result = engine.run_spl("EventCode=4625 | stats count by IpAddress")
        assert result.fields == ["IpAddress", "count"] and result.rows == [
            {"IpAddress": "192.0.2.44", "count": 6}, {"IpAddress": "203.0.113.77", "count": 12}]
    reopened = sqldetect.Engine(tmp_path / "events.duckdb", read_only=True)
    assert reopened.count() == 104  # the events stay in the file
    reopened.close()


def test_a_run_keeps_going_past_refused_and_failing_rules() -> None:
    engine = sqldetect.Engine()
    engine.load([ROOT / "fixtures" / "security.evtx"])
    report = engine.run([
        Rule(id="ok", title="ok", logic="EventCode=4625 | stats count"),
        Rule(id="refused", title="refused", logic="* | nosuchcommand"),
        Rule(id="fails", title="fails", logic="* | where match(_raw, \"(\")"),
        Rule(id="after", title="after", logic="EventCode=4624 | stats count"),
    ])
    assert [(o.rule.id, o.status) for o in report.outcomes] == [
        ("ok", "ok"), ("refused", "refused"), ("fails", "error"), ("after", "ok")]
    assert report.outcomes[1].error.construct == "nosuchcommand"
    assert isinstance(report.outcomes[2].error, QueryError) and report.outcomes[2].error.location.rule_id == "fails"
    assert report.outcomes[0].rows == [{"count": 18}] and report.total_hits == 2
    with pytest.raises(QueryError, match="the translated SQL failed"):
        engine.run_spl("* | where match(_raw, \"(\")")


def test_results_are_plain_python_values() -> None:
    engine = sqldetect.Engine(now="2024-05-09T00:00:00")
    engine.load([ROOT / "fixtures" / "sysmon.evtx"])
    row = engine.run_spl('EventCode=1 | head 1 | eval many=split("a,b", ","), one=mvappend("x"), n=1.5 '
                         "| table _time many one n").rows[0]
    assert row["_time"].endswith("Z") and row["many"] == ["a", "b"] and row["one"] == "x" and row["n"] == 1.5


def test_engine_errors_are_project_errors(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-db"
    folder.mkdir()
    with pytest.raises(EventInputError, match="cannot open database"):
        sqldetect.Engine(folder)
    engine = sqldetect.Engine()
    assert engine.count() == 0 and engine.run([]).outcomes == []
    assert "EventCode" in engine.schema()  # before any load: the Windows event schema


def test_an_engine_on_a_callers_connection_leaves_it_open() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE events AS SELECT TIMESTAMP '2024-01-01' AS _time, 'x y' AS _raw")
    with sqldetect.Engine(con) as engine:
        assert engine.run_spl("x | stats count").rows == [{"count": 1}]
    assert con.execute("SELECT 1").fetchall() == [(1,)]
