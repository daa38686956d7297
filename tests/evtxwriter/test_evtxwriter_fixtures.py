"""The committed fixtures: up to date with their sources, readable by both parsers, and holding the cases
their README promises (the rule tests of other parts of the project rely on these)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from Evtx.Evtx import Evtx
from evtxwriter_readback import EVENT_NS, read_python_evtx, read_rust_xml

from sqldetect.evtxwriter.fixtures import FixtureError, generate, message_fields, schema_ordered, stale
from sqldetect.evtxwriter.inputs import read_events

EVTX_FIXTURES = ["msiinstaller", "security", "sysmon", "system", "powershell"]


@pytest.fixture(scope="module")
def fixtures_dir(project_root: Path) -> Path:
    return project_root / "fixtures"


@pytest.fixture(scope="module")
def records(fixtures_dir: Path) -> dict[str, list[dict]]:
    return {name: read_rust_xml(fixtures_dir / f"{name}.evtx") for name in EVTX_FIXTURES}


def test_committed_fixtures_are_up_to_date(fixtures_dir: Path) -> None:
    assert stale(fixtures_dir) == [], "run: python -m sqldetect.evtxwriter.fixtures"


def test_generation_is_byte_identical(fixtures_dir: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    generate(fixtures_dir, first)
    generate(fixtures_dir, second)
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


@pytest.mark.parametrize("name", EVTX_FIXTURES)
def test_both_parsers_read_every_record(fixtures_dir: Path, records: dict, name: str) -> None:
    source_count = sum(1 for _ in read_events(fixtures_dir / "src" / f"{name}.yaml"))
    assert len(records[name]) == source_count
    legacy = read_python_evtx(fixtures_dir / f"{name}.evtx")
    assert [r["record_id"] for r in legacy] == [r["record_id"] for r in records[name]]
    assert [r["data"] for r in legacy] == [r["data"] for r in records[name]]
    with Evtx(str(fixtures_dir / f"{name}.evtx")) as log:
        assert log.get_file_header().verify()
        assert all(chunk.verify() for chunk in log.chunks())


def test_named_data_follows_the_message_templates(records: dict) -> None:
    fields = message_fields()
    checked = 0
    for name, recs in records.items():
        for record in recs:
            expected = fields.get((record["provider"], record["event_id"]))
            if expected is None or record["data"] is None:
                continue
            assert [field for field, _ in record["data"]] == expected, (name, record["event_id"])
            checked += 1
    assert checked > 50


def test_times_increase_within_each_file(records: dict) -> None:
    for name, recs in records.items():
        times = [r["time"] for r in recs]
        assert times == sorted(times), name
        ids = [r["record_id"] for r in recs]
        assert ids == list(range(ids[0], ids[0] + len(ids))), name


def test_msiinstaller_cases_for_the_seed_rule(records: dict) -> None:
    starts = [r for r in records["msiinstaller"] if r["event_id"] == 1040]
    assert all(r["provider"] == "MsiInstaller" and r["channel"] == "Application" for r in starts)
    assert all(r["qualifiers"] == 0 and len(r["data"]) == 2 and r["data"][0][0] is None for r in starts)
    assert {r["computer"] for r in starts} == {"WS01.corp.example", "WS02.corp.example", "SRV01.corp.example"}
    by_second = defaultdict(set)
    for r in starts:
        by_second[(r["computer"], r["time"] // 10_000_000)].add(r["data"][0][1])
    assert any(len(packages) >= 2 for packages in by_second.values()), "two 1040s on one host in one second"
    hosts_per_package = defaultdict(set)
    for r in starts:
        hosts_per_package[r["data"][0][1].rsplit("\\", 1)[-1]].add(r["computer"])
    assert any(len(hosts) >= 2 for hosts in hosts_per_package.values()), "one package on two hosts"
    assert {r["event_id"] for r in records["msiinstaller"]} >= {1040, 1042, 1033, 11707}


def test_security_cases(records: dict) -> None:
    recs = records["security"]
    command_lines = [dict(r["data"])["CommandLine"] for r in recs if r["event_id"] == 4688]
    for pattern in [r"-Enc\s+[A-Za-z0-9+/=]{40,}", r"certutil.*-urlcache", r"regsvr32.*/i:http", r"rundll32.*javascript:",
                    r"mshta(\.exe)?\s+http", r"msiexec(\.exe)?\s+/q\s+/i\s+http"]:
        assert any(re.search(pattern, line, re.IGNORECASE) for line in command_lines), pattern
    failures = [r for r in recs if r["event_id"] == 4625]
    sources = Counter(dict(r["data"])["IpAddress"] for r in failures)
    ip, count = sources.most_common(1)[0]
    assert count >= 10
    burst = [r["time"] for r in failures if dict(r["data"])["IpAddress"] == ip]
    assert (max(burst) - min(burst)) / 10_000_000 < 60
    assert any(r["event_id"] == 4624 and dict(r["data"])["IpAddress"] == ip for r in recs), "the guess that worked"
    assert {4624, 4625, 4688, 4720, 4732, 4698, 1102} <= {r["event_id"] for r in recs}
    cleared = next(r for r in recs if r["event_id"] == 1102)
    assert cleared["provider"] == "Microsoft-Windows-Eventlog" and cleared["user_data"][0]["name"] == "LogFileCleared"


def test_sysmon_system_powershell_cases(records: dict) -> None:
    assert {r["event_id"] for r in records["sysmon"]} == {1, 3, 11, 13, 22}
    images = [dict(r["data"])["Image"] for r in records["sysmon"] if r["event_id"] == 1]
    assert len(images) >= 6 and any("notepad" in i for i in images) and any("rundll32" in i for i in images)
    assert {r["event_id"] for r in records["system"]} == {7036, 7045, 104}
    services = [dict(r["data"])["ImagePath"] for r in records["system"] if r["event_id"] == 7045]
    assert any(r"\\.\pipe" in path for path in services) and any("Temp" in path for path in services)
    blocks = [dict(r["data"])["ScriptBlockText"] for r in records["powershell"]]
    assert sum("AmsiUtils" in block for block in blocks) == 1 and len(blocks) >= 4


def test_json_fixtures_hold_the_same_events(fixtures_dir: Path) -> None:
    lines = (fixtures_dir / "events.ndjson").read_text(encoding="utf-8").splitlines()
    as_array = json.loads((fixtures_dir / "events.json").read_text(encoding="utf-8"))
    assert [json.loads(line) for line in lines] == as_array
    assert len(as_array) >= 10
    assert any("@timestamp" in event and "winlog" in event for event in as_array)
    assert any("_time" in event and "EventCode" in event for event in as_array)
    generic = [e for e in as_array if "time" in e]
    assert any(isinstance(e.get("latency_ms"), float) for e in generic)
    for event in as_array:
        stamp = event.get("_time") or event.get("@timestamp") or event.get("time")
        assert datetime.fromisoformat(stamp).year == 2024


def test_schema_ordering_rejects_missing_and_unknown_fields() -> None:
    fields = {("P", 1): ["A", "B", "C"]}
    ordered = schema_ordered({"provider": "P", "event_id": 1, "data": {"C": 3, "A": 1, "B": 2}}, fields)
    assert list(ordered["data"]) == ["A", "B", "C"]
    with pytest.raises(ValueError, match=r"missing \['B'\], unexpected \['D'\]"):
        schema_ordered({"provider": "P", "event_id": 1, "data": {"A": 1, "C": 3, "D": 4}}, fields)
    unknown = {"provider": "Q", "event_id": 1, "data": {"Z": 1}}
    assert schema_ordered(unknown, fields) is unknown


def test_bad_fixture_source_names_file_event_and_field(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bad.yaml").write_text(
        "- {provider: MsiInstaller, channel: Application, event_id: 1040, computer: H, time: '2024-01-01T00:00:00Z'}\n"
        "- {provider: MsiInstaller, channel: Application, event_id: 1040, computer: H, time: nope}\n"
    )
    with pytest.raises(FixtureError, match=r"bad.yaml: event #2, line 2, field 'time'"):
        generate(tmp_path)
    assert not (tmp_path / "bad.evtx").exists()


def test_fixture_xml_is_what_windows_would_show(fixtures_dir: Path) -> None:
    """One full record through the evtx package, as a reader will see it."""
    import evtx

    record = next(iter(evtx.PyEvtxParser(str(fixtures_dir / "msiinstaller.evtx"), validate_checksums=True).records()))
    root = ET.fromstring(record["data"])
    system = root.find(f"{{{EVENT_NS}}}System")
    assert system.find(f"{{{EVENT_NS}}}Provider").attrib["Name"] == "MsiInstaller"
    assert system.find(f"{{{EVENT_NS}}}EventID").attrib == {"Qualifiers": "0"}
    assert system.find(f"{{{EVENT_NS}}}EventRecordID").text == "48210"
    data = [d.text for d in root.find(f"{{{EVENT_NS}}}EventData")]
    assert data == ["C:\\Users\\alice\\Downloads\\ZoomInstallerFull.msi", "6412"]
