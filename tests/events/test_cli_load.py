"""``sqldetect load`` on the command line: report, exit codes, errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from click.testing import CliRunner

from sqldetect.cli import main
from tests.events.records import MSI_1040, winlogbeat_line


def test_load_appends_and_prints_the_report(tmp_path: Path) -> None:
    events = tmp_path / "e.ndjson"
    events.write_text(winlogbeat_line(MSI_1040) + "\n{broken\n")
    db = tmp_path / "x.duckdb"
    runner = CliRunner()
    result = runner.invoke(main, ["load", str(events), "--db", str(db), "--raw-format", "classic", "--index", "lab"])
    assert result.exit_code == 0, result.output
    assert "1 loaded" in result.output and "line 2: malformed JSON" in result.output
    again = runner.invoke(main, ["load", str(events), "--db", str(db), "--raw-format", "classic", "--index", "lab"])
    assert "0 loaded, 1 duplicates" in again.output
    con = duckdb.connect(str(db))
    assert con.execute('SELECT sourcetype, "index", EventCode FROM events').fetchall() == [("WinEventLog", "lab", 1040)]


def test_load_errors_are_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["load", str(tmp_path / "nope.evtx"), "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 1
    assert "no such file or directory" in result.output and "Traceback" not in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("[1, 2]")
    events = tmp_path / "e.json"
    events.write_text(json.dumps({"_time": 1}))
    result = CliRunner().invoke(main, ["load", str(events), "--db", str(tmp_path / "y.duckdb"), "--messages", str(bad)])
    assert result.exit_code == 1 and "bad.yaml" in result.output


def test_load_help_lists_options() -> None:
    result = CliRunner().invoke(main, ["load", "--help"])
    assert result.exit_code == 0
    for option in ("--db", "--table", "--parser", "--raw-format", "--index", "--messages"):
        assert option in result.output
