"""Warehouse integration: ``install`` leaves views any plain DuckDB client can query, and ``run --save`` keeps
hits in a ``detections`` table without duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from sqldetect.cli import main
from sqldetect.engine import Engine
from sqldetect.rules import Rule
from sqldetect.warehouse import install_views, save_hits, view_name

from .tables import ROOT, SEED, create_flat_ecs_table, load_native

SEED_VIEW = "detect_1117_1196"


def _cli(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A DuckDB file holding the EVTX fixtures as ``events`` and as a Winlogbeat-shaped ``winlogbeat`` table."""
    path = tmp_path / "warehouse.duckdb"
    engine = load_native(duckdb.connect(str(path)))
    create_flat_ecs_table(engine)
    engine.con.close()
    return path


def _seed_hits(rows: list[tuple]) -> list[tuple[str, str]]:
    return sorted((str(r[0]), r[1]) for r in rows)


def test_install_creates_views_a_plain_duckdb_connection_can_query(warehouse: Path) -> None:
    result = _cli("install", SEED, "--db", warehouse)
    assert result.exit_code == 0, result.output
    assert f"{SEED_VIEW}  MSIExec Install MSI File" in result.stdout
    assert "installed 1/1 view(s)" in result.stderr
    con = duckdb.connect(str(warehouse))  # no sqldetect involved from here on
    rows = con.execute(f'SELECT _time, host, process FROM {SEED_VIEW} ORDER BY _time').fetchall()
    assert len(rows) == 6
    assert rows[0][1] == "WS02.corp.example"
    assert rows[0][2] == ["C:\\Users\\bob\\Downloads\\ZoomInstallerFull.msi. Client Process Id: 5188."]  # values()
    assert con.execute("SELECT current_setting('enable_external_access')").fetchall() == [(True,)]  # not locked


def test_views_over_a_mapped_warehouse_table_give_the_same_hits(warehouse: Path) -> None:
    result = _cli("install", SEED, "--db", warehouse, "--table", "winlogbeat", "--mapping", "winlogbeat")
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(warehouse))
    mapped = con.execute(f"SELECT _time, host FROM {SEED_VIEW}").fetchall()
    con.close()
    assert _cli("install", SEED, "--db", warehouse).exit_code == 0  # replaces the view
    con = duckdb.connect(str(warehouse))
    native = con.execute(f"SELECT _time, host FROM {SEED_VIEW}").fetchall()
    assert _seed_hits(mapped) == _seed_hits(native) and len(native) == 6


def test_install_refuses_a_second_rule_with_the_same_view_name(tmp_path: Path) -> None:
    engine = Engine(duckdb.connect(str(tmp_path / "w.duckdb")))
    engine.con.execute("CREATE TABLE events (_time TIMESTAMP, _raw VARCHAR, host VARCHAR)")
    engine.con.execute("INSERT INTO events VALUES ('2024-01-01 00:00:00', 'boom here', 'h1')")
    rules = [Rule(id="a.b", title="first", logic="boom | table host"),
             Rule(id="A_B", title="second", logic="* | table _raw"),
             Rule(id="c", title="broken", logic="* | nosuchcommand")]
    results = [(rule.id, result) for rule, result in install_views(engine, rules)]
    assert results[0] == ("a.b", "detect_a_b")
    assert "view detect_a_b is already the view of rule a.b" in str(results[1][1])
    assert "command 'nosuchcommand' is not supported" in str(results[2][1])
    assert engine.con.execute("SELECT * FROM detect_a_b").fetchall() == [("h1",)]


@pytest.mark.parametrize(("rule_id", "name"), [
    ("1117.1196", "detect_1117_1196"),
    ("Abc-DEF 9", "detect_abc_def_9"),
    ("x'; DROP TABLE events; --", "detect_x_drop_table_events"),
    ('a"\nb', "detect_a_b"),
    ("...", "detect_rule"),
])
def test_view_names_are_slugs_of_the_rule_id(rule_id: str, name: str) -> None:
    assert view_name(rule_id) == name


def test_run_save_appends_hits_once(warehouse: Path) -> None:
    first = _cli("run", SEED, "--db", warehouse, "--save", "--format", "jsonl")
    assert first.exit_code == 0, first.output
    assert "saved 6 new hit(s)" in first.stderr
    again = _cli("run", SEED, "--db", warehouse, "--save", "--format", "jsonl")
    assert "saved 0 new hit(s)" in again.stderr
    con = duckdb.connect(str(warehouse))
    rows = con.execute("SELECT rule_id, title, technique_ids, run_time, event_time, host, row_json "
                       "FROM detections ORDER BY event_time").fetchall()
    assert len(rows) == 6
    rule_id, title, techniques, _run_time, event_time, host, row_json = rows[0]
    assert (rule_id, title, techniques) == ("1117.1196", "MSIExec Install MSI File", ["T1218.007"])
    assert str(event_time) == "2024-05-06 11:02:11" and host == "WS02.corp.example"
    row = json.loads(row_json)
    assert row["_time"] == "2024-05-06T11:02:11Z" and row["c_process"] == 1
    printed = [json.loads(line)["row"] for line in first.stdout.splitlines()]
    assert sorted(json.dumps(json.loads(r[6]), sort_keys=True) for r in rows) == sorted(
        json.dumps(r, sort_keys=True) for r in printed)


def test_save_hits_keys_a_hit_by_rule_and_row(tmp_path: Path) -> None:
    engine = load_native()
    report = engine.run([Rule(id="r1", title="t", logic="EventCode=4625 | stats count by host"),
                         Rule(id="r2", title="t", logic="EventCode=4625 | stats count by host")])
    assert save_hits(engine.con, report) == 2  # the same row of two rules is two hits
    assert save_hits(engine.con, report) == 0
    (count,), = engine.con.execute("SELECT count(*) FROM detections WHERE event_time IS NULL").fetchall()
    assert count == 2  # a stats row has no _time
    hosts = engine.run([Rule(id="r3", title="t", logic="EventCode=4625 OR EventCode=4624 | stats values(host) as host")])
    assert save_hits(engine.con, hosts) == 1
    assert engine.con.execute("SELECT host FROM detections WHERE rule_id = 'r3'").fetchall() == [
        ("SRV01.corp.example\nWS01.corp.example\nWS02.corp.example",)]


def test_save_needs_a_database() -> None:
    result = _cli("run", SEED, ROOT / "fixtures", "--save")
    assert result.exit_code != 0 and "--save needs --db" in result.output
