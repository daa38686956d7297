"""The seed rule (rules/msiexec_install_msi_file.yml) end to end over fixtures/msiinstaller.evtx, classic
rendering, and the rows worked out by hand from fixtures/src/msiinstaller.yaml.

How the expected rows follow from the events:
1. Stage 1 keeps MsiInstaller 1040 events: in the classic rendering `_raw` holds the line `EventCode=1040`
   (a whole token: TERM matches) and `SourceName=MsiInstaller` (`MsiInstaller` is an indexed minor token after
   `=`: TERM matches). 1033, 1042 and 11707 events have other EventCode lines. That leaves 8 events.
2. rex takes `process` from Message after "Beginning a Windows Installer transaction: ": the package path,
   then ". Client Process Id: <pid>." (the `.+` runs to the end of the message).
3. table/bin: `_time` floors to the second. WS01's Zoom and VC runtime transactions both start at
   2024-05-06 10:15:02, so after `stats values(*) as * by _time, host` that row's `process` holds two values.
4. eventstats dc(process) by process: that row's peers (rows sharing a process value) count 2 distinct
   processes, every other row 1. `where c_process < 2 and isnotnull(process)` drops the WS01 10:15:02 row.
   Six rows remain, in stats order (by _time, then host).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sqldetect.engine import Engine
from sqldetect.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent

EXPECTED = [
    ("2024-05-06T11:02:11Z", "WS02.corp.example", r"C:\Users\bob\Downloads\ZoomInstallerFull.msi", "5188"),
    ("2024-05-06T23:47:03Z", "SRV01.corp.example", "http://198.51.100.23/update/KB5034441.msi", "3188"),
    ("2024-05-07T08:30:00Z", "WS02.corp.example",
     r"C:\Users\bob\AppData\Local\Temp\7zS4A1C.tmp\GoogleChromeStandaloneEnterprise64.msi", "9316"),
    ("2024-05-07T09:12:45Z", "WS01.corp.example", r"\\fs01.corp.example\deploy\Office\OfficeProPlus_x64.msi", "4420"),
    ("2024-05-07T23:05:12Z", "SRV01.corp.example", r"C:\Windows\Temp\svc_update.msi", "2716"),
    ("2024-05-08T14:21:09Z", "WS02.corp.example", r"C:\Windows\Installer\5e7f21.msi", "8812"),
]


@pytest.fixture(scope="module")
def seed_rows() -> list[dict]:
    engine = Engine()
    engine.load([str(ROOT / "fixtures" / "msiinstaller.evtx")], raw_format="classic", progress=False)
    rule = load_rules(ROOT / "rules" / "msiexec_install_msi_file.yml").rules[0]
    outcome = engine.run_rule(rule)
    assert outcome.status == "ok", outcome.error
    return outcome.rows


def test_seed_rule_rows_match_the_hand_worked_answer(seed_rows: list[dict]) -> None:
    got = [(r["_time"], r["host"], r["process"], r["c_process"]) for r in seed_rows]
    want = [(t, h, f"{path}. Client Process Id: {pid}.", 1) for t, h, path, pid in EXPECTED]
    assert got == want


def test_seed_rule_keeps_the_table_fields(seed_rows: list[dict]) -> None:
    for row in seed_rows:
        assert str(row["signature_id"]) == "1040"
        assert set(row) <= {"_time", "host", "user", "signature_id", "process", "c_process"}


def test_same_second_transactions_are_dropped(seed_rows: list[dict]) -> None:
    assert not any(r["_time"] == "2024-05-06T10:15:02Z" for r in seed_rows)


def test_xml_rendering_does_not_fire() -> None:
    """In the XML rendering `_raw` has `<EventID Qualifiers='0'>1040</EventID>`: neither TERM(EventCode=1040)
    nor the phrase "<EventID>1040<" matches, so the rule (written for both renderings) finds nothing here."""
    engine = Engine()
    engine.load([str(ROOT / "fixtures" / "msiinstaller.evtx")], raw_format="xml", progress=False)
    rule = load_rules(ROOT / "rules" / "msiexec_install_msi_file.yml").rules[0]
    outcome = engine.run_rule(rule)
    assert outcome.status == "ok"
    assert outcome.rows == []
