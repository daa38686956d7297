"""Calculated fields over real loaded events: each family of fields (every Windows event, users and hosts,
processes, files and registry, services, DNS, event types), the fill-only rule, a user's file, errors that
name the file and field, and the CLI flags. Expected values are read off the fixture sources
(fixtures/src/*.yaml), not copied from sqldetect's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqldetect.calculated import CalculatedFieldError, calculated_fields, load_calculated
from sqldetect.engine import Engine
from tests.cli.helpers import cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"


@pytest.fixture(scope="module")
def engine() -> Engine:
    engine = Engine()
    engine.load([str(FIXTURES / name) for name in ("sysmon.evtx", "security.evtx", "system.evtx",
                                                   "powershell.evtx")])
    return engine


def rows(engine: Engine, spl: str) -> list[dict]:
    return engine.run_spl(spl).rows


def values(engine: Engine, spl: str, field: str) -> set:
    return {row[field] for row in rows(engine, spl) if row.get(field) is not None}


def test_dest_and_vendor_product_on_every_windows_event(engine: Engine) -> None:
    found = rows(engine, "Channel=\"Microsoft-Windows-Sysmon/Operational\" EventCode=1 | stats count by dest vendor_product")
    assert {(r["dest"], r["vendor_product"]) for r in found} == {("WS01.corp.example", "Microsoft Sysmon"),
                                                                  ("WS02.corp.example", "Microsoft Sysmon")}
    assert values(engine, "EventCode=7045 | stats count by dest", "dest") == {"SRV01.corp.example"}
    assert values(engine, "EventCode=4688 | stats count by vendor_product", "vendor_product") == \
        {"Microsoft Windows"}


def test_eventtype_is_multivalue_as_splunk_defines_it(engine: Engine) -> None:
    # the ESCU macro `wineventlog_system` is exactly this search: without eventtype every detection is silent
    assert values(engine, "eventtype=wineventlog_system | stats count by EventCode", "EventCode") == \
        {104, 7036, 7045}
    types = rows(engine, "EventCode=4624 | head 1 | table eventtype")[0]["eventtype"]
    assert set(types) == {"wineventlog_security", "wineventlog_windows", "winsec", "windows_logon_success"}
    assert rows(engine, "Channel=\"Microsoft-Windows-Sysmon/Operational\" | where isnotnull(eventtype) | stats count")[0]["count"] == 0


def test_processes_from_sysmon_and_security(engine: Engine) -> None:
    sysmon = rows(engine, 'Channel=\"Microsoft-Windows-Sysmon/Operational\" EventCode=1 process_name=certutil.exe '
                          '| table process_name process_path parent_process_name user process_id')
    assert sysmon and all(r["process_path"].lower().endswith("\\certutil.exe") for r in sysmon)
    security = rows(engine, "EventCode=4688 process_name=certutil.exe | table process_name process_path user "
                            "process_id")
    assert security and all(r["process_path"].lower().endswith("\\certutil.exe") for r in security)
    assert all("\\" in r["user"] for r in security)  # DOMAIN\name, as the Endpoint data model gives it
    assert all(r["process_id"].isdigit() for r in security)  # hexadecimal in the event, decimal here


def test_logon_fields(engine: Engine) -> None:
    failed = rows(engine, "EventCode=4625 user=administrator | stats count by user src_ip action Logon_Type "
                          "signature")
    assert [(r["user"], r["src_ip"], r["action"], r["Logon_Type"]) for r in failed] == \
        [("administrator", "203.0.113.77", "failure", "3")]
    assert failed[0]["signature"] == "An account failed to log on" and failed[0]["count"] == 12
    assert "success" in values(engine, "EventCode=4624 | stats count by action", "action")


def test_services_network_registry_dns(engine: Engine) -> None:
    services = values(engine, "EventCode=7045 | stats count by service_name", "service_name")
    assert {"PSEXESVC", "WinSvcUpdate"} <= services
    assert values(engine, "Channel=\"Microsoft-Windows-Sysmon/Operational\" EventCode=3 | stats count by dest_ip dest_port", "dest_port") >= {"443"}
    assert values(engine, "Channel=\"Microsoft-Windows-Sysmon/Operational\" EventCode=13 | stats count by registry_path", "registry_path")
    assert values(engine, "Channel=\"Microsoft-Windows-Sysmon/Operational\" EventCode=22 | stats count by query", "query")


def test_powershell_user_id_is_the_system_user_sid(engine: Engine) -> None:
    found = rows(engine, "Channel=\"Microsoft-Windows-PowerShell/Operational\" EventCode=4104 | stats count by dest user_id signature")
    assert found and all(r["user_id"].startswith("S-1-5-") for r in found)


def test_event_data_xml_is_the_event_data_element_of_the_xml_raw(engine: Engine) -> None:
    # The fixture's 4688 vssadmin event (fixtures/src/security.yaml): its EventData as _raw shows it.
    (row,) = rows(engine, 'EventCode=4688 CommandLine="vssadmin.exe delete shadows*" | table EventData_Xml _raw')
    xml = row["EventData_Xml"]
    assert xml.startswith("<Data Name='SubjectUserSid'>") and xml.endswith("</Data>")
    assert f"<EventData>{xml}</EventData>" in row["_raw"]
    assert "<Data Name='CommandLine'>vssadmin.exe delete shadows /all /quiet</Data>" in xml
    # The add-on extracts it from XML events only: the classic rendering has no EventData_Xml.
    classic = Engine()
    classic.load([str(FIXTURES / "security.evtx")], raw_format="classic")
    assert values(classic, "EventCode=4688 | table EventData_Xml", "EventData_Xml") == set()


def test_only_fields_the_rule_names_are_computed(engine: Engine) -> None:
    sql = engine.compile_spl("EventCode=4688 | stats count by dest").sql()
    assert "-- derived fields: dest\n" in sql
    assert '"s0_source"' not in engine.compile_spl("EventCode=4688 | stats count by host").sql()
    # a field the rule assigns before anything reads it hides the calculated one: not computed
    assert '"s0_source"' not in engine.compile_spl("EventCode=4688 | eval dest=host | table dest").sql()


def test_a_stored_value_wins_and_a_missing_one_is_filled(tmp_path: Path) -> None:
    events = tmp_path / "events.ndjson"
    lines = [{"_time": "2024-05-06T10:00:00Z", "source": "XmlWinEventLog:Security", "Channel": "Security",
              "EventCode": 4624, "Computer": "WS01", "dest": "given.example"},
             {"_time": "2024-05-06T10:00:01Z", "source": "XmlWinEventLog:Security", "Channel": "Security",
              "EventCode": 4624, "Computer": "WS02"}]
    events.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    with Engine() as engine:
        engine.load([str(events)])
        assert values(engine, "* | stats count by dest", "dest") == {"given.example", "WS02"}
    with Engine(calculated=False) as engine:
        engine.load([str(events)])
        assert values(engine, "* | stats count by dest", "dest") == {"given.example"}


def test_a_users_file_goes_before_the_shipped_definitions(tmp_path: Path, engine: Engine) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("sources:\n  srv: 'Computer=SRV01*'\n"
                    "fields:\n  dest:\n    values:\n      - {source: srv, eval: '\"server-01\"'}\n"
                    "  tier: '\"gold\"'\n", encoding="utf-8")
    names = [f.name for f in calculated_fields([mine])]
    assert "tier" in names and "dest" in names
    with Engine(calculated_files=[mine]) as custom:
        custom.load([str(FIXTURES / "system.evtx")])
        assert values(custom, "* | stats count by dest", "dest") == {"server-01", "WS01.corp.example"}
        assert values(custom, "* | stats count by tier", "tier") == {"gold"}
    with Engine(calculated=False, calculated_files=[mine]) as only_mine:
        only_mine.load([str(FIXTURES / "system.evtx")])
        assert values(only_mine, "* | stats count by dest", "dest") == {"server-01"}


@pytest.mark.parametrize(("text", "message"), [
    ("fields:\n  x: {values: [{source: nowhere, eval: '1'}]}\n", "field 'x', value 1: unknown source 'nowhere'"),
    ("fields:\n  x: 'replace(a, '\n", "field 'x': not an SPL eval expression"),
    ("fields:\n  x: [{datamodel: Endpoint.Nope}]\n", "field 'x', value 1: no data set 'Endpoint.Nope'"),
    ("fields:\n  x: [{datamodel: Endpoint.Processes}]\n", "data set 'Endpoint.Processes' has no field 'x'"),
    ("fields:\n  x: [{eval: '1', datamodel: Endpoint.Processes}]\n", "give exactly one of eval or datamodel"),
    ("fields:\n  x: {values: [], colour: red}\n", "field 'x': unknown key(s) colour"),
    ("eventtypes:\n  a: 'eventtype=b'\n", "event type 'a' names event type 'b', which is not defined before it"),
    ("colour: red\n", "unknown key(s) colour"),
    ("fields: [\n", "not valid YAML"),
])
def test_errors_name_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalculatedFieldError) as caught:
        load_calculated([path])
    assert message in caught.value.message and str(path) in caught.value.headline()


def test_shipped_file_loads_and_shares_the_data_model_expressions() -> None:
    loaded = load_calculated()
    process_name = loaded.fields["process_name"].definitions
    # the first definitions are the Endpoint.Processes branches, with their constraints
    assert "EventCode=1" in (process_name[0].search or "") and "Image" in process_name[0].eval
    assert "EventCode=4688" in (process_name[1].search or "") and "NewProcessName" in process_name[1].eval


def test_cli_flags(tmp_path: Path) -> None:
    spl = "EventCode=7045 | stats count by dest"
    on = cli("run", "--spl", spl, str(FIXTURES / "system.evtx"), "--format", "jsonl", "--no-summary")
    assert on.exit_code == 0, on.output
    assert [json.loads(line)["dest"] for line in on.stdout.splitlines()] == ["SRV01.corp.example"]
    off = cli("run", "--spl", spl, str(FIXTURES / "system.evtx"), "--format", "jsonl", "--no-summary",
              "--no-calculated")
    assert off.exit_code == 0 and off.stdout.strip() == ""  # dest is null: stats by dest drops every row
    mine = tmp_path / "mine.yaml"
    mine.write_text("fields:\n  dest: '\"everywhere\"'\n", encoding="utf-8")
    sql = cli("sql", "--spl", spl, "--calculated", str(mine))
    assert sql.exit_code == 0 and "'everywhere'" in sql.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("fields:\n  dest: [{source: nowhere, eval: '1'}]\n", encoding="utf-8")
    refused = cli("validate", str(ROOT / "rules"), "--calculated", str(bad))
    assert refused.exit_code == 1 and "unknown source 'nowhere'" in refused.stderr
